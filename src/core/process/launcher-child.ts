/**
 * The process launcher's child (see process-launcher.ts): a small Node process that starts the
 * short-lived tools the suite runs (espeak-ng, per span) on the parent's behalf and sends back
 * what they wrote. Its own memory is a few tens of MB, so a spawn here costs about a millisecond,
 * where a spawn from Node-RED's process (models loaded, GBs mapped) blocks that process's event
 * loop ~20 ms per GB while the kernel copies its page tables for the fork.
 */
import type { ChildProcess } from "child_process";
import type { FromLauncher, ToLauncher } from "./launcher-protocol";
import { runTool } from "./run-tool";

const running = new Map<number, ChildProcess>();

process.on("message", (message: ToLauncher) => {
  if (message.type === "kill") {
    running.get(message.id)?.kill("SIGKILL");
    return;
  }
  const { id } = message;
  const child = runTool(message.command, message.args, message.stdin, message.env, (outcome) => {
    running.delete(id);
    if (process.connected) process.send!({ type: "done", id, ...outcome } as FromLauncher);
  });
  if (child) running.set(id, child);
});

// The parent went away (exit, crash, or it let the launcher go): stop what still runs, then end.
process.on("disconnect", () => {
  for (const child of running.values()) child.kill("SIGKILL");
  process.exit(0);
});
