/**
 * Tests that need an optional system tool (a player, a recorder, espeak-ng, sox, a browser).
 * On a developer's machine without the tool such a test is skipped with a line naming the apt
 * package, so `npm test` passes after a plain `npm install`. In CI (CI set, as .ci/run runs after
 * installing every package) a missing tool is a failure that names the package: a skip there
 * would hide a test that never ran.
 */
import { findExecutable } from "../../src/core/audio/system-tools";

export interface SystemTool {
  /** Commands to look for on PATH, first found wins. */
  commands: string[];
  /** The Debian/Ubuntu package that installs it. */
  aptPackage: string;
}

export const SYSTEM_TOOLS = {
  aplay: { commands: ["aplay"], aptPackage: "alsa-utils" },
  arecord: { commands: ["arecord"], aptPackage: "alsa-utils" },
  "espeak-ng": { commands: ["espeak-ng"], aptPackage: "espeak-ng" },
  sox: { commands: ["sox"], aptPackage: "sox" },
  chromium: { commands: ["chromium", "chromium-browser"], aptPackage: "chromium" },
  /** Any player audio-out's "auto" accepts (the same order as choosePlayer). */
  "audio player": { commands: ["aplay", "pw-play", "paplay", "ffplay", "play"], aptPackage: "alsa-utils" },
  /** Any recorder audio-in's "auto" accepts (the same order as chooseRecorder). */
  "audio recorder": { commands: ["arecord", "parec", "sox"], aptPackage: "alsa-utils" },
} satisfies Record<string, SystemTool>;

export type ToolName = keyof typeof SYSTEM_TOOLS;

/** CI is set to anything but "", "0" or "false" (GitHub Actions and most CIs set CI=true). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = (env.CI ?? "").trim().toLowerCase();
  return ci !== "" && ci !== "0" && ci !== "false";
}

/** Full path of the tool, or undefined when none of its commands is on PATH. */
export function findTool(tool: ToolName, envPath?: string): string | undefined {
  for (const command of SYSTEM_TOOLS[tool].commands) {
    const found = findExecutable(command, envPath);
    if (found) return found;
  }
  return undefined;
}

/** The one-line reason a test cannot run here. */
export function missingToolLine(tool: ToolName): string {
  const { commands, aptPackage } = SYSTEM_TOOLS[tool];
  const what = commands.length === 1 ? `${commands[0]} is not installed` : `none of ${commands.join(", ")} is installed`;
  return `${what}: sudo apt-get install ${aptPackage}`;
}

/**
 * Call first thing in a `before` hook or an `it` (a `function`, not an arrow, so `this` is
 * mocha's context). Returns the tool's path. When the tool is missing: in CI throws an error
 * naming the apt package; elsewhere prints that line and skips the test (or, from a `before`
 * hook, every test of the suite).
 */
export function needTool(ctx: Mocha.Context, tool: ToolName): string {
  const found = findTool(tool);
  if (found) return found;
  const line = missingToolLine(tool);
  if (inCi()) throw new Error(`${line} (CI is set, so tests that need it must run)`);
  // In a before hook the runnable is the hook: name its suite; in a test, the test.
  const runnable = ctx.test as (Mocha.Runnable & { type?: string }) | undefined;
  const title = (runnable?.type === "hook" ? runnable.parent?.fullTitle() : runnable?.fullTitle()) ?? "";
  console.log(`      skipped${title ? ` '${title}'` : ""}: ${line} (with CI=true this is a failure)`);
  ctx.skip();
}
