/** The asr family's engine: a loaded Whisper behind the AsrEngine interface (streamers and one-shot decodes). */
import type { AsrEngine, AsrStreamConfig } from "../../../types";
import { resolveGuards, type GuardSettings } from "./guards";
import { WhisperStreamer, type StreamerOptions } from "../../streamer";
import type { LoadedWhisper } from "./whisper-model";

/** Guard settings a model config (the voice-model's extra config) may hold. */
const GUARD_KEYS = ["compression_ratio_threshold", "logprob_threshold", "no_speech_threshold", "temperatures"] as const;

/** The guard settings in a model config, checked (a bad one fails the load, naming the setting). */
export function guardDefaults(config: Record<string, unknown> | undefined): GuardSettings {
  const picked: Record<string, unknown> = {};
  for (const key of GUARD_KEYS) if (config && key in config) picked[key] = config[key];
  try {
    resolveGuards(picked as GuardSettings);
  } catch (err) {
    throw new Error(`the asr model's config: ${(err as Error).message}`);
  }
  return picked as GuardSettings;
}

export class WhisperEngine implements AsrEngine {
  readonly kind = "asr" as const;

  get sampleRate(): number {
    return this.model.sampleRate;
  }

  constructor(
    readonly model: LoadedWhisper,
    private readonly release: () => Promise<void> = async () => {},
    /** Guard settings of every stream that does not set its own (from the model config). */
    private readonly guardSettings: GuardSettings = {},
  ) {}

  openStreamer(config: AsrStreamConfig & StreamerOptions = {}): WhisperStreamer {
    const language = config.language;
    if (language && language !== "auto" && this.model.settings.isMultilingual && !this.model.languageCodes().includes(language.toLowerCase())) {
      throw new Error(`language '${language}' is not one this model knows; use one of ${this.model.languageCodes().join(", ")} or "auto"`);
    }
    const own = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
    return new WhisperStreamer(this.model, { ...this.guardSettings, ...own });
  }

  async transcribe(
    audio: Float32Array,
    options: { language?: string; prompt?: string } & GuardSettings & { seed?: number } = {},
  ): Promise<{ text: string; language: string; rejected?: string }> {
    const seconds = audio.length / this.model.sampleRate;
    if (seconds > this.model.windowSeconds) {
      throw new Error(`transcribe() takes at most ${this.model.windowSeconds} s of audio (got ${seconds.toFixed(1)} s); use openStreamer() for longer audio`);
    }
    const { guards, temperatures } = resolveGuards({ ...this.guardSettings, ...options });
    const result = await this.model.decode(audio, { language: options.language ?? "auto", prompt: options.prompt, guards, temperatures, seed: options.seed });
    return result.rejected ? { text: "", language: result.language, rejected: result.rejected } : { text: result.text, language: result.language };
  }

  dispose(): Promise<void> {
    return this.release();
  }
}
