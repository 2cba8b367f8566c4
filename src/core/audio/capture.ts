/**
 * Audio sources for audio-in, as cold Observables of fixed-size frames (teardown stops the
 * capture): a microphone through a system recorder (arecord, parec or sox) writing 16 kHz
 * mono s16le to stdout, and WAV files played back as frames, in real time or as fast as
 * possible. The last frame may be shorter; the Observable completes at the end.
 */
import { Observable } from "rxjs";
import { processLauncher } from "../process/process-launcher";
import { systemClock, type Clock } from "./clock";
import { s16leToFloat } from "./pcm";
import { resample } from "./resample";
import { findExecutable } from "./system-tools";
import { deviceFailureText, withStatusText } from "../status-text";
import { readWavFile } from "./wav";

export const CAPTURE_RATE = 16000;

/** Cuts a sample stream into frames of `frameSize`, carrying the remainder over. */
export class FrameSplitter {
  private pending = new Float32Array(0);

  constructor(readonly frameSize: number) {
    if (!Number.isInteger(frameSize) || frameSize < 1) throw new RangeError(`frame size must be a positive whole number of samples, got ${frameSize}`);
  }

  push(samples: Float32Array): Float32Array[] {
    const all = new Float32Array(this.pending.length + samples.length);
    all.set(this.pending);
    all.set(samples, this.pending.length);
    const frames: Float32Array[] = [];
    let at = 0;
    for (; at + this.frameSize <= all.length; at += this.frameSize) frames.push(all.slice(at, at + this.frameSize));
    this.pending = all.slice(at);
    return frames;
  }

  /** The shorter last frame, if any samples are left. */
  flush(): Float32Array | undefined {
    const rest = this.pending;
    this.pending = new Float32Array(0);
    return rest.length > 0 ? rest : undefined;
  }
}

export type RecorderCommand = "arecord" | "parec" | "sox";

interface RecorderSpec {
  apt: string;
  args(device: string | undefined): string[];
  env?(device: string | undefined): Record<string, string>;
}

const RATE = String(CAPTURE_RATE);
export const RECORDERS: Record<RecorderCommand, RecorderSpec> = {
  arecord: { apt: "alsa-utils", args: (d) => ["-q", "-t", "raw", "-f", "S16_LE", "-r", RATE, "-c", "1", ...(d ? ["-D", d] : [])] },
  parec: { apt: "pulseaudio-utils", args: (d) => ["--raw", "--format=s16le", `--rate=${RATE}`, "--channels=1", ...(d ? [`--device=${d}`] : [])] },
  sox: {
    apt: "sox",
    args: () => ["-q", "-d", "-t", "raw", "-r", RATE, "-e", "signed", "-b", "16", "-c", "1", "-"],
    env: (d): Record<string, string> => (d ? { AUDIODEV: d } : {}),
  },
};
export const RECORDER_ORDER: RecorderCommand[] = ["arecord", "parec", "sox"];

export function chooseRecorder(choice?: string, envPath?: string): { command: RecorderCommand; path: string } {
  if (choice && choice !== "auto") {
    if (!(choice in RECORDERS)) throw new Error(`unknown recorder "${choice}"; use one of ${RECORDER_ORDER.join(", ")} or auto`);
    const command = choice as RecorderCommand;
    const found = findExecutable(command, envPath);
    if (!found) throw withStatusText(new Error(`recorder ${command} is not installed: sudo apt-get install ${RECORDERS[command].apt}`), `${command} not installed`);
    return { command, path: found };
  }
  for (const command of RECORDER_ORDER) {
    const found = findExecutable(command, envPath);
    if (found) return { command, path: found };
  }
  const packages = RECORDER_ORDER.map((c) => RECORDERS[c].apt);
  throw withStatusText(
    new Error(`no audio recorder found (looked for ${RECORDER_ORDER.join(", ")}): install one, e.g. sudo apt-get install alsa-utils (packages: ${packages.join(", ")})`),
    "no audio recorder installed",
  );
}

export interface MicrophoneOptions {
  recorder?: string;
  device?: string;
  frameSize: number;
  envPath?: string;
}

