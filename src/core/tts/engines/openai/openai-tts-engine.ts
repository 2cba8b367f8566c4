/**
 * The tts engine of an OpenAI-compatible speech server (speaches, Kokoro-FastAPI, OpenAI):
 * spans from the sentence splitter as with every engine, one `/audio/speech` request per
 * span (`model`, `input`, `voice`, `response_format: "pcm"`, `speed`), the 24 kHz s16le body
 * emitted as it arrives (a WAV body is read too), resampled to sample_rate_out when set.
 * Settings from the model config: `model` (server model), `voice`, `speed`, `sample_rate`
 * (the server's PCM rate when it is not 24000).
 */
import type { TtsEngine, TtsStreamConfig, TtsStreamer } from "../../../types";
import { configuredSpanStreamer } from "../../configured-span-streamer";
import { resolveStreamConfig } from "../../stream-config";
import { OpenAiHttpClient } from "../../../openai/http-client";
import type { OpenAiEndpoint } from "../../../openai/endpoint";
import { RemoteSpeechPipeline } from "./speech-pipeline";

/** OpenAI's raw PCM rate. */
export const OPENAI_PCM_RATE = 24000;
/** OpenAI's first voice; servers with other names need the voice set. */
export const OPENAI_DEFAULT_VOICE = "alloy";

export interface OpenAiTtsSettings {
  voice?: string;
  speed?: number;
  pcmRate?: number;
}

export class OpenAiTtsEngine implements TtsEngine {
  readonly kind = "tts" as const;
  /** The configured voice; the server may have others (any name is passed through). */
  readonly voices: string[];
  private readonly client: OpenAiHttpClient;

  constructor(readonly endpoint: OpenAiEndpoint, private readonly settings: OpenAiTtsSettings = {}) {
    this.client = new OpenAiHttpClient(endpoint);
    this.voices = settings.voice ? [settings.voice] : [];
    if (settings.speed !== undefined && (!Number.isFinite(settings.speed) || settings.speed <= 0)) {
      throw new Error(`speed must be a number above 0 (1 is normal), got ${settings.speed}`);
    }
  }

  openStreamer(options: Partial<TtsStreamConfig> & { speed?: number } = {}): TtsStreamer {
    // No voice list to check against: the server knows its voices and answers 4xx for others.
    const config = resolveStreamConfig(options, [], this.settings.voice ?? OPENAI_DEFAULT_VOICE);
    const pipeline = new RemoteSpeechPipeline(this.client, {
      model: this.endpoint.model,
      voice: config.voice ?? OPENAI_DEFAULT_VOICE,
      speed: options.speed ?? this.settings.speed,
      pcmRate: this.settings.pcmRate ?? OPENAI_PCM_RATE,
    });
    return configuredSpanStreamer(pipeline, config);
  }

  /** Closes every connection, in flight ones too: open streams end with an error naming the server. */
  async dispose(): Promise<void> {
    this.client.destroy();
  }
}
