/**
 * A playback queue in front of a sink. Audio is written to the sink in real time by the
 * player's clock, `leadMs` ahead of what is being heard, so `stop()` silences within that
 * lead and `drain()` resolves when the last queued sample has been played. Each stream is
 * resampled to the sink's rate by its own streaming resampler, so chunk joins stay gap-free.
 */
import { Subject, type Observable, type Subscription } from "rxjs";
import { systemClock, type Clock } from "./clock";
import { StreamingResampler } from "./resample";
import type { AudioSink } from "./sink";

export type PlayerEvent =
  | { type: "started"; streamId: string }
  | { type: "drained"; streamId: string }
  | { type: "stopped"; streamId: string }
  | { type: "underrun"; streamId: string }
  /** The sink failed; `streamId` names the stream it cut short (none when nothing was playing). */
  | { type: "error"; error: Error; streamId?: string };

/** "failed": the sink failed during the stream, so it was not played out (an error event said why). */
export type DrainResult = "drained" | "stopped" | "failed";

export interface PlayerOptions {
  clock?: Clock;
  /** How far ahead of playback audio is handed to the sink (ms). */
  leadMs?: number;
  /** Multiplies every sample (1 = as is). */
  volume?: number;
}

interface AudioItem {
  kind: "audio";
  streamId: string;
  samples: Float32Array;
  sampleRate: number;
}

interface MarkItem {
  kind: "mark";
  streamId: string;
  resolve: (result: DrainResult) => void;
}

/** A drain mark already handed to the sink: it resolves when playback reaches `atMs`. */
interface PendingMark extends MarkItem {
  atMs: number;
}

interface StreamState {
  rate: number;
  resampler?: StreamingResampler;
  /** Audio of it has been written to the sink. */
  started: boolean;
  /** The "started" event has been sent (after the sink's startConfirmMs). */
  startedSent: boolean;
  startTimer?: unknown;
}

export const DEFAULT_LEAD_MS = 200;

export class Player {
  private readonly clock: Clock;
  private readonly leadMs: number;
  volume: number;
  private readonly eventsSubject = new Subject<PlayerEvent>();
  readonly events$: Observable<PlayerEvent> = this.eventsSubject.asObservable();
  private queue: (AudioItem | MarkItem)[] = [];
  private marks: PendingMark[] = [];
  private streams = new Map<string, StreamState>();
  /** Time line: the sample handed to the sink at `writtenMs` of audio plays at originClock + (writtenMs - originAudio). */
  private writtenMs = 0;
  private originClock = 0;
  private originAudio = 0;
  private pausedAt: number | undefined;
  private timer: unknown;
  private underrunReported = false;
  /** Stream of the last audio written: an underrun belongs to it. */
  private lastStreamId: string | undefined;
  private closed = false;
  private readonly failureSub: Subscription | undefined;
  /** Streams the sink failed during: their further audio is dropped until their drain (end of stream). */
  private failed = new Set<string>();

  constructor(readonly sink: AudioSink, options: PlayerOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.leadMs = options.leadMs ?? DEFAULT_LEAD_MS;
    if (!(this.leadMs > 0)) throw new RangeError(`buffer (lead) must be a positive number of milliseconds, got ${options.leadMs}`);
    this.volume = options.volume ?? 1;
    this.originClock = this.clock.now();
    this.failureSub = sink.failures$?.subscribe((error) => this.sinkFailed(error));
  }

  get paused(): boolean {
    return this.pausedAt !== undefined;
  }

  /** Audio (ms) position being heard now. */
  private playedMs(now = this.clock.now()): number {
    const at = this.pausedAt ?? now;
    return Math.min(this.writtenMs, this.originAudio + (at - this.originClock));
  }

  /** Seconds of audio queued or handed to the sink and not yet played. */
  bufferedSeconds(): number {
    let ms = this.writtenMs - this.playedMs();
    for (const item of this.queue) if (item.kind === "audio") ms += (item.samples.length * 1000) / item.sampleRate;
    return ms / 1000;
  }

