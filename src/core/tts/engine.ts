/** The tts family's interface: what every TTS engine (codec, piper, espeak, remote) offers the nodes and the CLI. */
import type { Observable } from "rxjs";
import type { LoadedModel, TtsStreamChunk } from "../types";
import type { ChunkingConfig } from "./chunking";

/** A stream's settings. The chunking fields (chunking.ts) matter to the codec engine only; unset ones take their defaults. */
export interface TtsStreamConfig extends Partial<ChunkingConfig> {
  voice?: string;
  sample_rate_out?: number;
  /** The first span ends at its first clause or after this many words, for an earlier first audio (0: off). */
  first_span_words?: number;
  seed?: number;
  /** Speaking rate for engines that take one (kokoro), within TTS_SPEED_RANGE; 1 is normal. */
  speed?: number;
}

/** The speaking rates `speed` may take (Kokoro's model accepts this range). */
export const TTS_SPEED_RANGE = [0.25, 4] as const;

export interface TtsStreamer {
  /** Buffers until the first subscriber, so no chunk is lost. Ends with exactly one is_final chunk. */
  readonly output$: Observable<TtsStreamChunk>;
  send(text: string): void;
  flush(): void;
  finish(): void;
  cancel(): void;
}

export interface TtsEngine extends LoadedModel {
  readonly kind: "tts";
  readonly voices: string[];
  openStreamer(config: Partial<TtsStreamConfig>): TtsStreamer;
}
