/**
 * One voice's turns of the bench's voice-turn section in their own process (one Node-RED, clean
 * memory): loads the turn flow, runs the warm-up turns and the schedule, prints one JSON line
 * { timelines, warmup, loadAverage } (or { error }).
 *
 *   node dist/bench/turn/turn-worker.js '{"models":…,"questionWav":…,"schedule":[…],…}'
 */
import * as os from "os";
import { readWavFile } from "../../src/core/audio/wav";
import { runTurns, type TurnVariant } from "./turn-harness";
import type { TurnFlowModels } from "./turn-flow";

export interface TurnWorkerArgs {
  models: TurnFlowModels;
  questionWav: string;
  systemPrompt: string;
  replyPieces: string[];
  warmup: TurnVariant[];
  schedule: TurnVariant[];
  minSilenceMs?: number;
  budgetMs?: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as TurnWorkerArgs;
  const { samples, sampleRate } = await readWavFile(args.questionWav);
  if (sampleRate !== 16000) throw new Error(`${args.questionWav} is ${sampleRate} Hz; the turn bench feeds 16 kHz like audio-in`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const helper = require("node-red-node-test-helper");
  helper.init(require.resolve("node-red"));
  const log = (line: string) => process.stderr.write(line + "\n");
  const loadBefore = os.loadavg();
  // Warm-up and measured turns in one flow: the models load once, during the first warm-up turn.
  const all = await runTurns(helper, { ...args, question: samples, schedule: [...args.warmup, ...args.schedule], log });
  const result = { warmup: all.slice(0, args.warmup.length), timelines: all.slice(args.warmup.length), loadAverage: { before: loadBefore, after: os.loadavg() } };
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: (err as Error).message.split("\n")[0] }) + "\n");
  process.exit(0);
});
