/**
 * Only the verifier figures of the hands-free part (no false-wake hour): trains the hey_jarvis
 * verifier from espeak-ng speech and judges it on held-out positives and the speech clips.
 * `node dist/bench/hands-free/verifier-run.js [--positives N] [--negatives N] [--near N] [--held-out N] [--out file.json]`
 * (--out keeps the trained file, e.g. under bench/out: it derives from a CC BY-NC-SA head, never commit it).
 */
import * as os from "os";
import { parseArgs } from "util";
import { openNamedModel } from "../../src/core/open-model";
import type { OpenWakeWordEngine } from "../../src/core/wake/engines/openwakeword/engine";
import { writeVerifierFile } from "../../src/core/wake/verifier";
import { PACKAGED_MODELS } from "./figures";
import { benchVerifier, verifierFigures, VERIFIER_CLIPS } from "./verifier-eval";

const HEAD = "hey_jarvis_v0.1";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      positives: { type: "string", default: String(VERIFIER_CLIPS.positives) },
      negatives: { type: "string", default: String(VERIFIER_CLIPS.negatives) },
      near: { type: "string", default: String(VERIFIER_CLIPS.near) },
      "held-out": { type: "string", default: "96" },
      out: { type: "string" },
    },
  });
  const load0 = os.loadavg();
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line} (load ${os.loadavg()[0].toFixed(1)})\n`);
  const opened = await openNamedModel<OpenWakeWordEngine>("wake", PACKAGED_MODELS, { config: { heads: [HEAD] } });
  try {
    log("training the verifier");
    const trained = await benchVerifier(opened.engine, HEAD, { positives: Number(values.positives), negatives: Number(values.negatives), near: Number(values.near) });
    if (values.out) writeVerifierFile(values.out, trained.verifier);
    const lines = await verifierFigures(opened.engine, HEAD, trained, Number(values["held-out"]), log);
    process.stdout.write(`${lines.join("\n")}\nLoad average (1/5/15 min) before ${load0.map((l) => l.toFixed(1)).join(" / ")}, after ${os.loadavg().map((l) => l.toFixed(1)).join(" / ")}.\n`);
  } finally {
    await opened.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