/**
 * Frames from a microphone until unsubscribed (the recorder is killed then). A recorder
 * that cannot start or exits on its own errors the Observable with its reason.
 * The recorder is chosen on subscribe, so a missing one errors there. It runs through the
 * process launcher (process/process-launcher.ts): a spawn from Node-RED's own process, models
 * loaded, would stall its event loop while the kernel copies the page tables.
 */
export function microphoneFrames(options: MicrophoneOptions): Observable<Float32Array> {
  return new Observable<Float32Array>((subscriber) => {
    const { command, path } = chooseRecorder(options.recorder, options.envPath);
    const spec = RECORDERS[command];
    const device = options.device?.trim() || undefined;
    const splitter = new FrameSplitter(options.frameSize);
    const child = processLauncher.open(path, spec.args(device), { ...process.env, ...(spec.env?.(device) ?? {}) }, { stdout: true });
    // A recorder reads nothing: its stdin closes at once.
    child.end();
    let stopping = false;
    let odd: Buffer | undefined;
    let stderr = "";
    child.on("stderr", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-500);
    });
    child.on("stdout", (data: Buffer) => {
      if (stopping) return;
      // A read may end inside a sample: keep the odd byte for the next one.
      let bytes = odd ? Buffer.concat([odd, data]) : data;
      odd = undefined;
      if (bytes.length % 2 === 1) {
        odd = bytes.subarray(bytes.length - 1);
        bytes = bytes.subarray(0, bytes.length - 1);
      }
      for (const frame of splitter.push(s16leToFloat(bytes))) subscriber.next(frame);
    });
    child.on("error", (err) => subscriber.error(withStatusText(new Error(`could not run ${command}: ${err.message}`), "audio recorder failed")));
    child.on("exit", (code: number | null, signal: NodeJS.Signals | null) => {
      if (stopping) return;
      const why = stderr.trim() ? `: ${stderr.trim().split("\n").slice(-1)[0]}` : "";
      subscriber.error(withStatusText(new Error(`${command} stopped recording unexpectedly (${signal ?? `code ${code}`})${why}`), deviceFailureText("recorder", signal, stderr)));
    });
    return () => {
      stopping = true;
      child.kill();
    };
  });
}

export interface FileFramesOptions {
  frameSize: number;
  /** Pace frames at the audio's own speed (else as fast as the consumer takes them). */
  realtime?: boolean;
  clock?: Clock;
}

/** A WAV file (any rate, mixed to mono, resampled to 16 kHz) as frames; completes at its end. */
export function wavFileFrames(path: string, options: FileFramesOptions): Observable<Float32Array> {
  return new Observable<Float32Array>((subscriber) => {
    const clock = options.clock ?? systemClock;
    const splitter = new FrameSplitter(options.frameSize);
    let cancelled = false;
    let timer: unknown;
    readWavFile(path).then(
      (wav) => {
        if (cancelled) return;
        const samples = resample(wav.samples, wav.sampleRate, CAPTURE_RATE);
        const frames = splitter.push(samples);
        const last = splitter.flush();
        if (last) frames.push(last);
        const start = clock.now();
        let index = 0;
        let sentSamples = 0;
        const step = () => {
          timer = undefined;
          if (cancelled) return;
          // As fast as possible still yields now and then so Node-RED stays responsive.
          const until = options.realtime ? index + 1 : index + 50;
          for (; index < frames.length && index < until; index++) {
            subscriber.next(frames[index]);
            sentSamples += frames[index].length;
            if (cancelled) return;
          }
          if (index >= frames.length) return subscriber.complete();
          // Real time: frame k goes out when the audio before it has had time to play.
          const due = options.realtime ? start + (sentSamples * 1000) / CAPTURE_RATE - clock.now() : 0;
          timer = options.realtime ? clock.setTimer(step, due) : setImmediate(step);
        };
        step();
      },
      (err) => subscriber.error(err),
    );
    return () => {
      cancelled = true;
      if (timer === undefined) return;
      if (options.realtime) clock.clearTimer(timer);
      else clearImmediate(timer as NodeJS.Immediate);
    };
  });
}
