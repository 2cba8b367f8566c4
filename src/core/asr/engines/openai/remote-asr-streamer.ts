/**
 * The ASR streamer of an OpenAI-compatible transcription server (PROTOCOL §1 ASR events):
 * audio collects until `flush()` (a pause) or `finish()`; each sends one WAV of the audio not
 * yet transcribed, in order, one request at a time. What a request returns is committed; a
 * server that streams its transcript gives partials delta by delta, one that does not gives
 * one partial per flush. The final's text is every request's text joined: it covers all
 * audio. `cancel()` aborts the request in flight and ends with the cancelled event.
 */
import { ReplaySubject, type Observable } from "rxjs";
import { firstNonFiniteIndex } from "../../../audio/pcm";
import type { AsrEvent, AsrStreamConfig, AsrStreamer } from "../../../types";
import type { PauseDetector } from "../../streamer";
import { isAbortError, type OpenAiHttpClient } from "../../../openai/http-client";
import { transcribeRemote } from "./transcription-request";

export const REMOTE_ASR_RATE = 16000;
/** Less audio than this waits for more (servers reject or hallucinate on a few ms). */
const MIN_REQUEST_SECONDS = 0.1;
const PROMPT_CHARS = 200;

export interface RemoteAsrSettings {
  model: string;
  /** Ask for a streamed transcript (default true; servers that cannot ignore it). */
  stream: boolean;
}

export interface RemoteAsrStreamConfig extends AsrStreamConfig {
  /** Auto flush at pauses: every end of speech this detector reports calls flush() (as the Whisper streamer does). */
  pauseDetector?: PauseDetector;
}

export class RemoteAsrStreamer implements AsrStreamer {
  private readonly events = new ReplaySubject<AsrEvent>();
  readonly partials$: Observable<AsrEvent> = this.events.asObservable();
  private readonly abort = new AbortController();
  private pending: Float32Array[] = [];
  private pendingSamples = 0;
  private totalSamples = 0;
  private committed = "";
  private work: Promise<void> = Promise.resolve();
  private passes = 0;
  private busySeconds = 0;
  private readonly openedAt = performance.now();
  private language: string | undefined;
  private finishing: Promise<string> | undefined;
  private closed = false;

  constructor(
    private readonly client: OpenAiHttpClient,
    private readonly settings: RemoteAsrSettings,
    private readonly config: RemoteAsrStreamConfig = {},
  ) {
    this.language = config.language && config.language !== "auto" ? config.language : undefined;
  }

  get audioSeconds(): number {
    return this.totalSamples / REMOTE_ASR_RATE;
  }

  send(frame: Float32Array): void {
    if (this.closed || this.finishing) throw new Error("this ASR stream has ended; open a new one");
    if (!(frame instanceof Float32Array)) throw new Error("send() takes a Float32Array of 16 kHz mono samples");
    const bad = firstNonFiniteIndex(frame);
    if (bad >= 0) throw new Error(`audio sample ${bad} of the frame is ${frame[bad]}; samples must be finite numbers in [-1, 1]`);
    if (frame.length === 0) return;
    this.pending.push(frame.slice());
    this.pendingSamples += frame.length;
    this.totalSamples += frame.length;
    this.config.pauseDetector?.push(frame).then(
      (events) => {
        if (events.some((e) => e.type === "speech_end")) this.flush();
      },
      (err: unknown) => this.fail(new Error(`voice activity detection failed: ${err instanceof Error ? err.message : String(err)}`)),
    );
  }

  flush(): void {
    if (this.closed || this.finishing) return;
    if (this.pendingSamples / REMOTE_ASR_RATE < MIN_REQUEST_SECONDS) return;
    const audio = this.take();
    this.queue(() => this.pass(audio));
  }

  finish(): Promise<string> {
    if (this.finishing) return this.finishing;
    if (this.closed) return Promise.resolve(this.committed);
    const audio = this.pendingSamples / REMOTE_ASR_RATE >= MIN_REQUEST_SECONDS ? this.take() : undefined;
    this.finishing = new Promise<string>((resolve, reject) => {
      this.queue(async () => {
        if (audio) await this.pass(audio);
        this.final();
      }).then(() => resolve(this.committed), reject);
    });
    return this.finishing;
  }

  cancel(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.events.next({ kind: "cancelled", is_final: true, finish_reason: "cancelled", text: this.committed, audio_seconds: this.audioSeconds, passes: this.passes });
    this.events.complete();
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.events.error(err);
  }

  private take(): Float32Array {
    const audio = new Float32Array(this.pendingSamples);
    let at = 0;
    for (const frame of this.pending) {
      audio.set(frame, at);
      at += frame.length;
    }
    this.pending = [];
    this.pendingSamples = 0;
    return audio;
  }

  /** Runs `job` after the ones queued before; a failure ends the stream with it. */
  private queue(job: () => Promise<void>): Promise<void> {
    const next = this.work.then(async () => {
      if (this.closed) return;
      try {
        await job();
      } catch (err) {
        if (this.closed || isAbortError(err)) return;
        this.closed = true;
        this.events.error(err);
        throw err;
      }
    });
    this.work = next.catch(() => undefined);
    return next;
  }

  private async pass(audio: Float32Array): Promise<void> {
    const started = performance.now();
    const before = this.committed;
    let streamed = "";
    const result = await transcribeRemote(this.client, audio, REMOTE_ASR_RATE, {
      model: this.settings.model,
      language: this.language,
      prompt: before.slice(-PROMPT_CHARS),
      stream: this.settings.stream,
      signal: this.abort.signal,
      onDelta: (delta) => {
        if (this.closed) return;
        const shown = this.currentText(before, streamed);
        streamed += delta;
        const text = this.currentText(before, streamed);
        if (text.length > shown.length) this.events.next({ kind: "partial", text, delta: text.slice(shown.length), is_final: false, audio_seconds: this.audioSeconds });
      },
    });
    this.passes++;
    this.busySeconds += (performance.now() - started) / 1000;
    if (this.closed) return;
    this.language ??= result.language;
    const text = this.currentText(before, result.text);
    const shown = this.currentText(before, streamed);
    this.committed = text;
    // A server that did not stream (or streamed less than it finally said) gets one partial for the rest.
    if (text.length > shown.length && text.startsWith(shown)) {
      this.events.next({ kind: "partial", text, delta: text.slice(shown.length), is_final: false, audio_seconds: this.audioSeconds });
    }
  }

  private currentText(before: string, streamed: string): string {
    const segment = streamed.trimStart();
    if (!segment) return before;
    return before && !/^\s/.test(segment) ? `${before} ${segment}` : before + segment;
  }

  private final(): void {
    if (this.closed) return;
    this.closed = true;
    const audioSeconds = this.audioSeconds;
    this.events.next({
      kind: "final",
      text: this.committed,
      is_final: true,
      language: this.language ?? this.config.language ?? "",
      audio_seconds: audioSeconds,
      passes: this.passes,
      rtf: audioSeconds > 0 ? this.busySeconds / audioSeconds : 0,
      total_seconds: (performance.now() - this.openedAt) / 1000,
    });
    this.events.complete();
  }
}
