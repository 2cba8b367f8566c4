/**
 * A decode-step A/B of graph rewrites (part "inplace"; any later rewrite's A/B can use it): each variant is the model rewritten as the engine loads a 4-bit decoder (int8
 * activations, fused MatMuls, append-only cache) plus its own options, decoded through a
 * KvCacheDecoder after prompts of given lengths; rounds interleave the variants (order rotating)
 * in one process, so the ratios are same-run ratios, and the sessions are created again in the
 * reverse order halfway.
 */
import * as fs from "fs";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { lastLogitsModel, type LastLogitsOptions } from "../../src/core/onnx/decoder/last-logits-graph";
import { readModelShape } from "../../src/core/onnx/decoder/model-config";
import { sessionOptions } from "../../src/core/onnx/session-factory";
import { CPU_DEFAULT_Q4_ACCURACY_LEVEL } from "../../src/core/onnx/decoder/decoder-session";
import { KvCacheDecoder, type KvCacheShape } from "../../src/core/onnx/decoder/kv-cache-decoder";
import type { BenchOptions } from "../options";
import { fmt, median } from "../stats";
import { prepareQwen3 } from "../llm/llm-section";
import { prepareNeutts } from "./speech-synthesis";
import { codecRows } from "./kernel-bound";

/** Steps decoded after each prompt; the last TIMED of them are timed. */
export const STEPS = 48;
export const TIMED = 24;

export interface StepVariant {
  label: string;
  options: LastLogitsOptions;
}

export interface Model {
  label: string;
  file: string;
  shape: KvCacheShape;
  prompts: number[];
  logitRows?: number[];
}

/** Per prompt, per variant: the timed steps (ms). */
export async function measureSteps(model: Model, variants: StepVariant[], rounds: number, log: (line: string) => void): Promise<number[][][]> {
  const sessions: (ort.InferenceSession | undefined)[] = variants.map(() => undefined);
  /** Opens every variant's session, in `order`. */
  const open = async (order: number[]) => {
    for (const v of order) {
      const rewritten = lastLogitsModel(model.file, {
        matMulNBitsAccuracyLevel: CPU_DEFAULT_Q4_ACCURACY_LEVEL,
        fuseSiblingMatMuls: true,
        appendOnlyCache: true,
        logitRows: model.logitRows,
        ...variants[v].options,
      });
      if (!rewritten || (variants[v].options.pastInPlaceAttention && rewritten.pastInPlaceLayers !== model.shape.numLayers)) {
        throw new Error(`${model.file}: the ${variants[v].label} form did not apply`);
      }
      sessions[v] = await ort.InferenceSession.create(rewritten.bytes, {
        ...sessionOptions(["cpu"], {}),
        extra: { session: { model_external_initializers_file_folder_path: rewritten.externalDataFolder } },
      });
    }
  };
  const release = async () => {
    await Promise.all(sessions.map((s) => s?.release()));
    sessions.fill(undefined);
  };
  const forward = variants.map((_, i) => i);
  try {
    await open(forward);
    const times = model.prompts.map(() => variants.map(() => [] as number[]));
    for (let round = 0; round < rounds; round++) {
      // Sessions created later in a process have decoded a few percent faster on some hosts, whatever
      // their graph: the second half of the rounds runs on sessions created in the reverse order.
      if (round === Math.ceil(rounds / 2) && variants.length > 1) {
        await release();
        await open([...forward].reverse());
      }
      for (let p = 0; p < model.prompts.length; p++) {
        const ids = Array.from({ length: model.prompts[p] }, (_, i) => 100 + ((i * 37) % 5000));
        for (let k = 0; k < variants.length; k++) {
          const v = (k + round) % variants.length;
          const decoder = new KvCacheDecoder(sessions[v]!, model.shape);
          await decoder.prefill(ids);
          for (let s = 0; s < STEPS; s++) {
            const t0 = performance.now();
            await decoder.step(100 + s);
            if (s >= STEPS - TIMED) times[p][v].push(performance.now() - t0);
          }
          decoder.dispose();
        }
      }
      log(`  ${model.label} round ${round + 1}: ` + model.prompts.map((n, p) => `${n}+: ` + variants.map((_, v) => fmt(median(times[p][v].slice(-TIMED)), 1)).join("/")).join(", ") + " ms");
    }
    return times;
  } finally {
    await release();
  }
}

/** The two models every decode-step A/B runs on: the Qwen3-0.6B-shaped LLM and the NeuTTS-shaped codec LM (q4). */
export async function decodeStepModels(options: BenchOptions, log: (line: string) => void): Promise<Model[]> {
  const qwenDir = prepareQwen3(options.outDir, "q4", log);
  const neutts = prepareNeutts(options, "q4", log).dir;
  return [
    {
      label: "Qwen3-0.6B-shaped q4 (LLM)",
      file: path.join(qwenDir, "onnx", "model_q4.onnx"),
      shape: readModelShape(JSON.parse(fs.readFileSync(path.join(qwenDir, "config.json"), "utf8"))),
      prompts: [32, 464],
    },
    {
      label: "NeuTTS-shaped q4 (codec LM)",
      file: path.join(neutts, "backbone", "onnx", "model_q4.onnx"),
      shape: readModelShape(JSON.parse(fs.readFileSync(path.join(neutts, "backbone", "config.json"), "utf8")), "backbone/config.json"),
      // A span's prompt (text + the voice's 250 reference codes), and a short one.
      prompts: [32, 321],
      logitRows: await codecRows(neutts),
    },
  ];
}
