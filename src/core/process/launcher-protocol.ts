/** Messages between the process launcher (process-launcher.ts) and its child (launcher-child.ts). */

export type ToLauncher =
  // A tool run to its end: stdin in, its output back in one "done".
  | { type: "run"; id: number; command: string; args: string[]; stdin: string | Uint8Array; env: NodeJS.ProcessEnv }
  // A long-running tool fed as it goes (a player): "write"s to its stdin, "end" closes it; with
  // `stdout`, its output comes back as it is written (a recorder).
  | { type: "open"; id: number; command: string; args: string[]; env: NodeJS.ProcessEnv; stdout?: boolean }
  | { type: "write"; id: number; data: Uint8Array }
  | { type: "end"; id: number }
  | { type: "kill"; id: number };

export type FromLauncher =
  | { type: "done"; id: number; code: number | null; signal: NodeJS.Signals | null; stdout: Uint8Array; stderr: Uint8Array }
  | { type: "done"; id: number; error: { message: string; code?: string } }
  | { type: "started"; id: number; pid: number }
  | { type: "stderr"; id: number; data: Uint8Array }
  | { type: "stdout"; id: number; data: Uint8Array }
  | { type: "failed"; id: number; error: { message: string; code?: string } }
  | { type: "exit"; id: number; code: number | null; signal: NodeJS.Signals | null };
