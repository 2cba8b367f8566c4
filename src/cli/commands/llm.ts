/**
 * `voice-stream llm --model <dir|repo> --prompt <text> [--system S] [--max-new-tokens N]
 *  [--temperature T] [--top-k K] [--top-p P] [--seed S] [--stop TEXT]... [--thinking]
 *  [--dtype D] [--raw] [--json]`
 *
 * Streams one generation. Without --json only the generated text is printed, delta by delta
 * as it arrives; with --json one chunk object per line, the final one last. Ctrl-C cancels
 * (the cancelled chunk is the last --json line).
 */
import { Subject } from "rxjs";
import { commandOptions, numberOption, parseCommandArgs, requireOption } from "../args";
import { CliError } from "../cli-error";
import { REMOTE_HELP, REMOTE_OPTIONS, remoteConfig } from "../remote-options";
import { LlmRequestError } from "../../core/llm/llm-request";
import { openForCli } from "../open-engine";
import type { OpenedModel } from "../../core/open-model";
import type { LlmEngine, LlmRequest, LlmStreamChunk, LoadProgress } from "../../core/types";

const USAGE =
  "usage: voice-stream llm --model <dir|repo|http(s)://host:port/v1> [--server-model NAME] --prompt <text> [--system S] [--max-new-tokens N] [--temperature T] " +
  "[--top-k K] [--top-p P] [--seed S] [--stop TEXT]... [--thinking] [--dtype D] [--raw] [--json]";

const HELP = `${USAGE}
  --model           model directory (onnx/model.onnx, tokenizer.json, ...) or Hugging Face repo id
  --prompt          the user's message (with --raw: the exact text to continue)
  --system          system prompt (chat models)
  --max-new-tokens  most tokens to generate (default: the model's, else 256)
  --temperature     0 is greedy; default: the model's generation_config
  --top-k, --top-p  sampling cuts; --seed makes sampling repeatable
  --stop            stop before this text (repeatable); the text is never printed
  --thinking        let thinking models reason first (off by default)
  --dtype           ONNX variant: fp32 (default), fp16, q4, q4f16, quantized, ...
  --raw             skip the chat template (implied when the model has none)
  --json            one chunk object per line, the final one last
${REMOTE_HELP}environment: HF_ENDPOINT (hub mirror), HF_TOKEN, HF_HUB_OFFLINE=1, VOICE_STREAM_CACHE (download cache)
`;

export async function run(argv: string[]): Promise<number> {
  const options = {
    ...commandOptions(
      ["model", "prompt", "system", "max-new-tokens", "temperature", "top-k", "top-p", "seed", "dtype"],
      ["thinking", "raw", "json"],
      ["stop"],
    ),
    ...REMOTE_OPTIONS,
  };
  const { values } = parseCommandArgs(argv, options);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const model = requireOption(values, "model");
  const prompt = requireOption(values, "prompt");
  const str = (value: unknown) => (typeof value === "string" ? value : undefined);
  const topP = numberOption(values, "top-p", { max: 1 });
  if (topP !== undefined && topP <= 0) throw new CliError(`--top-p must be above 0 (and at most 1), got ${topP}`);
  const stops = values.stop;
  const request: LlmRequest = {
    prompt,
    system: str(values.system),
    max_new_tokens: numberOption(values, "max-new-tokens", { integer: true, min: 1 }),
    temperature: numberOption(values, "temperature", { min: 0 }),
    top_k: numberOption(values, "top-k", { integer: true, min: 0 }),
    top_p: topP,
    seed: numberOption(values, "seed", { integer: true }),
    stop_sequences: Array.isArray(stops) ? stops.filter((s): s is string => typeof s === "string") : undefined,
    enable_thinking: values.thinking === true,
    raw: values.raw === true,
  };

  const opened: OpenedModel<LlmEngine> = await openForCli<LlmEngine>("llm", model, {
    config: { ...(str(values.dtype) ? { dtype: str(values.dtype) } : {}), ...remoteConfig(values) },
    onProgress: showDownload,
    warn: (message) => process.stderr.write(`voice-stream llm: ${message}\n`),
  });
  const engine = opened.engine;
  const cancel$ = new Subject<void>();
  const onSignal = () => cancel$.next();
  process.once("SIGINT", onSignal);
  try {
    await new Promise<void>((resolve, reject) => {
      engine.generate(request, { cancel$ }).subscribe({
        next: (chunk) => print(chunk, values.json === true),
        error: reject,
        complete: resolve,
      });
    });
  } catch (err) {
    if (err instanceof LlmRequestError) throw new CliError(err.message);
    throw err;
  } finally {
    process.removeListener("SIGINT", onSignal);
    await opened.close();
  }
  return 0;
}

/** Download progress on a terminal's stderr (stdout stays the generated text). */
function showDownload(state: LoadProgress): void {
  if (!process.stderr.isTTY) return;
  if (state.phase === "downloading") {
    process.stderr.write(`\rdownloading ${Math.round((state.fraction ?? 0) * 100)}%${state.file ? ` ${state.file}` : ""}\x1b[K`);
  } else if (state.phase === "loading" || state.phase === "ready") {
    process.stderr.write("\r\x1b[K");
  }
}

function print(chunk: LlmStreamChunk, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(chunk) + "\n");
    return;
  }
  if (chunk.delta) process.stdout.write(chunk.delta);
  // Only a terminal gets the closing newline: piped output is exactly the generated text.
  if (chunk.is_final && process.stdout.isTTY) process.stdout.write("\n");
}
