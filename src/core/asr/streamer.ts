/**
 * The streaming ASR session (PROTOCOL §1 ASR events, streaming-guide "Streaming ASR"):
 * `send()` appends 16 kHz mono audio; one serial worker re-decodes the uncommitted buffer at
 * most every `partial_interval_ms`; LocalAgreement-2 commits words two passes agree on and
 * partials carry the committed text (only ever growing). Committed text that has left the
 * buffer (last ~200 chars) is the next pass's prompt. The buffer is cut at a committed
 * segment's end when it would outgrow the model's 30 s window, and by `flush()` (call it at
 * pauses, or let a `pauseDetector` VAD call it) after committing what it holds, so each pass
 * costs about the same however long the turn. `finish()` decodes the rest once and resolves the transcript of all audio;
 * `cancel()` ends with one `{kind: "cancelled", is_final: true}` and no final decode (it also
 * aborts a decode in flight between two decoder steps).
 *
 * Speculative final (`speculative_final`): the final decodes the buffer only up to
 * SPECULATION_TAIL_SECONDS after its last loud frame (trailing room tone holds no words), so
 * its audio is known as soon as that tail is in; the worker decodes it then, while the turn's
 * end-of-speech silence is still being waited out, and finish() takes that result as it is
 * when nothing changed since — the same samples, prompt and language, hence exactly the text a
 * decode at finish would give. A loud frame, a cut of the buffer or a new prompt or language
 * discards it, and the final is decoded as usual.
 */
import { Observable, Subject } from "rxjs";
import type { AsrEvent, AsrStreamConfig, AsrStreamer, CancelledChunk, DroppedAudio } from "../types";
import { firstNonFiniteIndex } from "../audio/pcm";
import { resolveGuards, type GuardThresholds } from "./engines/whisper/guards";
import { LocalAgreement, splitWords } from "./local-agreement";
import type { DecodeOptions, DecodeResult } from "./engines/whisper/whisper-model";
import { frameRms } from "./frame-rms";

/** What the streamer needs from a model: one decode of up to a window of audio. */
export interface Transcriber {
  readonly sampleRate: number;
  readonly windowSeconds: number;
  decode(audio: Float32Array, options: DecodeOptions): Promise<DecodeResult>;
}

export interface PassInfo {
  kind: "partial" | "flush" | "final" | "speculative";
  /** Wall-clock seconds the decode took. */
  seconds: number;
  /** Seconds of audio the pass decoded. */
  buffer_seconds: number;
  committed_words: number;
  /** Temperature of the kept result (above 0 after fallback). */
  temperature: number;
  rejected?: string;
}

export interface StreamerOptions extends AsrStreamConfig {
  /** Characters of committed text fed back as the prompt (default 200; 0 disables it). */
  prompt_chars?: number;
  /** Called after every decode pass (benchmarks, debugging). */
  onPass?: (info: PassInfo) => void;
}

export type { PauseDetector } from "./engine";

const DEFAULT_INTERVAL_MS = 600;
const WINDOW_OVERFLOW = "the model's 30 s window filled before a pass had transcribed this audio";
/** Less audio than this is not worth a pass (Whisper needs a few frames). */
const MIN_PASS_SECONDS = 0.1;
/** A frame quieter than this RMS (about −46 dBFS) is room tone, not speech (speculative final). */
export const SILENCE_RMS = 0.005;
/** Audio the speculative final keeps after the last loud frame: the decay of the last word. */
export const SPECULATION_TAIL_SECONDS = 0.2;

export class WhisperStreamer implements AsrStreamer {
  private readonly events = new Subject<AsrEvent>();
  /**
   * Events (and the end) held until the first subscriber, then dropped: a replay of the whole
   * turn would keep every partial — each holding all text so far — for as long as the turn runs.
   */
  private backlog: { events: AsrEvent[]; end?: { error?: Error } } | null = { events: [] };
  readonly partials$: Observable<AsrEvent> = new Observable<AsrEvent>((subscriber) => {
    const backlog = this.backlog;
    this.backlog = null;
    if (backlog) {
      for (const event of backlog.events) subscriber.next(event);
      if (backlog.end) {
        if (backlog.end.error) subscriber.error(backlog.end.error);
        else subscriber.complete();
        return;
      }
    }
    return this.events.subscribe(subscriber);
  });

