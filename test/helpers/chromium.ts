/**
 * Headless Chromium for the page tests, with a fake microphone that plays a WAV file once.
 * Tests find it with `needTool(this, "chromium")` (test/helpers/system-tools.ts: without it
 * they skip naming the apt package, unless CI is set, then they fail) and launch it here.
 */
import * as fs from "fs";
import * as path from "path";
import { chromium, type Browser } from "playwright-core";
import { repoRoot } from "./paths";

/** `executablePath`: what needTool(this, "chromium") returned. */
export async function launchChromium(executablePath: string, options: { micWav?: string } = {}): Promise<Browser> {
  const args = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
  ];
  // %noloop: the file plays once from when the microphone opens, then silence.
  if (options.micWav) args.push(`--use-file-for-fake-audio-capture=${options.micWav}%noloop`);
  return chromium.launch({ executablePath, headless: true, args });
}

/** Where page tests keep screenshots: test-artifacts/ in the repository (not committed). */
export function artifactPath(name: string): string {
  const dir = path.join(repoRoot(), "test-artifacts");
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
