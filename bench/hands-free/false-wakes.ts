/**
 * Only the false-wake measurement of the hands-free bench part (false wakes per hour over
 * generated speech, and the CPU share of that pass), printed as markdown for RESULTS.md's
 * Hands-free section: `node dist/bench/hands-free/false-wakes.js [--hours H] [--pool N]`.
 * CPU heavy (about 10 min of CPU per hour of speech): run it once.
 */
import * as os from "os";
import { parseArgs } from "util";
import { DEFAULT_HEADS, handsFreeFigures, PACKAGED_MODELS } from "./figures";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { hours: { type: "string", default: "1" }, pool: { type: "string", default: "120" } } });
  const started = new Date();
  const load0 = os.loadavg();
  const markdown = await handsFreeFigures(
    { hours: Number(values.hours), bargeHours: 0, trials: 0, pool: Number(values.pool), budgetMin: 0, bargeBudgetMin: 0, model: PACKAGED_MODELS, heads: DEFAULT_HEADS, pieces: ["false-wakes"] },
    (line) => process.stderr.write(`${new Date().toISOString()} ${line} (load ${os.loadavg()[0].toFixed(1)})\n`),
  );
  const load1 = os.loadavg();
  process.stdout.write(`${markdown}\nRun ${started.toISOString()} → ${new Date().toISOString()}; load average (1/5/15 min) before ${load0.map((l) => l.toFixed(1)).join(" / ")}, after ${load1.map((l) => l.toFixed(1)).join(" / ")}.\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