  private readonly agreement = new LocalAgreement();
  private readonly interval: number;
  private readonly promptChars: number;
  private buffer = new Float32Array(16000 * 4);
  private bufferLength = 0;
  private totalSamples = 0;
  /** Sample counts (relative to the buffer start) where flush() was called, oldest first. */
  private flushMarks: number[] = [];
  private finishRequested = false;
  private dirty = false;
  private running = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private lastPassAt = 0;
  private passes = 0;
  private busySeconds = 0;
  private readonly openedAt = Date.now();
  private language: string | undefined;
  /** The last accepted partial hypothesis and how many buffer samples it covered. */
  private lastHypothesis: { result: DecodeResult; samples: number } | undefined;
  private readonly guards: GuardThresholds;
  private readonly temperatures: number[];
  /** Audio that left no text (no-speech rule, window overflow), for the final. */
  private readonly dropped: DroppedAudio[] = [];
  private finishPromise: Promise<string> | undefined;
  private resolveFinish: ((text: string) => void) | undefined;
  private rejectFinish: ((err: Error) => void) | undefined;
  /** Aborts the decode in flight when the stream is cancelled or fails. */
  private readonly abort = new AbortController();
  private readonly speculative: boolean;
  /** Buffer-relative end of the last frame louder than SILENCE_RMS (0: none in the buffer). */
  private loudEnd = 0;
  /** Bumped by every cut: a speculation of an older buffer start never matches. */
  private cutEpoch = 0;
  /** The speculative final's result, with the key of the decode that made it (and its event's number, when one was sent). */
  private speculation: { key: string; result: DecodeResult; event?: number } | undefined;
  /** Speculative events sent in this turn (emit_speculative). */
  private speculativeEvents = 0;
  /** Key of the speculation the worker last started (so one is not started twice). */
  private speculatedKey: string | undefined;
  /** Aborts the partial pass in flight: a finish or a due speculation makes its result moot. */
  private partialAbort: AbortController | undefined;

