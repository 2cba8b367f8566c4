/**
 * What a player writes to: a speaker process, WAV files, browser listeners or nothing.
 * The player decides when audio is written (paced by its clock, a little ahead of
 * playback); a sink only delivers it.
 */
import type { Observable } from "rxjs";

export interface AudioSink {
  /** A short name for status and errors ("speaker", "file", ...). */
  readonly name: string;
  /** The one rate this sink plays at; undefined when it takes each stream at its own rate. */
  readonly sampleRate?: number;
  /** Samples of stream `streamId` (at `sampleRate`), in playback order, joined gap-free to the previous write. */
  write(samples: Float32Array, sampleRate: number, streamId: string): void;
  /** Everything of `streamId` has been written and played (a file sink completes its WAV). */
  endStream?(streamId: string): void;
  /** Silence now: drop whatever the sink itself still buffers; open streams end. */
  stop?(): void;
  pause?(): void;
  resume?(): void;
  /** Releases everything (child processes, sockets, files). */
  close(): Promise<void>;
  /**
   * A sink whose device opens after the first write (a player process) may still fail just
   * after it: the player reports a stream "started" only once this long has passed without a
   * failure, so a player that could not open its device never reports audio as playing.
   */
  readonly startConfirmMs?: number;
  /** Failures noticed outside a write (a player process that exited, ...). */
  readonly failures$?: Observable<Error>;
}
