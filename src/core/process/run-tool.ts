/**
 * Runs a tool to its end: `stdin` in, everything it writes collected. One implementation for the
 * launcher's child (launcher-child.ts) and for the direct fallback in process-launcher.ts.
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
