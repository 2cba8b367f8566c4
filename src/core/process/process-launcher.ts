/**
 * Runs tools (espeak-ng, once per TTS span; the speaker's player, fed as it plays; the microphone's
 * recorder, read as it records) through one small helper process instead of spawning them from this one.
 *
 * Why: Node's spawn() forks the calling process, and on Linux the fork copies its page tables
 * while the event loop waits. In Node-RED with models loaded that is ~20 ms per GB mapped (1 GB
 * RSS: ~20 ms, 3 GB: ~62 ms a spawn, measured here), and the voice turn spawned espeak-ng for every
 * span: each one stalled vad, whisper-streamer and audio-out, right when the first audio was due.
 * The helper is forked once (one such stall) and, being small, spawns each tool in ~1 ms.
 *
 * The helper is unreferenced while nothing runs, so it never keeps the process alive, and it ends
 * when this process does. If it cannot be started (or dies before its first answer), tools are
 * spawned directly (the old way).
 * `VOICE_STREAM_LAUNCHER=0` spawns directly always (for A/B measurements).
 */
import { fork, type ChildProcess } from "child_process";
import { EventEmitter } from "events";
import * as path from "path";
import type { FromLauncher, ToLauncher } from "./launcher-protocol";
import { runTool, startFedTool, type ToolOutcome } from "./run-tool";

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

interface Pending {
  /** The helper the run was sent to. */
  owner: ChildProcess;
  command: string;
  args: string[];
  stdin: string | Uint8Array;
  signal?: AbortSignal;
  resolve: (result: ToolResult) => void;
  reject: (err: Error) => void;
}

const CHILD = path.join(__dirname, "launcher-child.js");

/** Buffers cross the IPC channel as Uint8Arrays: a Buffer view of the same bytes. */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A spawn failure as it crossed the IPC channel, back as an Error with its `code` (e.g. ENOENT). */
function spawnError(error: { message: string; code?: string }): NodeJS.ErrnoException {
  const err = new Error(error.message) as NodeJS.ErrnoException;
  if (error.code) err.code = error.code;
  return err;
}

function settle(outcome: ToolOutcome | Extract<FromLauncher, { type: "done" }>, pending: Pick<Pending, "resolve" | "reject">): void {
  if ("error" in outcome) return pending.reject(spawnError(outcome.error));
  pending.resolve({ code: outcome.code, signal: outcome.signal, stdout: asBuffer(outcome.stdout), stderr: asBuffer(outcome.stderr) });
}

/**
 * A long-running tool fed as it goes (the speaker's player) or read as it goes (a recorder),
 * wherever it was spawned. Events: "stdout" (Buffer; opened with `stdout`), "stderr" (Buffer),
 * "error" (Error with the spawn's `code`, e.g. ENOENT; no "exit" follows) and "exit" (code, signal).
 * `pid` is known once it started.
 */
export class LaunchedProcess extends EventEmitter {
  pid: number | undefined;
  /** Whether it ended (exit or a failed start). */
  ended = false;

  constructor(private readonly control: { write(data: Uint8Array): void; end(): void; kill(): void }) {
    super();
  }

  write(data: Uint8Array): void {
    if (!this.ended) this.control.write(data);
  }

  /** Closes its stdin: it plays what it has and ends by itself. */
  end(): void {
    if (!this.ended) this.control.end();
  }

  /** Ends it now (SIGKILL). */
  kill(): void {
    if (!this.ended) this.control.kill();
  }

  /** @internal */
  started(pid: number | undefined): void {
    this.pid = pid;
  }

  /** @internal */
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    this.ended = true;
    this.emit("exit", code, signal);
  }

  /** @internal */
  failed(error: { message: string; code?: string }): void {
    if (this.ended) return;
    this.ended = true;
    this.emit("error", spawnError(error));
  }
}

export class ProcessLauncher {
  /** `childScript`: the helper's entry (tests give one that cannot work). */
  constructor(private readonly childScript = CHILD) {}

  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<number, { owner: ChildProcess; command: string; process: LaunchedProcess }>();
  private nextId = 1;
  private unavailable = false;
  /** Whether a helper has ever answered: one that dies before its first answer cannot run here (spawns go direct). */
  private worked = false;

  /** Runs `command` with `args` and `stdin`, resolving with its exit and output; a spawn failure rejects with its `code` (e.g. ENOENT). */
  run(command: string, args: string[], stdin: string | Uint8Array, signal?: AbortSignal): Promise<ToolResult> {
    const helper = process.env.VOICE_STREAM_LAUNCHER === "0" ? undefined : this.helper();
    if (!helper) return this.runDirect(command, args, stdin, signal);
    const id = this.nextId++;
    return new Promise<ToolResult>((resolve, reject) => {
      const onAbort = () => this.send({ type: "kill", id });
      const finish = () => {
        signal?.removeEventListener("abort", onAbort);
        this.pending.delete(id);
        this.idleIfNothingRuns();
      };
      this.pending.set(id, {
        owner: helper,
        command,
        args,
        stdin,
        signal,
        resolve: (r) => (finish(), resolve(r)),
        reject: (e) => (finish(), reject(e)),
      });
      this.idle(false);
      signal?.addEventListener("abort", onAbort, { once: true });
      // This process's environment as it is now (PATH may have changed since the helper started).
      this.send({ type: "run", id, command, args, stdin, env: process.env });
      if (signal?.aborted) onAbort();
    });
  }

