/**
 * One Wyoming request on a server connection: a `transcribe`, a `synthesize` (plain or
 * streaming) or a `detect`, with the client's input as it arrives (`input$`) and the
 * answers the service sends back on it. A session ends when its answer is complete, when it
 * fails (an `error` event), or when the client goes away (input$ then says `cancel`).
 */
import { randomUUID } from "crypto";
import { Subject, type Observable } from "rxjs";
import { floatToS16LE } from "../audio/pcm";
import { StreamingResampler } from "../audio/resample";
import type { WyomingEvent } from "./codec";

export interface SynthesizeVoice {
  name?: string;
  language?: string;
  speaker?: string;
}

export type SessionRequest =
  | { type: "transcribe"; language?: string; name?: string }
  | { type: "synthesize"; streaming: boolean; voice?: SynthesizeVoice }
  | { type: "detect"; names?: string[] };

export type SessionInput =
  /** Mono float audio at `rate` (the client's rate; convert as needed). */
  | { kind: "audio"; samples: Float32Array; rate: number; timestamp?: number }
  /** Text to speak: the whole text of a plain synthesize, or one streamed chunk. */
  | { kind: "text"; text: string }
  /** The client's input is complete (audio-stop, synthesize-stop, or after a plain synthesize's text). */
  | { kind: "end" }
  /** The session ended before its answer: the client disconnected, the server is stopping, or the session failed. */
  | { kind: "cancel"; reason: string };

/** Samples per audio-chunk event sent to clients (about 43 ms at 24 kHz; small chunks start playback sooner). */
const SAMPLES_PER_CHUNK = 1024;

export interface SessionSink {
  write(event: WyomingEvent): void;
  /** The session is over (the connection may take the next request). */
  ended(session: WyomingSession): void;
}

export interface SessionOptions {
  /** Send transcript-start / transcript-chunk / transcript-stop (the info says supports_transcript_streaming). */
  streamTranscripts: boolean;
  /** Client address, for logs. */
  remote: string;
}

export class WyomingSession {
  /** The stream_id of every message of this session. */
  readonly id = randomUUID();
  readonly startedAt = Date.now();
  private readonly inputs = new Subject<SessionInput>();
  /** The client's input. Subscribe synchronously in the session handler: it does not replay. */
  readonly input$: Observable<SessionInput> = this.inputs.asObservable();
  private done = false;
  private inputEnded = false;
  private transcriptStarted = false;
  private audioFormat: { rate: number } | undefined;
  private resampler: StreamingResampler | undefined;
  private detections = 0;
  /** Seconds of audio received from the client. */
  audioSeconds = 0;
  /** Text received for a synthesis (all chunks). */
  text = "";

  constructor(
    readonly request: SessionRequest,
    private readonly sink: SessionSink,
    readonly options: SessionOptions,
  ) {}

  get closed(): boolean {
    return this.done;
  }

  /** Whether the client's input is complete. */
  get ended(): boolean {
    return this.inputEnded;
  }

  get detectionCount(): number {
    return this.detections;
  }

  // ------------------------------------------------------------ from the client (the server calls these)

  /** @internal */
  pushInput(input: SessionInput): void {
    if (this.done || this.inputEnded) return;
    if (input.kind === "audio") this.audioSeconds += input.samples.length / input.rate;
    if (input.kind === "text") this.text += input.text;
    if (input.kind === "end") this.inputEnded = true;
    this.inputs.next(input);
  }

  /** @internal The session ends without an answer (client gone, server stopping). */
  abort(reason: string): void {
    if (this.done) return;
    this.finishSession();
    this.inputs.next({ kind: "cancel", reason });
    this.inputs.complete();
  }

  // ------------------------------------------------------------ answers (the service calls these)

  /** A piece of the transcript (streaming clients show it as it comes). */
  transcriptChunk(text: string, language?: string): void {
    if (this.done || !this.options.streamTranscripts || text === "") return;
    this.startTranscript(language);
    this.sink.write({ type: "transcript-chunk", data: { text } });
  }

  /** The transcript of all audio: ends the session. */
  transcript(text: string, language?: string): void {
    if (this.done) return;
    if (this.options.streamTranscripts) this.startTranscript(language);
    const data: Record<string, unknown> = { text };
    if (language) data.language = language;
    this.sink.write({ type: "transcript", data });
    if (this.options.streamTranscripts) this.sink.write({ type: "transcript-stop", data: {} });
    this.complete();
  }

  /** Synthesised audio (mono floats at `rate`); audio-start goes out before the first chunk. */
  audio(samples: Float32Array, rate: number): void {
    if (this.done) return;
    if (!this.audioFormat) {
      this.audioFormat = { rate };
      this.sink.write({ type: "audio-start", data: { rate, width: 2, channels: 1 } });
    }
    let pcm = samples;
    // audio-start fixed the rate: later audio at another rate is converted to it.
    if (rate !== this.audioFormat.rate) {
      if (!this.resampler || this.resampler.fromRate !== rate) this.resampler = new StreamingResampler(rate, this.audioFormat.rate);
      pcm = this.resampler.push(samples);
    }
    for (let at = 0; at < pcm.length; at += SAMPLES_PER_CHUNK) {
      const piece = pcm.subarray(at, Math.min(pcm.length, at + SAMPLES_PER_CHUNK));
      this.sink.write({ type: "audio-chunk", data: { rate: this.audioFormat.rate, width: 2, channels: 1 }, payload: floatToS16LE(piece) });
    }
  }

  /** End of the synthesised audio: audio-stop (and synthesize-stopped for a streaming session); ends the session. */
  audioEnd(rate = 22050): void {
    if (this.done) return;
    const tail = this.resampler?.flush();
    if (tail && tail.length > 0) this.audio(tail, this.audioFormat!.rate);
    if (!this.audioFormat) this.sink.write({ type: "audio-start", data: { rate, width: 2, channels: 1 } });
    this.sink.write({ type: "audio-stop", data: {} });
    if (this.request.type === "synthesize" && this.request.streaming) this.sink.write({ type: "synthesize-stopped", data: {} });
    this.complete();
  }

  /** A wake word was heard (the session goes on: more may follow). */
  detection(name: string, timestampMs?: number): void {
    if (this.done) return;
    this.detections += 1;
    const data: Record<string, unknown> = { name };
    if (timestampMs !== undefined) data.timestamp = Math.round(timestampMs);
    this.sink.write({ type: "detection", data });
  }

  /** The audio ended without a detection (or after them): not-detected when none was sent; ends the session. */
  detectEnd(): void {
    if (this.done) return;
    if (this.detections === 0) this.sink.write({ type: "not-detected", data: {} });
    this.complete();
  }

  /** Ends the session with an `error` event the client can show. */
  fail(text: string, code: string): void {
    if (this.done) return;
    this.sink.write({ type: "error", data: { text, code } });
    this.finishSession();
    this.inputs.next({ kind: "cancel", reason: `${code}: ${text}` });
    this.inputs.complete();
  }

  private startTranscript(language?: string): void {
    if (this.transcriptStarted) return;
    this.transcriptStarted = true;
    this.sink.write({ type: "transcript-start", data: language ? { language } : {} });
  }

  private complete(): void {
    this.finishSession();
    this.inputs.complete();
  }

  private finishSession(): void {
    this.done = true;
    this.sink.ended(this);
  }
}
