/** Plays into nothing: the player still paces by its clock, so drains take the audio's real duration. */
import type { AudioSink } from "../sink";

export class NullSink implements AudioSink {
  readonly name = "null";
  samplesWritten = 0;

  constructor(readonly sampleRate?: number) {}

  write(samples: Float32Array): void {
    this.samplesWritten += samples.length;
  }

  async close(): Promise<void> {}
}
