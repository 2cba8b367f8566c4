/**
 * The process launcher's child (see process-launcher.ts): a small Node process that starts the
 * tools the suite runs (espeak-ng per span, the speaker's player, the microphone's recorder) on the parent's behalf and passes
 * their input and output along. Its own memory is a few tens of MB, so a spawn here costs about a
 * millisecond, where a spawn from Node-RED's process (models loaded, GBs mapped) blocks that
 * process's event loop ~20 ms per GB while the kernel copies its page tables for the fork.
 */
import type { ChildProcess } from "child_process";
import type { FromLauncher, ToLauncher } from "./launcher-protocol";
import { runTool, startFedTool } from "./run-tool";

const running = new Map<number, ChildProcess>();

function send(message: FromLauncher): void {
  if (process.connected) process.send!(message);
}

/** A tool fed as it goes: started (its pid), stderr, stdout when asked, and exit (or failed) go back as they happen. */
function open(id: number, command: string, args: string[], env: NodeJS.ProcessEnv, stdout: boolean): void {
  const child = startFedTool(command, args, env, {
    started: (pid) => send({ type: "started", id, pid }),
    stderr: (data) => send({ type: "stderr", id, data }),
    stdout: stdout ? (data) => send({ type: "stdout", id, data }) : undefined,
    exited: (code, signal) => (running.delete(id), send({ type: "exit", id, code, signal })),
    failed: (error) => (running.delete(id), send({ type: "failed", id, error })),
  });
  if (child) running.set(id, child);
}

process.on("message", (message: ToLauncher) => {
  switch (message.type) {
    case "kill":
      running.get(message.id)?.kill("SIGKILL");
      return;
    case "write":
      running.get(message.id)?.stdin?.write(message.data);
      return;
    case "end":
      running.get(message.id)?.stdin?.end();
      return;
    case "open":
      return open(message.id, message.command, message.args, message.env, message.stdout === true);
    case "run": {
      const { id } = message;
      const child = runTool(message.command, message.args, message.stdin, message.env, (outcome) => {
        running.delete(id);
        send({ type: "done", id, ...outcome } as FromLauncher);
      });
      if (child) running.set(id, child);
    }
  }
});

// The parent went away (exit, crash, or it let the launcher go): stop what still runs, then end.
process.on("disconnect", () => {
  for (const child of running.values()) child.kill("SIGKILL");
  process.exit(0);
});
