/** Messages between the process launcher (process-launcher.ts) and its child (launcher-child.ts). */

export type ToLauncher =
  | { type: "run"; id: number; command: string; args: string[]; stdin: string | Uint8Array; env: NodeJS.ProcessEnv }
  | { type: "kill"; id: number };

export type FromLauncher =
  | { type: "done"; id: number; code: number | null; signal: NodeJS.Signals | null; stdout: Uint8Array; stderr: Uint8Array }
  | { type: "done"; id: number; error: { message: string; code?: string } };
