/**
 * Starting tools, one implementation for the launcher's child (launcher-child.ts) and for the
 * direct fallback in process-launcher.ts: a tool run to its end (runTool), or one fed as it goes
 * (startFedTool, the speaker's player).
 */
import { spawn, type ChildProcess } from "child_process";

export type ToolOutcome =
  | { code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: Buffer }
  | { error: { message: string; code?: string } };

/** Starts `command` with environment `env`; `done` is called exactly once. Returns the child, to kill it (undefined when it could not start). */
export function runTool(command: string, args: string[], stdin: string | Uint8Array, env: NodeJS.ProcessEnv, done: (outcome: ToolOutcome) => void): ChildProcess | undefined {
  let answered = false;
  const answer = (outcome: ToolOutcome) => {
    if (answered) return;
    answered = true;
    done(outcome);
  };
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env });
  } catch (err) {
    answer({ error: { message: (err as Error).message, code: (err as NodeJS.ErrnoException).code } });
    return undefined;
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on("data", (d: Buffer) => out.push(d));
  child.stderr!.on("data", (d: Buffer) => err.push(d));
  child.on("error", (e: NodeJS.ErrnoException) => answer({ error: { message: e.message, code: e.code } }));
  child.on("close", (code, signal) => answer({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  child.stdin!.on("error", () => undefined); // a tool that exits before reading all of stdin: 'close' reports it
  child.stdin!.end(stdin);
  return child;
}

export interface FedToolEvents {
  started(pid: number): void;
  stderr(data: Buffer): void;
  /** Its output as it comes, when it was started with `stdout` (a recorder); else its stdout is ignored. */
  stdout?(data: Buffer): void;
  /** After every stderr chunk ('close', not 'exit': the reason a player gives comes first). */
  exited(code: number | null, signal: NodeJS.Signals | null): void;
  /** It could not start (e.g. ENOENT); nothing follows. */
  failed(error: { message: string; code?: string }): void;
}

/**
 * Starts `command` to be fed on stdin as it goes (its stdout to `events.stdout` when given, else
 * ignored); returns the child, or undefined when it could not start.
 */
export function startFedTool(command: string, args: string[], env: NodeJS.ProcessEnv, events: FedToolEvents): ChildProcess | undefined {
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ["pipe", events.stdout ? "pipe" : "ignore", "pipe"], env });
  } catch (err) {
    const error = { message: (err as Error).message, code: (err as NodeJS.ErrnoException).code };
    setImmediate(() => events.failed(error)); // as a spawn error would come: after the caller has listened
    return undefined;
  }
  let failed = false;
  child.on("spawn", () => events.started(child.pid!));
  child.stderr!.on("data", (data: Buffer) => events.stderr(data));
  if (events.stdout) child.stdout!.on("data", (data: Buffer) => events.stdout!(data));
  child.stdin!.on("error", () => undefined); // EPIPE when the tool died: its exit says why
  child.on("error", (e: NodeJS.ErrnoException) => {
    failed = true;
    events.failed({ message: e.message, code: e.code });
  });
  child.on("close", (code, signal) => {
    if (!failed) events.exited(code, signal);
  });
  return child;
}
