/** The asr family's engine: a loaded Whisper behind the AsrEngine interface (streamers and one-shot decodes). */
import type { AsrEngine, AsrStreamConfig } from "../../../types";
import { WhisperStreamer, type StreamerOptions } from "../../streamer";
import type { WhisperModel } from "./whisper-model";

export class WhisperEngine implements AsrEngine {
  readonly kind = "asr" as const;

  get sampleRate(): number {
    return this.model.sampleRate;
  }

  constructor(readonly model: WhisperModel, private readonly release: () => Promise<void> = async () => {}) {}

  openStreamer(config: AsrStreamConfig & StreamerOptions = {}): WhisperStreamer {
    const language = config.language;
    if (language && language !== "auto" && this.model.settings.isMultilingual && !this.model.languageCodes().includes(language.toLowerCase())) {
      throw new Error(`language '${language}' is not one this model knows; use one of ${this.model.languageCodes().join(", ")} or "auto"`);
    }
    return new WhisperStreamer(this.model, config);
  }

  async transcribe(audio: Float32Array, options: { language?: string; prompt?: string } = {}): Promise<{ text: string; language: string; rejected?: string }> {
    const seconds = audio.length / this.model.sampleRate;
    if (seconds > this.model.windowSeconds) {
      throw new Error(`transcribe() takes at most ${this.model.windowSeconds} s of audio (got ${seconds.toFixed(1)} s); use openStreamer() for longer audio`);
    }
    const result = await this.model.decode(audio, { language: options.language ?? "auto", prompt: options.prompt });
    return result.rejected ? { text: "", language: result.language, rejected: result.rejected } : { text: result.text, language: result.language };
  }

  dispose(): Promise<void> {
    return this.release();
  }
}
