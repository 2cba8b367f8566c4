/** Command-line options of `npm run bench`. */
import { parseArgs } from "util";

export const PARTS = ["bandwidth", "llm", "asr", "tts", "nodered", "remote", "wyoming", "levers", "llamacpp", "kernel", "prefill", "inplace", "kokoro", "handsfree", "turn", "gpu"] as const;
export type Part = (typeof PARTS)[number];

/**
 * Pieces of part "handsfree": the clip scores; the false wakes per hour (with the bench-trained
 * verifier) and the CPU share of that pass; the wake-latency and barge-in-latency trials; the
 * false barge-ins over the assistant's voice.
 */
export const HANDS_FREE_PIECES = ["clips", "false-wakes", "trials", "barge"] as const;
export type HandsFreePiece = (typeof HANDS_FREE_PIECES)[number];

export interface BenchOptions {
  only: Part[];
  runs: number;
  warmup: number;
  /** Small models only (stories260K, tiny fixtures): a minute, for checking the harness. */
  quick: boolean;
  /** Print the results as JSON on stdout (the report still goes to bench/RESULTS.md unless --no-write). */
  json: boolean;
  write: boolean;
  outDir: string;
  /** LLM model cases to run (labels), all when empty. */
  models: string[];
  /** Re-render RESULTS.md from bench/out/results.json without measuring. */
  reportOnly: boolean;
  /** Replace only the measured sections of the existing RESULTS.md (with --only), keeping the rest. */
  merge: boolean;
  /** Which pieces of part "handsfree" to measure (all by default); with --merge only their subsections are replaced. */
  handsFreePieces: HandsFreePiece[];
}

export const USAGE = `usage: npm run bench -- [--only ${PARTS.join(",")}] [--runs N (default 5)] [--warmup N (default 1)]
                      [--quick] [--models stories260K,qwen3-fp32,qwen3-q4] [--json] [--no-write]
                      [--report-only (re-render RESULTS.md from bench/out/results.json)]
                      [--merge (with --only, or --report-only of such a run: replace just those parts' sections in
                       RESULTS.md, keep the rest)]
                      [--hands-free-parts ${HANDS_FREE_PIECES.join(",")} (part handsfree: measure only these; with
                       --merge only their subsections of the Hands-free section are replaced)]`;

export function parseBenchOptions(argv: string[], outDir: string): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: "string" },
      runs: { type: "string" },
      warmup: { type: "string" },
      quick: { type: "boolean" },
      json: { type: "boolean" },
      "no-write": { type: "boolean" },
      models: { type: "string" },
      "report-only": { type: "boolean" },
      merge: { type: "boolean" },
      "hands-free-parts": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) throw new Error(USAGE);
  const only = values.only ? values.only.split(",").map((s) => s.trim()) : [...PARTS];
  for (const part of only) if (!(PARTS as readonly string[]).includes(part)) throw new Error(`unknown part '${part}'\n${USAGE}`);
  if (values.merge && !values["report-only"] && (only.includes("llm") || only.includes("bandwidth"))) {
    throw new Error(`--merge replaces the asr, tts, nodered or wyoming sections of RESULTS.md; choose them with --only (the llm and bandwidth parts need a full run)\n${USAGE}`);
  }
  const pieces = values["hands-free-parts"] ? values["hands-free-parts"].split(",").map((s) => s.trim()) : [...HANDS_FREE_PIECES];
  for (const piece of pieces) if (!(HANDS_FREE_PIECES as readonly string[]).includes(piece)) throw new Error(`unknown --hands-free-parts piece '${piece}'\n${USAGE}`);
  const count = (name: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got '${raw}'`);
    return n;
  };
  return {
    only: only as Part[],
    runs: count("runs", values.runs, values.quick ? 3 : 5, 1),
    warmup: count("warmup", values.warmup, 1, 0),
    quick: values.quick === true,
    json: values.json === true,
    write: values["no-write"] !== true,
    outDir,
    models: values.models ? values.models.split(",").map((s) => s.trim()) : [],
    reportOnly: values["report-only"] === true,
    merge: values.merge === true,
    handsFreePieces: pieces as HandsFreePiece[],
  };
}
