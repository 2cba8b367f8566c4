/**
 * Headless Chromium for the page tests, with a fake microphone that plays a WAV file once.
 * Tests call `chromiumOrSkip(this)`: without /usr/bin/chromium they skip with the apt package
 * to install, unless CI is set (then they fail).
 */
import * as fs from "fs";
import * as path from "path";
import { chromium, type Browser } from "playwright-core";
import { repoRoot } from "./paths";

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export function chromiumMissing(): string | undefined {
  if (fs.existsSync(CHROMIUM)) return undefined;
  return `Chromium not found at ${CHROMIUM}: apt-get install -y chromium`;
}

/** Skips the suite (`this` of a mocha before hook) when Chromium is missing and CI is unset. */
export function chromiumOrSkip(ctx: Mocha.Context): void {
  const missing = chromiumMissing();
  if (!missing) return;
  if (process.env.CI) throw new Error(missing);
  console.log(`      skipped: ${missing}`);
  ctx.skip();
}

export async function launchChromium(options: { micWav?: string } = {}): Promise<Browser> {
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
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

/** Where page tests keep screenshots: test-artifacts/ in the repository (not committed). */
export function artifactPath(name: string): string {
  const dir = path.join(repoRoot(), "test-artifacts");
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
