/**
 * The asr engine of an OpenAI-compatible transcription server (speaches, faster-whisper
 * servers, OpenAI): streamers send a WAV per flush and at finish (RemoteAsrStreamer);
 * transcribe() is one request. Settings from the model config: `model` (server model),
 * `stream` (false: never ask for a streamed transcript).
 */
import type { AsrEngine, AsrStreamer } from "../../../types";
import { OpenAiHttpClient } from "../../../openai/http-client";
import type { OpenAiEndpoint } from "../../../openai/endpoint";
import { REMOTE_ASR_RATE, RemoteAsrStreamer, type RemoteAsrStreamConfig } from "./remote-asr-streamer";
import { transcribeRemote } from "./transcription-request";

export class OpenAiAsrEngine implements AsrEngine {
  readonly kind = "asr" as const;
  /** Frames go in at this rate (the nodes resample to it). */
  readonly sampleRate = REMOTE_ASR_RATE;
  private readonly client: OpenAiHttpClient;

  constructor(readonly endpoint: OpenAiEndpoint, private readonly stream = true) {
    this.client = new OpenAiHttpClient(endpoint);
  }

  openStreamer(config: RemoteAsrStreamConfig = {}): AsrStreamer {
    return new RemoteAsrStreamer(this.client, { model: this.endpoint.model, stream: this.stream }, config);
  }

  async transcribe(audio: Float32Array, options: { language?: string; prompt?: string } = {}): Promise<{ text: string; language: string }> {
    const result = await transcribeRemote(this.client, audio, REMOTE_ASR_RATE, { model: this.endpoint.model, language: options.language, prompt: options.prompt, stream: false });
    return { text: result.text, language: result.language ?? options.language ?? "" };
  }

  async dispose(): Promise<void> {
    this.client.destroy();
  }
}
