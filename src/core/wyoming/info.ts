/**
 * The `info` event (answer to `describe`): which speech-to-text, text-to-speech and wake
 * services a Wyoming endpoint offers, in the spec's shape (asr → models, tts → voices,
 * wake → models; every entry with attribution and installed).
 */

export interface Attribution {
  name: string;
  url: string;
}

export interface ServiceDescription {
  /** The program's name (Home Assistant shows it). */
  name: string;
  description?: string;
  version?: string;
}

export interface AsrServiceSpec extends ServiceDescription {
  /** Models offered; one is enough (the flow's whisper). */
  models: { name: string; languages: string[]; description?: string }[];
  supportsTranscriptStreaming: boolean;
}

export interface TtsServiceSpec extends ServiceDescription {
  voices: { name: string; languages: string[]; speakers?: string[]; description?: string }[];
  supportsSynthesizeStreaming: boolean;
}

export interface WakeServiceSpec extends ServiceDescription {
  models: { name: string; languages: string[]; phrase?: string; description?: string }[];
}

export interface ServicesSpec {
  asr?: AsrServiceSpec;
  tts?: TtsServiceSpec;
  wake?: WakeServiceSpec;
}

export const ATTRIBUTION: Attribution = { name: "node-red-contrib-voice-stream", url: "https://github.com/node-red-contrib-voice-stream" };

function artifact(name: string, description: string | undefined, version: string | undefined) {
  return { name, attribution: ATTRIBUTION, installed: true, description: description ?? name, version: version ?? null };
}

/** The `info` event's data for `services`. */
export function infoData(services: ServicesSpec): Record<string, unknown> {
  const data: Record<string, unknown> = { asr: [], tts: [], wake: [], handle: [], intent: [] };
  if (services.asr) {
    const s = services.asr;
    data.asr = [
      {
        ...artifact(s.name, s.description, s.version),
        models: s.models.map((m) => ({ ...artifact(m.name, m.description, s.version), languages: m.languages })),
        supports_transcript_streaming: s.supportsTranscriptStreaming,
      },
    ];
  }
  if (services.tts) {
    const s = services.tts;
    data.tts = [
      {
        ...artifact(s.name, s.description, s.version),
        voices: s.voices.map((v) => ({
          ...artifact(v.name, v.description, s.version),
          languages: v.languages,
          speakers: v.speakers && v.speakers.length > 0 ? v.speakers.map((name) => ({ name })) : null,
        })),
        supports_synthesize_streaming: s.supportsSynthesizeStreaming,
      },
    ];
  }
  if (services.wake) {
    const s = services.wake;
    data.wake = [
      {
        ...artifact(s.name, s.description, s.version),
        models: s.models.map((m) => ({ ...artifact(m.name, m.description, s.version), languages: m.languages, phrase: m.phrase ?? m.name })),
      },
    ];
  }
  return data;
}

/** A service's info read back (client side): what a describe found, flattened for engines and the editor. */
export interface DescribedService {
  /** "host:port" of the service. */
  target: string;
  asr: { name: string; models: { name: string; languages: string[] }[]; supports_transcript_streaming: boolean }[];
  tts: { name: string; voices: { name: string; languages: string[]; speakers: string[] }[]; supports_synthesize_streaming: boolean }[];
  wake: { name: string; models: { name: string; languages: string[]; phrase?: string }[] }[];
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null) : [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Reads an `info` event's data leniently (services write optional fields as null or leave them out). */
export function readInfo(target: string, data: Record<string, unknown>): DescribedService {
  return {
    target,
    asr: list(data.asr).map((p) => ({
      name: String(p.name ?? ""),
      models: list(p.models).map((m) => ({ name: String(m.name ?? ""), languages: strings(m.languages) })),
      supports_transcript_streaming: p.supports_transcript_streaming === true,
    })),
    tts: list(data.tts).map((p) => ({
      name: String(p.name ?? ""),
      voices: list(p.voices ?? p.models).map((v) => ({
        name: String(v.name ?? ""),
        languages: strings(v.languages),
        speakers: list(v.speakers).map((s) => String(s.name ?? "")),
      })),
      supports_synthesize_streaming: p.supports_synthesize_streaming === true,
    })),
    wake: list(data.wake).map((p) => ({
      name: String(p.name ?? ""),
      models: list(p.models).map((m) => ({ name: String(m.name ?? ""), languages: strings(m.languages), phrase: typeof m.phrase === "string" ? m.phrase : undefined })),
    })),
  };
}
