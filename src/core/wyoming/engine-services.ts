/**
 * Wyoming sessions served straight by core engines (`voice-stream serve`, no Node-RED):
 * transcribe → an AsrStreamer (partials as transcript-chunks, the final as the transcript),
 * synthesize → a TtsStreamer (deltas in as they arrive, its chunks out as audio), detect →
 * a wake detector. A client that goes away cancels the engine's stream.
 */
import { Subject } from "rxjs";
import { StreamingResampler } from "../audio/resample";
import type { AsrEngine, TtsEngine } from "../types";
import type { WakeEngine } from "../wake/engine";
import type { ServicesSpec } from "./info";
import type { SessionInput, WyomingSession } from "./session";

const ASR_RATE = 16000;

export interface EngineServicesOptions {
  asr?: { engine: AsrEngine; name: string; languages?: string[] };
  tts?: { engine: TtsEngine; name: string; languages?: string[] };
  wake?: { engine: WakeEngine; name: string };
  log?: (level: "info" | "warn" | "debug", message: string) => void;
}

/** A voice named like a language ("en-us", "de") speaks that language. */
function languagesOfVoice(name: string, fallback: string[]): string[] {
  return /^[a-z]{2,3}(?:[-_][a-z]{2,4})?$/i.test(name) ? [name.toLowerCase()] : fallback;
}

/** Languages an asr engine says it knows (Whisper: its language tokens). */
function asrLanguages(engine: AsrEngine): string[] {
  const model = (engine as unknown as { model?: { languageCodes?: () => string[] } }).model;
  const codes = model?.languageCodes?.();
  if (codes && codes.length > 0) return codes;
  const info = (engine as unknown as { info?: { asr: { models: { languages: string[] }[] }[] } }).info;
  const remote = info?.asr.flatMap((p) => p.models.flatMap((m) => m.languages));
  return remote && remote.length > 0 ? [...new Set(remote)] : ["en"];
}

/** Converts any client rate to 16 kHz for the asr and wake engines. */
function to16k(): (input: Extract<SessionInput, { kind: "audio" }> | "end") => Float32Array {
  let resampler: StreamingResampler | undefined;
  return (input) => {
    if (input === "end") return resampler?.flush() ?? new Float32Array(0);
    if (input.rate === ASR_RATE) return input.samples;
    if (!resampler || resampler.fromRate !== input.rate) resampler = new StreamingResampler(input.rate, ASR_RATE);
    return resampler.push(input.samples);
  };
}

export class EngineServices {
  constructor(private readonly options: EngineServicesOptions) {}

  get offers(): { asr: boolean; tts: boolean; wake: boolean } {
    return { asr: !!this.options.asr, tts: !!this.options.tts, wake: !!this.options.wake };
  }

  services(): ServicesSpec {
    const { asr, tts, wake } = this.options;
    const spec: ServicesSpec = {};
    if (asr) spec.asr = { name: asr.name, models: [{ name: asr.name, languages: asr.languages ?? asrLanguages(asr.engine) }], supportsTranscriptStreaming: true };
    if (tts) {
      const voices = tts.engine.voices.length > 0 ? tts.engine.voices : [tts.name];
      spec.tts = { name: tts.name, voices: voices.map((v) => ({ name: v, languages: languagesOfVoice(v, tts.languages ?? ["en"]) })), supportsSynthesizeStreaming: true };
    }
    if (wake) spec.wake = { name: wake.name, models: wake.engine.names.map((w) => ({ name: w, languages: ["en"], phrase: w.replace(/_/g, " ") })) };
    return spec;
  }

  handle(session: WyomingSession): void {
    const request = session.request;
    try {
      if (request.type === "transcribe") this.transcribe(session);
      else if (request.type === "synthesize") this.synthesize(session);
      else this.detect(session);
    } catch (err) {
      session.fail((err as Error).message, "bad-request");
    }
  }

  private transcribe(session: WyomingSession): void {
    const engine = this.options.asr!.engine;
    const request = session.request as Extract<WyomingSession["request"], { type: "transcribe" }>;
    const streamer = engine.openStreamer({ language: request.language ?? "auto" });
    const convert = to16k();
    streamer.partials$.subscribe({
      next: (event) => {
        if (event.kind === "partial") session.transcriptChunk(event.delta);
        else if (event.kind === "final") session.transcript(event.text, event.language || undefined);
      },
      error: (err: Error) => session.fail(`speech-to-text failed: ${err.message}`, "asr-failed"),
    });
    session.input$.subscribe((input) => {
      if (input.kind === "audio") {
        const frame = convert(input);
        if (frame.length > 0) streamer.send(frame);
      } else if (input.kind === "end") {
        const tail = convert("end");
        if (tail.length > 0) streamer.send(tail);
        streamer.finish().catch(() => undefined);
      } else if (input.kind === "cancel") streamer.cancel();
    });
  }

  private synthesize(session: WyomingSession): void {
    const engine = this.options.tts!.engine;
    const request = session.request as Extract<WyomingSession["request"], { type: "synthesize" }>;
    const voice = request.voice?.name && engine.voices.includes(request.voice.name) ? request.voice.name : undefined;
    const streamer = engine.openStreamer({ voice });
    let rate: number | undefined;
    streamer.output$.subscribe({
      next: (chunk) => {
        if (chunk.kind !== "audio") return;
        rate = chunk.sample_rate;
        if (chunk.audio.length > 0) session.audio(chunk.audio, chunk.sample_rate);
        if (chunk.is_final) session.audioEnd(rate);
      },
      error: (err: Error) => session.fail(`text-to-speech failed: ${err.message}`, "tts-failed"),
    });
    session.input$.subscribe((input) => {
      if (input.kind === "text") streamer.send(input.text);
      else if (input.kind === "end") streamer.finish();
      else if (input.kind === "cancel") streamer.cancel();
    });
  }

  private detect(session: WyomingSession): void {
    const engine = this.options.wake!.engine;
    const request = session.request as Extract<WyomingSession["request"], { type: "detect" }>;
    const frames = new Subject<Float32Array>();
    const convert = to16k();
    const detection = engine.detect(frames, { names: request.names }).subscribe({
      next: (d) => session.detection(d.name, d.audio_seconds * 1000),
      complete: () => session.detectEnd(),
      error: (err: Error) => session.fail(`wake word detection failed: ${err.message}`, "wake-failed"),
    });
    session.input$.subscribe((input) => {
      if (input.kind === "audio") {
        const frame = convert(input);
        if (frame.length > 0) frames.next(frame);
      } else if (input.kind === "end") {
        const tail = convert("end");
        if (tail.length > 0) frames.next(tail);
        frames.complete();
      } else if (input.kind === "cancel") detection.unsubscribe();
    });
  }
}
