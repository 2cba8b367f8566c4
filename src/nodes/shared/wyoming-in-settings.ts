/**
 * What a wyoming-in node's settings mean: the server it runs (host, port, offers, limits) and
 * the `describe` answer it builds from its fields or the voice-model nodes it names.
 */
import type { NodeDef } from "node-red";
import { parseAllowList } from "../../core/wyoming/allow-list";
import type { ServicesSpec } from "../../core/wyoming/info";
import type { LoadedModel, TtsEngine } from "../../core/types";

export interface WyomingInDef extends NodeDef {
  host?: string;
  port?: string | number;
  zeroconf?: boolean;
  zeroconfName?: string;
  allow?: string;
  asr?: boolean;
  asrName?: string;
  asrLanguages?: string;
  asrModel?: string;
  tts?: boolean;
  ttsName?: string;
  ttsVoices?: string;
  ttsLanguages?: string;
  ttsModel?: string;
  wake?: boolean;
  wakeNames?: string;
  streamTranscripts?: boolean;
  maxAudioSeconds?: string | number;
  answerTimeout?: string | number;
}

export const DEFAULT_PORT = 10700;

export function list(text: string | undefined): string[] {
  return String(text ?? "").split(/[\s,;]+/).map((s) => s.trim()).filter((s) => s !== "");
}

function positive(value: string | number | undefined, fallback: number, what: string): number {
  if (value === undefined || value === null || String(value).trim() === "") return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${what} must be a positive number, got '${value}'`);
  return n;
}

/** A voice named like a language ("en-us", "de") speaks that language. */
function voiceLanguages(name: string, fallback: string[]): string[] {
  return /^[a-z]{2,3}(?:[-_][a-z]{2,4})?$/i.test(name) ? [name.toLowerCase()] : fallback;
}

/** The server settings of a node's fields; throws a clear Error for bad input. */
export function serverSettingsOf(def: WyomingInDef) {
  parseAllowList(def.allow);
  const offers = { asr: def.asr !== false, tts: def.tts !== false, wake: def.wake === true };
  if (!offers.asr && !offers.tts && !offers.wake) throw new Error("offer at least one service: speech-to-text, text-to-speech or wake word");
  const port = def.port === undefined || String(def.port).trim() === "" ? DEFAULT_PORT : Number(def.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port must be a whole number from 1 to 65535, got '${def.port}'`);
  return {
    host: def.host?.trim() || "127.0.0.1",
    port,
    allow: def.allow,
    offers,
    streamTranscripts: def.streamTranscripts !== false,
    maxAudioSeconds: positive(def.maxAudioSeconds, 300, "max audio seconds"),
    answerTimeoutMs: positive(def.answerTimeout, 120, "answer timeout") * 1000,
  };
}

/** A voice-model node's loaded model (undefined when none is set or it is not ready in time) and name. */
export type ModelLookup = (id: string | undefined) => Promise<{ model?: LoadedModel; name?: string }>;

/** The `describe` answer: the node's fields first, else what the named voice-models know, else defaults. */
export async function servicesOf(def: WyomingInDef, offers: { asr: boolean; tts: boolean; wake: boolean }, modelOf: ModelLookup): Promise<ServicesSpec> {
  const spec: ServicesSpec = {};
  if (offers.asr) {
    const { model, name } = await modelOf(def.asrModel);
    const codes = (model as unknown as { model?: { languageCodes?: () => string[] } })?.model?.languageCodes?.();
    const languages = list(def.asrLanguages).length > 0 ? list(def.asrLanguages) : codes && codes.length > 0 ? codes : ["en"];
    const serviceName = def.asrName?.trim() || name || "node-red-whisper";
    spec.asr = { name: serviceName, description: "speech-to-text by a Node-RED flow", models: [{ name: serviceName, languages }], supportsTranscriptStreaming: def.streamTranscripts !== false };
  }
  if (offers.tts) {
    const { model, name } = await modelOf(def.ttsModel);
    const languages = list(def.ttsLanguages).length > 0 ? list(def.ttsLanguages) : ["en"];
    const serviceName = def.ttsName?.trim() || name || "node-red-tts";
    const fromModel = (model as TtsEngine | undefined)?.voices ?? [];
    const voices = list(def.ttsVoices).length > 0 ? list(def.ttsVoices) : fromModel.length > 0 ? fromModel : [serviceName];
    spec.tts = {
      name: serviceName,
      description: "text-to-speech by a Node-RED flow",
      voices: voices.map((v) => ({ name: v, languages: list(def.ttsLanguages).length > 0 ? languages : voiceLanguages(v, languages) })),
      supportsSynthesizeStreaming: true,
    };
  }
  if (offers.wake) {
    const names = list(def.wakeNames);
    spec.wake = { name: "node-red-wake", description: "wake word detection by a Node-RED flow", models: (names.length > 0 ? names : ["wake_word"]).map((n) => ({ name: n, languages: ["en"], phrase: n.replace(/_/g, " ") })) };
  }
  return spec;
}