  /**
   * Starts `command` to be fed as it goes (stdin "pipe", stderr reported; stdout reported as
   * "stdout" events with `options.stdout`, else ignored), with `env` as its whole environment.
   * Through the helper when it runs, else spawned here.
   */
  open(command: string, args: string[], env: NodeJS.ProcessEnv, options: { stdout?: boolean } = {}): LaunchedProcess {
    const stdout = options.stdout === true;
    const helper = process.env.VOICE_STREAM_LAUNCHER === "0" ? undefined : this.helper();
    if (!helper) return this.openDirect(command, args, env, stdout);
    const id = this.nextId++;
    const launched = new LaunchedProcess({
      write: (data) => this.send({ type: "write", id, data }),
      end: () => this.send({ type: "end", id }),
      kill: () => this.send({ type: "kill", id }),
    });
    const done = () => {
      this.streams.delete(id);
      this.idleIfNothingRuns();
    };
    launched.once("exit", done);
    launched.once("error", done);
    this.streams.set(id, { owner: helper, command, process: launched });
    this.idle(false);
    this.send({ type: "open", id, command, args, env, stdout });
    return launched;
  }

  /** Ends the helper (tests; it also ends by itself with this process). */
  close(): void {
    this.child?.disconnect();
    this.child = undefined;
  }

  private helper(): ChildProcess | undefined {
    if (this.child || this.unavailable) return this.child;
    try {
      // execArgv []: no inspector or profiler flags of this process; "advanced": Buffers as they are.
      const child = fork(this.childScript, [], { serialization: "advanced", stdio: ["ignore", "ignore", "inherit", "ipc"], execArgv: [] });
      child.on("message", (message: FromLauncher) => {
        this.worked = true;
        if (message.type === "done") {
          const waiting = this.pending.get(message.id);
          if (waiting) settle(message, waiting);
          return;
        }
        const stream = this.streams.get(message.id)?.process;
        if (!stream) return;
        if (message.type === "started") stream.started(message.pid);
        else if (message.type === "stderr") stream.emit("stderr", asBuffer(message.data));
        else if (message.type === "stdout") stream.emit("stdout", asBuffer(message.data));
        else if (message.type === "exit") stream.exited(message.code, message.signal);
        else if (message.type === "failed") stream.failed(message.error);
      });
      child.on("error", () => undefined); // reported through 'exit' below
      child.on("exit", (code, signal) => {
        if (this.child === child) this.child = undefined;
        const waiting = [...this.pending.values()].filter((w) => w.owner === child);
        // Tools fed as they go lose their input with their helper: they fail, naming it (the caller's next start gets a new helper).
        for (const [, stream] of [...this.streams].filter(([, st]) => st.owner === child)) {
          stream.process.failed({ message: `the helper process that runs ${stream.command} ended (${signal ?? `exit ${code}`}); the next start uses a new one` });
        }
        if (!this.worked) {
          // It never answered (it cannot start here): its runs and all later ones spawn directly.
          this.unavailable = true;
          for (const w of waiting) this.runDirect(w.command, w.args, w.stdin, w.signal).then(w.resolve, w.reject);
          return;
        }
        for (const w of waiting) w.reject(new Error(`the helper process that runs ${w.command} ended (${signal ?? `exit ${code}`}); the next run starts a new one`));
      });
      child.unref();
      this.child = child;
      this.idle(true);
      return child;
    } catch {
      this.unavailable = true;
      return undefined;
    }
  }

  private idleIfNothingRuns(): void {
    if (this.pending.size === 0 && this.streams.size === 0) this.idle(true);
  }

  private openDirect(command: string, args: string[], env: NodeJS.ProcessEnv, stdout: boolean): LaunchedProcess {
    const launched: LaunchedProcess = new LaunchedProcess({
      write: (data) => child?.stdin?.write(data),
      end: () => child?.stdin?.end(),
      kill: () => child?.kill("SIGKILL"),
    });
    const child = startFedTool(command, args, env, {
      started: (pid) => launched.started(pid),
      stderr: (data) => launched.emit("stderr", data),
      stdout: stdout ? (data) => launched.emit("stdout", data) : undefined,
      exited: (code, signal) => launched.exited(code, signal),
      failed: (error) => launched.failed(error),
    });
    return launched;
  }

  /** While nothing runs the helper's channel does not keep this process alive. */
  private idle(yes: boolean): void {
    const channel = (this.child as (ChildProcess & { channel?: { ref(): void; unref(): void } }) | undefined)?.channel;
    if (yes) channel?.unref();
    else channel?.ref();
  }

  private send(message: ToLauncher): void {
    this.child?.send(message);
  }

  private runDirect(command: string, args: string[], stdin: string | Uint8Array, signal?: AbortSignal): Promise<ToolResult> {
    return new Promise((resolve, reject) => {
      const onAbort = () => child?.kill("SIGKILL");
      const child = runTool(command, args, stdin, process.env, (outcome) => {
        signal?.removeEventListener("abort", onAbort);
        settle(outcome, { resolve, reject });
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      if (signal?.aborted) onAbort();
    });
  }
}

/** The process's one launcher. */
export const processLauncher = new ProcessLauncher();
