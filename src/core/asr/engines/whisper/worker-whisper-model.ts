/**
 * The main-thread side of a Whisper model that runs in a worker thread (whisper-worker.ts): it
 * offers what the engine and the streamers use of a WhisperModel, so onnxruntime's synchronous
 * runs (the encoder alone takes up to a second on whisper-base) no longer stall the event loop
 * that the VAD, the flows and the editor share. The shared ModelWorkerClient does the plumbing
 * (a dead worker fails every pending and later decode with an error naming the model; release
 * never terminates a worker inside a run); this adds the decode call.
 */
import * as path from "path";
import type { LoadContext } from "../../../types";
import { ModelWorkerClient } from "../../../onnx/worker/model-worker-client";
import type { WhisperSettings } from "./whisper-config";
import type { DecodeOptions, DecodeResult, LoadedWhisper } from "./whisper-model";
import type { WhisperCall, WhisperInfo, WhisperReply } from "./worker-protocol";

export class WorkerWhisperModel implements LoadedWhisper {
  private constructor(
    private readonly client: ModelWorkerClient<WhisperCall, WhisperReply>,
    readonly settings: WhisperSettings,
    readonly sampleRate: number,
    readonly windowSeconds: number,
  ) {}

  /** Starts a worker that loads the model `ctx` names; rejects with the loader's own message when the load fails. */
  static async start(ctx: LoadContext): Promise<WorkerWhisperModel> {
    const modelId = ctx.source.id;
    const { client, info } = await ModelWorkerClient.start<WhisperInfo, WhisperCall, WhisperReply>(ctx, {
      script: path.join(__dirname, "whisper-worker.js"),
      name: `the Whisper worker of model '${modelId}'`,
      released: () => new Error(`the Whisper model '${modelId}' was released`),
      extra: undefined,
    });
    return new WorkerWhisperModel(client, info.settings, info.sampleRate, info.windowSeconds);
  }

  languageCodes(): string[] {
    return [...this.settings.tokens.languages.keys()];
  }

  decode(audio: Float32Array, options: DecodeOptions = {}): Promise<DecodeResult> {
    const { signal, ...rest } = options;
    if (signal?.aborted) return Promise.reject(new Error("the decode was aborted"));
    const copy = audio.slice();
    return this.client.call({ audio: copy, options: rest }, { signal, transfer: [copy.buffer as ArrayBuffer] });
  }

  /** Aborts pending decodes, lets the worker release its sessions, and ends it. */
  release(): Promise<void> {
    return this.client.release();
  }
}