  /** Queues `samples` of stream `streamId`; playback starts at once unless paused. */
  enqueue(samples: Float32Array, sampleRate: number, streamId = "default"): void {
    if (this.closed) throw new Error("the player is closed");
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`sample rate must be a positive whole number of Hz, got ${sampleRate}`);
    if (this.failed.has(streamId)) return; // its error was reported once; the rest of it is dropped
    const state = this.streamState(streamId, sampleRate);
    let out = samples;
    if (sampleRate !== state.rate || state.resampler) {
      if (!state.resampler || state.resampler.fromRate !== sampleRate) {
        this.flushResampler(streamId, state);
        state.resampler = new StreamingResampler(sampleRate, state.rate);
      }
      out = state.resampler.push(samples);
    } else {
      out = samples.slice(); // the caller may reuse its buffer
    }
    if (out.length > 0) this.queue.push({ kind: "audio", streamId, samples: out, sampleRate: state.rate });
    this.pump();
  }

  /**
   * Resolves "drained" when everything queued so far (of every stream) has been played, or
   * "stopped" when stop() drops it first. Emits a drained event for `streamId`.
   */
  drain(streamId = "default"): Promise<DrainResult> {
    if (this.closed) return Promise.resolve("stopped");
    if (this.failed.delete(streamId)) return Promise.resolve("failed");
    const state = this.streams.get(streamId);
    if (state) this.flushResampler(streamId, state);
    return new Promise((resolve) => {
      this.queue.push({ kind: "mark", streamId, resolve });
      this.pump();
    });
  }

  /** Silence now: the queue and the sink's buffer are dropped; pending drains resolve "stopped". */
  stop(): void {
    const affected = new Set<string>(this.streams.keys());
    for (const item of this.queue) affected.add(item.streamId);
    const dropped = [...this.marks, ...this.queue.filter((i): i is MarkItem => i.kind === "mark")];
    this.queue = [];
    this.marks = [];
    for (const state of this.streams.values()) this.cancelStartTimer(state);
    this.streams.clear();
    this.failed.clear();
    this.cancelTimer();
    const now = this.clock.now();
    this.originAudio = this.writtenMs;
    this.originClock = now;
    if (this.pausedAt !== undefined) this.pausedAt = now;
    this.underrunReported = false;
    this.sink.stop?.();
    for (const mark of dropped) mark.resolve("stopped");
    for (const streamId of affected) this.eventsSubject.next({ type: "stopped", streamId });
  }

  /** Holds playback: nothing more is written, and the time line stops, until resume(). */
  pause(): void {
    if (this.pausedAt !== undefined || this.closed) return;
    this.pausedAt = this.clock.now();
    this.cancelTimer();
    this.sink.pause?.();
  }

  resume(): void {
    if (this.pausedAt === undefined || this.closed) return;
    const now = this.clock.now();
    this.originClock += now - this.pausedAt;
    this.pausedAt = undefined;
    this.sink.resume?.();
    this.pump();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    this.failureSub?.unsubscribe();
    await this.sink.close();
    this.eventsSubject.complete();
  }

  private streamState(streamId: string, sampleRate: number): StreamState {
    let state = this.streams.get(streamId);
    if (!state) {
      state = { rate: this.sink.sampleRate ?? sampleRate, started: false, startedSent: false };
      this.streams.set(streamId, state);
    }
    return state;
  }

  private flushResampler(streamId: string, state: StreamState): void {
    if (!state.resampler) return;
    const tail = state.resampler.flush();
    state.resampler = undefined;
    if (tail.length > 0) this.queue.push({ kind: "audio", streamId, samples: tail, sampleRate: state.rate });
  }

  /** Writes what is due, settles marks that playback has reached, and sets the next timer. */
  private pump(): void {
    if (this.closed) return;
    this.cancelTimer();
    if (this.pausedAt !== undefined) return;
    const now = this.clock.now();
    this.settleMarks(now);
    while (this.queue.length > 0) {
      const item = this.queue[0];
      const played = this.playedMs(now);
      if (item.kind === "mark") {
        this.queue.shift();
        this.marks.push({ ...item, atMs: this.writtenMs });
        continue;
      }
      const room = played + this.leadMs - this.writtenMs;
      if (room <= 0) break;
      if (played >= this.writtenMs) {
        // Idle or run dry: playback of the next sample starts now.
        this.originAudio = this.writtenMs;
        this.originClock = now;
      }
      const fit = Math.max(1, Math.ceil((room * item.sampleRate) / 1000));
      let part = item.samples;
      if (part.length > fit) {
        item.samples = part.subarray(fit);
        part = part.subarray(0, fit);
      } else {
        this.queue.shift();
      }
      this.write(part, item.sampleRate, item.streamId);
    }
    this.settleMarks(now);
    this.checkUnderrun(now);
    this.schedule(now);
  }

  private write(samples: Float32Array, sampleRate: number, streamId: string): void {
    const state = this.streams.get(streamId);
    if (state && !state.started) {
      state.started = true;
      const confirmMs = this.sink.startConfirmMs ?? 0;
      if (confirmMs > 0) {
        state.startTimer = this.clock.setTimer(() => {
          state.startTimer = undefined;
          this.sendStarted(streamId, state);
        }, confirmMs);
      } else {
        this.sendStarted(streamId, state);
      }
    }
    let out = samples;
    if (this.volume !== 1) out = samples.map((s) => s * this.volume);
    this.writtenMs += (samples.length * 1000) / sampleRate;
    this.lastStreamId = streamId;
    this.underrunReported = false;
    try {
      this.sink.write(out, sampleRate, streamId);
    } catch (err) {
      this.eventsSubject.next({ type: "error", error: err as Error });
    }
  }

  private settleMarks(now: number): void {
    const played = this.playedMs(now);
    while (this.marks.length > 0 && this.marks[0].atMs <= played) {
      const mark = this.marks.shift()!;
      const stillQueued = this.queue.some((i) => i.streamId === mark.streamId) || this.marks.some((m) => m.streamId === mark.streamId);
      const state = this.streams.get(mark.streamId);
      // Played out before the sink's start was confirmed (a very short stream): it did start.
      if (state?.started && !state.startedSent) {
        this.cancelStartTimer(state);
        this.sendStarted(mark.streamId, state);
      }
      if (!stillQueued) {
        this.streams.delete(mark.streamId);
        this.sink.endStream?.(mark.streamId);
      }
      mark.resolve("drained");
      this.eventsSubject.next({ type: "drained", streamId: mark.streamId });
    }
  }

  /** Playback ran out while a stream is still open (no drain asked for): report it once per gap. */
  private checkUnderrun(now: number): void {
    if (this.underrunReported || this.queue.length > 0 || this.marks.length > 0) return;
    if (this.playedMs(now) < this.writtenMs || this.lastStreamId === undefined) return;
    const open = this.streams.get(this.lastStreamId);
    if (!open?.started) return;
    this.underrunReported = true;
    this.eventsSubject.next({ type: "underrun", streamId: this.lastStreamId });
  }

  private schedule(now: number): void {
    const backlog = this.writtenMs - this.playedMs(now);
    const waits: number[] = [];
    // Top up when half the lead has played.
    if (this.queue.length > 0) waits.push(Math.max(0, backlog - this.leadMs / 2));
    if (this.marks.length > 0) waits.push(this.marks[0].atMs - this.playedMs(now));
    // Notice an underrun the moment the sink runs dry.
    if (this.queue.length === 0 && this.marks.length === 0 && !this.underrunReported && backlog > 0) waits.push(backlog);
    if (waits.length === 0) return;
    const wait = Math.max(0, Math.min(...waits));
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.pump();
    }, wait);
  }

  private sendStarted(streamId: string, state: StreamState): void {
    if (state.startedSent || this.streams.get(streamId) !== state) return;
    state.startedSent = true;
    this.eventsSubject.next({ type: "started", streamId });
  }

  private cancelStartTimer(state: StreamState): void {
    if (state.startTimer !== undefined) this.clock.clearTimer(state.startTimer);
    state.startTimer = undefined;
  }

  /**
   * The sink gave up (a player process that exited): every stream it was playing or had
   * queued ends here, one error event each, and is never reported started or drained. Their
   * drains resolve "failed"; audio still arriving for them is dropped until their drain.
   */
  private sinkFailed(error: Error): void {
    const affected = new Set<string>();
    for (const [id, state] of this.streams) if (state.started) affected.add(id);
    for (const item of this.queue) affected.add(item.streamId);
    for (const mark of this.marks) affected.add(mark.streamId);
    if (affected.size === 0) {
      this.eventsSubject.next({ type: "error", error });
      return;
    }
    const ended = [...this.marks, ...this.queue.filter((i): i is MarkItem => i.kind === "mark")].filter((m) => affected.has(m.streamId));
    this.queue = this.queue.filter((i) => !affected.has(i.streamId));
    this.marks = this.marks.filter((m) => !affected.has(m.streamId));
    for (const id of affected) {
      const state = this.streams.get(id);
      if (state) this.cancelStartTimer(state);
      this.streams.delete(id);
      this.failed.add(id);
      this.sink.endStream?.(id); // the next stream tries the sink afresh
    }
    // Nothing of theirs is playing any more: the time line restarts from now.
    this.originAudio = this.writtenMs;
    this.originClock = this.clock.now();
    if (this.pausedAt !== undefined) this.pausedAt = this.originClock;
    for (const mark of ended) {
      this.failed.delete(mark.streamId); // their end has come: a later stream may reuse the id
      mark.resolve("failed");
    }
    for (const id of affected) this.eventsSubject.next({ type: "error", error, streamId: id });
    this.pump();
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}
