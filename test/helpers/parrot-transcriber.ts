/**
 * A Transcriber that says the same words for any audio: for streamer tests that are about
 * buffers, cuts and retention, not about what Whisper hears.
 */
import type { Transcriber } from "../../src/core/asr/streamer";
import type { DecodeOptions, DecodeResult } from "../../src/core/asr/engines/whisper/whisper-model";

export class Parrot implements Transcriber {
  readonly sampleRate = 16000;
  readonly windowSeconds = 30;
  async decode(_audio: Float32Array, _options: DecodeOptions): Promise<DecodeResult> {
    const text = "one two three";
    return { text, segments: [{ start: 0, end: undefined, text }], language: "en", tokens: [], avg_logprob: -0.1, no_speech_prob: 0, compression_ratio: 1, temperature: 0 };
  }
}
