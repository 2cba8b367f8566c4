/**
 * One WAV file per stream. The path comes from a template with {stream_id} and {time};
 * each file is valid after every write and is completed when its stream drains or stops.
 */
import * as fs from "fs";
import * as path from "path";
import { WavFileWriter } from "../wav";
import type { AudioSink } from "../sink";

/** Characters that cannot be part of a file name on common systems. */
const UNSAFE = /[^A-Za-z0-9._-]/g;

export function expandPathTemplate(template: string, streamId: string, when = new Date()): string {
  const time = when.toISOString().replace(/[:.]/g, "-");
  return template.replace(/\{stream_id\}/g, streamId.replace(UNSAFE, "_")).replace(/\{time\}/g, time);
}

export class FileSink implements AudioSink {
  readonly name = "file";
  private writers = new Map<string, WavFileWriter>();
  /** Paths written so far, by stream, in order (for status and tests). */
  readonly files: { streamId: string; path: string }[] = [];

  constructor(readonly template: string, readonly sampleRate?: number) {
    if (typeof template !== "string" || template.trim() === "") throw new Error("the file sink needs a path, e.g. recordings/voice-{stream_id}.wav");
  }

  write(samples: Float32Array, sampleRate: number, streamId: string): void {
    let writer = this.writers.get(streamId);
    if (!writer) {
      const file = expandPathTemplate(this.template, streamId);
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      writer = new WavFileWriter(file, sampleRate);
      this.writers.set(streamId, writer);
      this.files.push({ streamId, path: file });
    }
    writer.write(samples);
  }

  endStream(streamId: string): void {
    this.writers.get(streamId)?.close();
    this.writers.delete(streamId);
  }

  stop(): void {
    for (const id of [...this.writers.keys()]) this.endStream(id);
  }

  async close(): Promise<void> {
    this.stop();
  }
}
