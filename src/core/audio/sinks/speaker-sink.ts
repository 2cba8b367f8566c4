/**
 * Plays through the first system player that is installed (aplay, pw-play, paplay, ffplay,
 * sox's play) or the one chosen: raw s16le mono goes to the child's stdin. Arguments are
 * an array (no shell). stop() kills the child so the sound ends now; the next write starts
 * a fresh one. A child that exits on its own is reported on failures$. The player is started
 * through the process launcher (core/process), so starting one does not stall Node-RED's
 * event loop for the fork of a process with models loaded.
 */
import { processLauncher, type LaunchedProcess } from "../../process/process-launcher";
import { deviceFailureText, withStatusText } from "../../status-text";
import { Subject } from "rxjs";
import { floatToS16LE } from "../pcm";
import { findExecutable } from "../system-tools";
import type { AudioSink } from "../sink";

export type PlayerCommand = "aplay" | "pw-play" | "paplay" | "ffplay" | "play";

interface PlayerSpec {
  /** Debian/Ubuntu package that provides it. */
  apt: string;
  args(rate: number, device: string | undefined): string[];
  /** Extra environment (sox picks its device from AUDIODEV). */
  env?(device: string | undefined): Record<string, string>;
}

export const PLAYERS: Record<PlayerCommand, PlayerSpec> = {
  aplay: {
    apt: "alsa-utils",
    // aplay otherwise waits for a full buffer before it starts, so a stream's last fraction of a
    // second would sit unplayed until more audio came: start 20 ms after data arrives instead.
    args: (rate, device) => ["-q", "-t", "raw", "-f", "S16_LE", "-r", String(rate), "-c", "1", "--start-delay=20000", ...(device ? ["-D", device] : []), "-"],
  },
  "pw-play": {
    apt: "pipewire-bin",
    args: (rate, device) => ["--format", "s16", "--rate", String(rate), "--channels", "1", ...(device ? ["--target", device] : []), "-"],
  },
  paplay: {
    apt: "pulseaudio-utils",
    args: (rate, device) => ["--raw", "--format=s16le", `--rate=${rate}`, "--channels=1", ...(device ? [`--device=${device}`] : [])],
  },
  ffplay: {
    apt: "ffmpeg",
    args: (rate) => ["-nodisp", "-autoexit", "-loglevel", "error", "-f", "s16le", "-ar", String(rate), "-ch_layout", "mono", "-i", "-"],
  },
  play: {
    apt: "sox",
    args: (rate) => ["-q", "-t", "raw", "-r", String(rate), "-e", "signed", "-b", "16", "-c", "1", "-"],
    env: (device): Record<string, string> => (device ? { AUDIODEV: device } : {}),
  },
};

export const PLAYER_ORDER: PlayerCommand[] = ["aplay", "pw-play", "paplay", "ffplay", "play"];

function installHint(commands: PlayerCommand[]): string {
  const packages = [...new Set(commands.map((c) => PLAYERS[c].apt))];
  return `install one, e.g. sudo apt-get install ${packages[0]} (packages: ${packages.join(", ")})`;
}

/** The player command to run: `choice` when given (and installed), else the first installed. */
export function choosePlayer(choice?: string, envPath?: string): { command: PlayerCommand; path: string } {
  if (choice && choice !== "auto") {
    if (!(choice in PLAYERS)) throw new Error(`unknown audio player "${choice}"; use one of ${PLAYER_ORDER.join(", ")} or auto`);
    const command = choice as PlayerCommand;
    const found = findExecutable(command, envPath);
    if (!found) throw withStatusText(new Error(`audio player ${command} is not installed: sudo apt-get install ${PLAYERS[command].apt}`), `${command} not installed`);
    return { command, path: found };
  }
  for (const command of PLAYER_ORDER) {
    const found = findExecutable(command, envPath);
    if (found) return { command, path: found };
  }
  throw withStatusText(new Error(`no audio player found (looked for ${PLAYER_ORDER.join(", ")}): ${installHint(PLAYER_ORDER)}`), "no audio player installed");
}

export interface SpeakerOptions {
  /** "auto" (default) or one of PLAYERS. */
  player?: string;
  /** Device for the player (aplay -D, pw-play --target, paplay --device, AUDIODEV for sox). */
  device?: string;
  sampleRate?: number;
  /** PATH to search (tests). */
  envPath?: string;
}

export class SpeakerSink implements AudioSink {
  readonly name = "speaker";
  /** aplay, pw-play, paplay and sox give up on a missing device within tens of ms of starting. */
  readonly startConfirmMs = 250;
  readonly sampleRate: number;
  readonly command: PlayerCommand;
  private readonly executable: string;
  private readonly device: string | undefined;
  private child: LaunchedProcess | undefined;
  private readonly failures = new Subject<Error>();
  readonly failures$ = this.failures.asObservable();
  private closed = false;
  /** The player failed during this stream: the rest of the stream is dropped rather than failing once per chunk. */
  private broken = false;
  /** Bytes handed to players so far (all children). */
  bytesWritten = 0;

  /** Throws the clear "not installed" error at once, so a node can show it before any audio. */
  constructor(options: SpeakerOptions = {}) {
    const chosen = choosePlayer(options.player, options.envPath);
    this.command = chosen.command;
    this.executable = chosen.path;
    this.device = options.device?.trim() || undefined;
    this.sampleRate = options.sampleRate ?? 24000;
    if (!Number.isInteger(this.sampleRate) || this.sampleRate <= 0) throw new RangeError(`speaker sample rate must be a positive whole number, got ${options.sampleRate}`);
  }

  /** The running child's process id, once it started (tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  write(samples: Float32Array): void {
    if (this.closed || this.broken || samples.length === 0) return;
    const child = this.child ?? this.start();
    const bytes = floatToS16LE(samples);
    this.bytesWritten += bytes.length;
    child.write(bytes);
  }

  /** The player drains what it was given on its own; a failed player is retried with the next stream. */
  endStream(): void {
    this.broken = false;
  }

  stop(): void {
    this.broken = false;
    this.kill();
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    this.kill();
    if (child && !child.ended) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.failures.complete();
  }

  private start(): LaunchedProcess {
    const spec = PLAYERS[this.command];
    const child = processLauncher.open(this.executable, spec.args(this.sampleRate, this.device), { ...process.env, ...(spec.env?.(this.device) ?? {}) });
    this.child = child;
    let stderr = "";
    child.on("stderr", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-500);
    });
    child.on("error", (err: Error) => {
      if (this.child === child) this.child = undefined;
      this.broken = true;
      this.failures.next(withStatusText(new Error(`could not run ${this.command}: ${err.message}`), "audio player failed"));
    });
    child.on("exit", (code: number | null, signal: NodeJS.Signals | null) => {
      if (this.child !== child) return; // killed by us (stop/close)
      this.child = undefined;
      this.broken = true;
      const why = stderr.trim() ? `: ${stderr.trim().split("\n").slice(-2).join(" ")}` : "";
      this.failures.next(
        withStatusText(new Error(`${this.command} exited unexpectedly (${signal ?? `code ${code}`})${why}`), deviceFailureText("player", signal, stderr)),
      );
    });
    return child;
  }

  private kill(): void {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    child.kill();
  }
}
