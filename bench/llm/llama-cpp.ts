/**
 * llama.cpp (node-llama-cpp's prebuilt CPU build) on a GGUF file, driven with token ids so both
 * engines see the very same prompt: greedy generation with timings, and the next-token
 * probabilities along a teacher-forced sequence (to compare how far quantization moves them).
 * node-llama-cpp is ESM-only, hence the dynamic import from this CommonJS build.
 */
import type { Llama, LlamaContext, LlamaModel } from "node-llama-cpp" with { "resolution-mode": "import" };
import { performance } from "perf_hooks";

export interface LlamaCppGeneration {
  ids: number[];
  /** Seconds from the call to the first generated token. */
  timeToFirstToken: number;
  /** Decode tokens per second after the first token. */
  tokensPerSecond: number;
}

export class LlamaCppRunner {
  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
  ) {}

  static async open(file: string, threads: number, contextSize = 2048): Promise<LlamaCppRunner> {
    // node-llama-cpp reads CI as a boolean at import and throws on an empty value (`CI= npm test`).
    if (process.env.CI === "") delete process.env.CI;
    const { getLlama } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" as never });
    const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
    const context = await model.createContext({ contextSize, threads, batchSize: 512, sequences: 1 });
    return new LlamaCppRunner(llama, model, context);
  }

  /** Greedy: `count` new tokens after `promptIds` (end-of-generation tokens do not stop it). */
  async generate(promptIds: number[], count: number): Promise<LlamaCppGeneration> {
    const sequence = this.context.getSequence();
    try {
      const started = performance.now();
      let first = 0;
      let last = 0;
      const ids: number[] = [];
      for await (const token of sequence.evaluate(promptIds as never[], { temperature: 0 })) {
        const now = performance.now();
        if (ids.length === 0) first = now;
        last = now;
        ids.push(token as unknown as number);
        if (ids.length >= count) break;
      }
      const decodeSeconds = (last - first) / 1000;
      return {
        ids,
        timeToFirstToken: (first - started) / 1000,
        tokensPerSecond: ids.length > 1 && decodeSeconds > 0 ? (ids.length - 1) / decodeSeconds : 0,
      };
    } finally {
      sequence.dispose();
    }
  }

  /**
   * The next-token distribution after each of the last `positions` tokens of `ids` (teacher
   * forcing), as dense arrays over the vocabulary.
   */
  async probabilities(ids: number[], positions: number, vocabSize: number): Promise<Float32Array[]> {
    const sequence = this.context.getSequence();
    try {
      const from = ids.length - positions;
      const input = ids.map((id, i) => (i >= from ? ([id, { generateNext: { probabilities: true } }] as const) : id));
      const outputs = await sequence.controlledEvaluate(input as never);
      const rows: Float32Array[] = [];
      for (let i = from; i < ids.length; i++) {
        const map = outputs[i]?.next?.probabilities;
        if (!map) throw new Error(`llama.cpp returned no probabilities at position ${i}`);
        const row = new Float32Array(vocabSize);
        for (const [token, p] of map) row[token as unknown as number] = p;
        rows.push(row);
      }
      return rows;
    } finally {
      sequence.dispose();
    }
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