  constructor(private readonly model: Transcriber, private readonly options: StreamerOptions = {}) {
    const interval = options.partial_interval_ms ?? DEFAULT_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval < 0) throw new Error(`partial_interval_ms must be a number ≥ 0, got ${interval}`);
    this.interval = interval;
    this.promptChars = options.prompt_chars ?? 200;
    this.speculative = options.speculative_final ?? true;
    if (options.emit_speculative && !this.speculative) {
      throw new Error("emit_speculative sends the speculative final, so it needs speculative_final on: turn on Speculative final, or turn off Send it early");
    }
    this.language = options.language && options.language !== "auto" ? options.language : undefined;
    ({ guards: this.guards, temperatures: this.temperatures } = resolveGuards(options));
    if (options.seed !== undefined && (typeof options.seed !== "number" || !Number.isFinite(options.seed))) throw new Error(`seed must be a number, got ${String(options.seed)}`);
  }

  /** Committed text so far. */
  get text(): string {
    return this.agreement.text;
  }

  get audioSeconds(): number {
    return this.totalSamples / this.model.sampleRate;
  }

  get ended(): boolean {
    return this.closed || this.finishRequested;
  }

  send(frame: Float32Array): void {
    if (this.ended) throw new Error("this ASR stream has ended; open a new one");
    if (!(frame instanceof Float32Array)) throw new Error("send() takes a Float32Array of 16 kHz mono samples");
    const bad = firstNonFiniteIndex(frame);
    if (bad >= 0) throw new Error(`audio sample ${bad} of the frame is ${frame[bad]}; samples must be finite numbers in [-1, 1]`);
    if (frame.length === 0) return;
    this.append(frame);
    this.totalSamples += frame.length;
    if (this.speculative && frameRms(frame) >= SILENCE_RMS) {
      this.loudEnd = this.bufferLength;
      this.speculation = undefined; // speech after the speculative start: its audio is no longer the final's
    }
    this.dirty = true;
    // The speculation's audio is in: a partial still decoding older audio only delays it.
    if (this.partialAbort && this.wantsSpeculation()) this.partialAbort.abort();
    this.schedule();
    // The pause this frame completes is in the audio up to its end, whenever the detector gets to it: a
    // detector behind the feed (audio sent faster than it runs) must not cut where the buffer has got to since.
    const pauseBy = this.totalSamples;
    this.options.pauseDetector?.push(frame).then(
      (events) => {
        if (events.some((e) => e.type === "speech_end")) this.flushAt(pauseBy);
      },
      (err: unknown) => this.fail(new Error(`voice activity detection failed: ${err instanceof Error ? err.message : String(err)}`)),
    );
  }

  flush(): void {
    this.flushAt(this.totalSamples);
  }

  /** Settles the audio up to `sample` (counted from the turn's first sample) at the next pass. */
  private flushAt(sample: number): void {
    if (this.ended) return;
    const mark = sample - (this.totalSamples - this.bufferLength);
    // Behind the buffer's start (already cut), or not past the last mark: nothing new to settle.
    const last = this.flushMarks[this.flushMarks.length - 1];
    if (mark < 0 || (last !== undefined && mark <= last)) return;
    this.flushMarks.push(mark);
    this.schedule();
  }

  finish(): Promise<string> {
    if (this.finishPromise) return this.finishPromise;
    if (this.closed) return Promise.resolve(this.agreement.text);
    this.finishPromise = new Promise<string>((resolve, reject) => {
      this.resolveFinish = resolve;
      this.rejectFinish = reject;
    });
    this.finishRequested = true;
    this.partialAbort?.abort(); // the final decodes the same audio and more
    this.schedule();
    return this.finishPromise;
  }

  cancel(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    this.abort.abort();
    this.speculation = undefined;
    const cancelled: CancelledChunk = {
      kind: "cancelled",
      is_final: true,
      finish_reason: "cancelled",
      text: this.agreement.text,
      audio_seconds: this.audioSeconds,
      passes: this.passes,
    };
    this.emit(cancelled);
    this.end();
    // A pending finish() settles with what was committed; no final decode runs.
    this.resolveFinish?.(this.agreement.text);
  }

  // ---------------------------------------------------------------- worker

  private schedule(): void {
    if (this.running || this.closed) return;
    const urgent = this.flushMarks.length > 0 || this.finishRequested || this.wantsSpeculation();
    if (!urgent) {
      if (!this.dirty || this.bufferSeconds() < MIN_PASS_SECONDS) return;
      // Quiet since the last loud frame, the speculation's tail not yet in: it comes within
      // SPECULATION_TAIL_SECONDS and reads the same audio, so no partial starts meanwhile.
      if (this.awaitingSpeculation()) return;
      const wait = this.lastPassAt + this.interval - Date.now();
      if (wait > 0) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.schedule();
        }, wait);
        return;
      }
    }
    this.clearTimer();
    this.running = true;
    this.step().then(
      () => {
        this.running = false;
        this.schedule();
      },
      (err: unknown) => {
        this.running = false;
        this.fail(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private async step(): Promise<void> {
    if (this.flushMarks.length > 0) {
      await this.flushPass(this.flushMarks.shift()!);
    } else if (this.finishRequested) {
      await this.finalPass();
    } else if (this.wantsSpeculation()) {
      await this.speculativePass();
    } else {
      await this.partialPass();
    }
  }

  private async partialPass(): Promise<void> {
    this.dirty = false;
    this.keepWithinWindow();
    // Only room tone came since the speculative final: a pass could commit nothing it will not.
    if (this.speculation?.key === this.speculationKey(this.finalEnd())) return;
    const samples = this.bufferLength;
    const abort = new AbortController();
    this.partialAbort = abort;
    let result: DecodeResult | undefined;
    try {
      result = await this.decode("partial", samples, abort);
    } catch (err) {
      if (abort.signal.aborted && !this.closed) return; // superseded (a finish or a due speculation), not failed
      throw err;
    } finally {
      this.partialAbort = undefined;
    }
    if (this.closed || !result) return;
    if (result.rejected) return; // neither committed nor remembered for agreement
    const newly = this.agreement.insert(splitWords(result.text));
    this.lastHypothesis = { result, samples };
    if (newly.length > 0) {
      if (!this.language) this.language = result.language; // the first committed words fix an auto-detected language
      this.emitPartial(newly);
    }
  }

  private async flushPass(mark: number): Promise<void> {
    const samples = Math.min(mark, this.bufferLength);
    const result = samples / this.model.sampleRate >= MIN_PASS_SECONDS ? await this.decode("flush", samples) : undefined;
    if (this.closed) return;
    if (result && !result.rejected) {
      const newly = this.agreement.commitAll(splitWords(result.text));
      if (!this.language && newly.length > 0) this.language = result.language;
      if (newly.length > 0) this.emitPartial(newly);
    } else if (result) {
      this.drop(result.rejected!, samples, result.text);
    }
    // Everything up to the pause is settled: the buffer restarts there, its text becomes prompt.
    this.cut(samples);
    this.agreement.clearBuffer();
    this.lastHypothesis = undefined;
  }

  private async finalPass(): Promise<void> {
    this.keepWithinWindow();
    let language = this.language;
    let speculation: number | undefined;
    const end = this.finalEnd();
    if (end / this.model.sampleRate >= MIN_PASS_SECONDS) {
      const kept = this.speculation?.key === this.speculationKey(end) ? this.speculation : undefined;
      this.speculation = undefined;
      speculation = kept?.event;
      const result = kept?.result ?? (await this.decode("final", end));
      if (this.closed) return;
      if (result) {
        language ??= result.language;
        if (!result.rejected) this.agreement.commitAll(splitWords(result.text));
        else this.drop(result.rejected, this.bufferLength, result.text);
      }
    }
    if (this.closed) return;
    this.closed = true;
    const audioSeconds = this.audioSeconds;
    const text = this.agreement.text;
    this.emit({
      kind: "final",
      text,
      is_final: true,
      language: language ?? this.options.language ?? "",
      audio_seconds: audioSeconds,
      passes: this.passes,
      rtf: audioSeconds > 0 ? this.busySeconds / audioSeconds : 0,
      total_seconds: (Date.now() - this.openedAt) / 1000,
      dropped: this.dropped.slice(),
      ...(speculation !== undefined ? { speculation } : {}),
    });
    this.end();
    this.resolveFinish?.(text);
  }

  /**
   * The speculative final's pass: the final's audio is settled (the tail after the last loud
   * frame is in), so decode it now; finish() keeps the result while its key still holds.
   */
  private async speculativePass(): Promise<void> {
    this.keepWithinWindow();
    const end = this.finalEnd();
    const key = this.speculationKey(end);
    this.speculatedKey = key;
    if (end / this.model.sampleRate < MIN_PASS_SECONDS) return;
    const result = await this.decode("speculative", end);
    if (this.closed || !result) return;
    // Speech, a cut, a new prompt or language while it ran: the key no longer matches; drop it.
    if (key !== this.speculationKey(this.finalEnd())) return;
    this.speculation = { key, result };
    if (this.options.emit_speculative) this.emitSpeculative(this.speculation);
  }

  /**
   * Sends the text the final will have if it keeps this speculation: what finalPass would commit
   * from the same result (nothing else commits meanwhile: a partial pass skips while the
   * speculation holds, and a flush changes its key). No event for a turn that would end empty.
   */
  private emitSpeculative(speculation: { result: DecodeResult; event?: number }): void {
    const { result } = speculation;
    const words = result.rejected ? [] : splitWords(result.text).slice(this.agreement.inBuffer);
    const text = [...this.agreement.words, ...words].join(" ");
    if (text === "") return;
    speculation.event = ++this.speculativeEvents;
    this.emit({
      kind: "speculative",
      text,
      is_final: false,
      language: this.language ?? result.language ?? this.options.language ?? "",
      audio_seconds: this.audioSeconds,
      speculation: speculation.event,
    });
  }

  /** The audio since the last loud frame is quiet but shorter than the speculation's tail. */
  private awaitingSpeculation(): boolean {
    if (!this.speculative || this.loudEnd === 0 || this.closed || this.finishRequested) return false;
    return this.bufferLength > this.loudEnd && this.bufferLength < this.loudEnd + this.tailSamples();
  }

  /** The worker should start a speculative final: its audio is in and it was not started for it. */
  private wantsSpeculation(): boolean {
    if (!this.speculative || this.loudEnd === 0 || this.closed || this.finishRequested) return false;
    if (this.bufferLength < this.loudEnd + this.tailSamples()) return false;
    return this.speculatedKey !== this.speculationKey(this.finalEnd());
  }

  private tailSamples(): number {
    return Math.round(SPECULATION_TAIL_SECONDS * this.model.sampleRate);
  }

  /** Where the final's audio ends: the whole buffer, or with the speculative final a tail after the last loud frame. */
  private finalEnd(): number {
    if (!this.speculative || this.loudEnd === 0) return this.bufferLength;
    return Math.min(this.bufferLength, this.loudEnd + this.tailSamples());
  }

  /** Everything a decode of the buffer's first `end` samples depends on besides the samples themselves. */
  private speculationKey(end: number): string {
    const o = this.decodeOptions();
    return JSON.stringify([this.cutEpoch, end, o.language, o.prompt ?? ""]);
  }

  private decodeOptions(signal: AbortSignal = this.abort.signal): DecodeOptions {
    return {
      language: this.language ?? "auto",
      task: this.options.task,
      prompt: this.promptChars > 0 ? this.agreement.prompt(this.promptChars) : undefined,
      guards: this.guards,
      temperatures: this.temperatures,
      seed: this.options.seed,
      signal,
    };
  }

  /** `pass`: aborts this pass alone; the stream's cancel aborts it too (linked here, unlinked after). */
  private async decode(kind: PassInfo["kind"], samples: number, pass?: AbortController): Promise<DecodeResult | undefined> {
    const started = Date.now();
    this.lastPassAt = started;
    const audio = this.buffer.slice(0, samples);
    const forward = () => pass?.abort();
    if (pass) this.abort.signal.addEventListener("abort", forward, { once: true });
    let result: DecodeResult;
    try {
      result = await this.model.decode(audio, this.decodeOptions(pass?.signal));
    } finally {
      this.abort.signal.removeEventListener("abort", forward);
    }
    const seconds = (Date.now() - started) / 1000;
    this.passes++;
    this.busySeconds += seconds;
    this.options.onPass?.({
      kind,
      seconds,
      buffer_seconds: samples / this.model.sampleRate,
      committed_words: this.agreement.words.length,
      temperature: result.temperature ?? 0,
      ...(result.rejected ? { rejected: result.rejected } : {}),
    });
    return result;
  }

  /**
   * Before a pass: when the buffer would outgrow the model's window, cut it at the end of
   * the last segment whose words are all committed; failing that, commit the last
   * hypothesis whole and cut where its audio ended (Whisper cannot read more than 30 s).
   */
  private keepWithinWindow(): void {
    const window = Math.floor(this.model.windowSeconds * this.model.sampleRate);
    if (this.bufferLength <= window) return;
    const last = this.lastHypothesis;
    if (last) {
      let words = 0;
      let cutAt: { samples: number; words: number } | undefined;
      for (const segment of last.result.segments) {
        words += splitWords(segment.text).length;
        if (segment.end === undefined || words > this.agreement.inBuffer) break;
        cutAt = { samples: Math.round(segment.end * this.model.sampleRate), words };
      }
      if (cutAt && cutAt.samples > 0 && this.bufferLength - cutAt.samples <= window) {
        this.cut(cutAt.samples);
        this.agreement.trimmed(cutAt.words);
        this.lastHypothesis = undefined;
        return;
      }
      const newly = this.agreement.commitAll(splitWords(last.result.text));
      if (newly.length > 0) this.emitPartial(newly);
      const cutAtSamples = Math.max(last.samples, this.bufferLength - window);
      if (cutAtSamples > last.samples) this.drop(WINDOW_OVERFLOW, cutAtSamples - last.samples);
      this.cut(cutAtSamples);
    } else {
      this.drop(WINDOW_OVERFLOW, this.bufferLength - window);
      this.cut(this.bufferLength - window);
    }
    this.agreement.clearBuffer();
    this.lastHypothesis = undefined;
  }

  // ---------------------------------------------------------------- helpers

  private emitPartial(newly: string[]): void {
    this.emit({
      kind: "partial",
      text: this.agreement.text,
      delta: (this.agreement.words.length > newly.length ? " " : "") + newly.join(" "),
      is_final: false,
      audio_seconds: this.audioSeconds,
    });
  }

  private emit(event: AsrEvent): void {
    if (this.backlog) this.backlog.events.push(event);
    else this.events.next(event);
  }

  private end(error?: Error): void {
    if (this.backlog) this.backlog.end = { error };
    else if (error) this.events.error(error);
    else this.events.complete();
  }

  private drop(reason: string, samples: number, text?: string): void {
    if (samples <= 0) return;
    this.dropped.push({ reason, audio_seconds: samples / this.model.sampleRate, ...(text ? { text } : {}) });
  }

  private bufferSeconds(): number {
    return this.bufferLength / this.model.sampleRate;
  }

  private append(frame: Float32Array): void {
    if (this.bufferLength + frame.length > this.buffer.length) {
      const grown = new Float32Array(Math.max(this.buffer.length * 2, this.bufferLength + frame.length));
      grown.set(this.buffer.subarray(0, this.bufferLength));
      this.buffer = grown;
    }
    this.buffer.set(frame, this.bufferLength);
    this.bufferLength += frame.length;
  }

  /** Drops the first `samples` of the buffer. */
  private cut(samples: number): void {
    const n = Math.max(0, Math.min(samples, this.bufferLength));
    this.buffer.copyWithin(0, n, this.bufferLength);
    this.bufferLength -= n;
    this.loudEnd = Math.max(0, this.loudEnd - n);
    this.cutEpoch++;
    this.speculation = undefined;
    this.flushMarks = this.flushMarks.map((m) => Math.max(0, m - n));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    this.abort.abort();
    this.speculation = undefined;
    this.end(err);
    this.rejectFinish?.(err);
  }
}
