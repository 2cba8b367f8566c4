/**
 * The "espeak" engine: eSpeak NG formant speech, span by span, resampled to sample_rate_out
 * (24000 Hz unless set). Needs no model files: robotic, but instant and always available.
 */
import type { TtsEngine, TtsStreamConfig, TtsStreamer } from "../../../types";
import { espeakSpeak, espeakVoices, isEspeakVoice } from "../../espeak";
import { configuredSpanStreamer } from "../../configured-span-streamer";
import { resolveStreamConfig } from "../../stream-config";
import { WholeSpanPipeline } from "../../whole-span-pipeline";

export const ESPEAK_DEFAULT_VOICE = "en-us";
export const ESPEAK_DEFAULT_RATE = 24000;
/** espeak-ng's own output rate. */
const ESPEAK_RATE = 22050;

/** espeak voice names: a language code, optional region/variant ("en-us", "en+f3"); nothing that could be an option. */
const VOICE_NAME = /^[a-z]{2,3}(?:[-_][a-z0-9-]+)?(?:\+[a-z0-9]+)?$/i;

/** Common voices, for when espeak-ng's own list is not known. */
const COMMON_VOICES = ["en-us", "en-gb", "en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "cmn", "ja"];

export class EspeakEngine implements TtsEngine {
  readonly kind = "tts" as const;
  /** espeak-ng's voices when listed (`known`), else common ones; any listed voice takes a variant ("en+f3"). */
  readonly voices: string[];

  /** The engine with espeak-ng's own voice list, so unknown voices fail at once, listing the ones there are. */
  static async load(configured?: string): Promise<EspeakEngine> {
    const known = await espeakVoices();
    if (configured !== undefined && VOICE_NAME.test(configured) && !isEspeakVoice(configured, known)) {
      throw new Error(`voice '${configured}' set on the voice-model is not an espeak-ng voice; it has: ${known.join(", ")}`);
    }
    return new EspeakEngine(configured, known);
  }

  constructor(private readonly defaultVoice = ESPEAK_DEFAULT_VOICE, private readonly known?: readonly string[]) {
    if (!VOICE_NAME.test(defaultVoice)) throw new Error(`'${defaultVoice}' is not an espeak-ng voice name (e.g. en-us, de, fr)`);
    this.voices = known ? [...known] : COMMON_VOICES;
  }

  openStreamer(options: Partial<TtsStreamConfig> = {}): TtsStreamer {
    const config = resolveStreamConfig(options, [], this.defaultVoice);
    const voice = config.voice ?? this.defaultVoice;
    if (!VOICE_NAME.test(voice)) throw new Error(`unknown voice '${voice}': espeak-ng voices look like en-us, en-gb, de, fr`);
    if (this.known && !isEspeakVoice(voice, this.known)) throw new Error(`unknown voice '${voice}': espeak-ng has: ${this.known.join(", ")}`);
    const pipeline = new WholeSpanPipeline(ESPEAK_RATE, async (text, signal) => (await espeakSpeak(text, voice, { signal })).audio);
    return configuredSpanStreamer(pipeline, config, ESPEAK_DEFAULT_RATE);
  }

  async dispose(): Promise<void> {
    // Nothing held: each span is its own espeak-ng run.
  }
}
