import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import { lastLogitsModel, type LastLogitsOptions } from "../../src/core/onnx/decoder/last-logits-graph";
import { requantizeToInt8 } from "../../src/core/onnx/decoder/int8-prefill-graph";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { LocalDecoderModel } from "../../src/core/onnx/decoder/local-decoder-model";
import { INT8_PREFILL_FROM_ROWS } from "../../src/core/onnx/decoder/decoder-session";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import type { OnnxLlmEngine } from "../../src/core/llm/engines/onnx/onnx-llm-engine";
import { localLoadContext } from "../../src/core/registry";
import { dequantize4bit, quantize4bit } from "../../src/core/onnx-builder/quantize-4bit";
import { randomDecoderOnlyWeights, writeDecoderOnlyModel, type DecoderOnlyConfig } from "../../src/core/onnx-builder/transformer";
import { convertLlama2c } from "../../src/core/llm/llama2c/convert";
import { fixtureDir } from "../helpers/fixtures";
import { SMALL_DECODER, openRewritten } from "./decoder-support";
import { readReferenceIds, STORIES, STORIES_PROMPTS } from "./llm-support";

const config: DecoderOnlyConfig = SMALL_DECODER;

function seededFloats(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
}

const opCount = (bytes: Uint8Array, opType: string) => (onnx.ModelProto.decode(bytes).graph!.node ?? []).filter((n) => n.opType === opType).length;

async function open(file: string, options: LastLogitsOptions): Promise<{ session: ort.InferenceSession; bytes: Uint8Array }> {
  const model = lastLogitsModel(file, options);
  assert.ok(model, "the rewrite understood the graph");
  const session = await openRewritten(model);
  return { session, bytes: model.bytes };
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function range(row: Float32Array): number {
  return Math.max(...row) - Math.min(...row);
}

/** A session whose runs are counted (the decoder picks a session per call). */
function counted(session: ort.InferenceSession): { session: ort.InferenceSession; runs: () => number } {
  let runs = 0;
  const proxy = new Proxy(session, {
    get(target, key) {
      if (key === "run") return (...args: unknown[]) => (runs++, (target.run as (...a: unknown[]) => unknown).apply(target, args));
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { session: proxy, runs: () => runs };
}

describe("int8 prefill: 4-bit weights re-quantized to int8 for many-row prefills", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "int8-prefill-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const symmetric of [true, false]) {
    it(`requantizeToInt8 (${symmetric ? "symmetric" : "zero-point"} blocks, K ending inside a block): [K, N] int8, one scale a column = its largest |w| ÷ 127, every weight within half a step`, () => {
      const n = 70; // more than one chunk of columns
      const k = 200; // 6¼ blocks of 32
      const weight = seededFloats(n * k, symmetric ? 7 : 8);
      for (let i = 0; i < k; i++) weight[5 * k + i] *= 40; // a column far larger than the others
      weight.fill(0, 9 * k, 10 * k); // an all-zero column
      const q4 = quantize4bit(weight, n, k, 32, symmetric);
      const exact = dequantize4bit(q4); // [N, K], what MatMulNBits multiplies with
      const { weights, scales } = requantizeToInt8(q4.packed, q4.scales, q4.zeroPoints, n, k, 32);
      assert.equal(weights.length, k * n);
      assert.equal(scales.length, n);
      for (let c = 0; c < n; c++) {
        let max = 0;
        for (let i = 0; i < k; i++) max = Math.max(max, Math.abs(exact[c * k + i]));
        if (max === 0) assert.equal(scales[c], 1, "an all-zero column keeps a finite scale");
        else assert.ok(Math.abs(scales[c] - max / 127) <= 1e-6 * max, `column ${c}: scale ${scales[c]} for largest ${max}`);
        for (let i = 0; i < k; i++) {
          const back = weights[i * n + c] * scales[c];
          assert.ok(Math.abs(back - exact[c * k + i]) <= scales[c] / 2 + 1e-6 * max, `w[${c}, ${i}] = ${exact[c * k + i]} came back as ${back}`);
        }
        if (max > 0) assert.ok([...Array(k).keys()].some((i) => Math.abs(weights[i * n + c]) === 127), `column ${c}'s largest weight maps to ±127`);
      }
      assert.throws(() => requantizeToInt8(q4.packed.subarray(1), q4.scales, q4.zeroPoints, n, k, 32), /4-bit weight \[70, 200\]/);
    });
  }

  it("rewrites every 4-bit MatMul but the lm_head; the prefill's logits stay close to the 4-bit session's, with the same inputs and outputs", async () => {
    const file = writeDecoderOnlyModel(path.join(dir, "q4"), config, randomDecoderOnlyWeights(config, 11), { weightFormat: "q4" });
    const options: LastLogitsOptions = { matMulNBitsAccuracyLevel: 4, appendOnlyCache: true, fuseSiblingMatMuls: true };
    const q4 = await open(file, options);
    const int8 = await open(file, { ...options, int8MatMuls: true });
    try {
      assert.equal(opCount(int8.bytes, "DynamicQuantizeMatMul"), 7 * config.numLayers);
      assert.equal(opCount(int8.bytes, "MatMulNBits"), 1, "the lm_head (one row after the last-position slice) stays 4-bit");
      assert.deepEqual(int8.session.inputNames, q4.session.inputNames);
      assert.deepEqual(int8.session.outputNames, q4.session.outputNames);
      const ids = Array.from({ length: 40 }, (_, i) => (i * 37 + 5) % config.vocabSize);
      const a = new KvCacheDecoder(q4.session, config);
      const b = new KvCacheDecoder(int8.session, config);
      const rowA = (await a.prefill(ids)).slice();
      const rowB = (await b.prefill(ids)).slice();
      const diff = maxAbsDiff(rowA, rowB);
      console.log(`      int8 against 4-bit prefill: max |logit diff| ${diff.toFixed(4)} (logit range ${range(rowA).toFixed(3)})`);
      assert.ok(diff < 0.05 * range(rowA), `int8 prefill moved the logits by ${diff}`);
      assert.equal(argmax(rowB), argmax(rowA));
      a.dispose();
      b.dispose();
    } finally {
      await q4.session.release();
      await int8.session.release();
    }
  });

  it("leaves a float model alone (nothing to rewrite: no prefill session)", () => {
    const file = writeDecoderOnlyModel(path.join(dir, "fp32"), config, randomDecoderOnlyWeights(config, 11));
    assert.equal(lastLogitsModel(file, { int8MatMuls: true }), undefined);
  });

  it("the decoder runs prefills of fromRows rows or more on the prefill session and the rest, steps included, on its own; the 4-bit steps continue from the cache the int8 prefill wrote", async () => {
    const file = writeDecoderOnlyModel(path.join(dir, "q4-route"), config, randomDecoderOnlyWeights(config, 12), { weightFormat: "q4" });
    for (const layout of ["positions", "heads"] as const) {
      const options: LastLogitsOptions = { matMulNBitsAccuracyLevel: 4, appendOnlyCache: true, appendOnlyLayout: layout, fuseSiblingMatMuls: true };
      const q4 = await open(file, options);
      const int8 = await open(file, { ...options, int8MatMuls: true });
      try {
        const main = counted(q4.session);
        const prefill = counted(int8.session);
        const routed = new KvCacheDecoder(main.session, config, { prefill: { session: prefill.session, fromRows: 16 } });
        const plain = new KvCacheDecoder(q4.session, config);
        const prompt = Array.from({ length: 24 }, (_, i) => (i * 53 + 1) % config.vocabSize);
        const rows: Array<[Float32Array, Float32Array]> = [[(await routed.prefill(prompt)).slice(), (await plain.prefill(prompt)).slice()]];
        assert.equal(prefill.runs(), 1, "24 rows: the prefill session");
        assert.equal(main.runs(), 0);
        const more = [4, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169, 196, 225, 256];
        rows.push([(await routed.prefill(more.slice(0, 15))).slice(), (await plain.prefill(more.slice(0, 15))).slice()]);
        assert.equal(main.runs(), 1, "15 rows: below fromRows, the decoder's own session");
        for (const id of [7, 8, 9]) rows.push([(await routed.step(id)).slice(), (await plain.step(id)).slice()]);
        assert.equal(main.runs(), 4, "steps: the decoder's own session");
        assert.equal(prefill.runs(), 1);
        assert.equal(routed.length, 24 + 15 + 3);
        rows.forEach(([r, p], i) => {
          const diff = maxAbsDiff(r, p);
          assert.ok(diff < 0.05 * range(p), `${layout}, call ${i}: ${diff} from the all-4-bit path (range ${range(p)})`);
        });
        routed.dispose();
        plain.dispose();
      } finally {
        await q4.session.release();
        await int8.session.release();
      }
    }
  });

  it("refuses a prefill session whose inputs or outputs differ from the decoder's", async () => {
    const file = writeDecoderOnlyModel(path.join(dir, "q4-mismatch"), config, randomDecoderOnlyWeights(config, 13), { weightFormat: "q4" });
    const appendOnly = await open(file, { appendOnlyCache: true });
    const plain = await open(file, { int8MatMuls: true });
    try {
      assert.throws(() => new KvCacheDecoder(appendOnly.session, config, { prefill: { session: plain.session, fromRows: 16 } }), /prefill session's inputs and outputs differ/);
    } finally {
      await appendOnly.session.release();
      await plain.session.release();
    }
  });

  it("on real trained weights (stories260K, converted with q4), the int8 prefill moves the next-token distribution from fp32 about as far as the 4-bit prefill", async () => {
    const out = path.join(dir, "stories260K");
    convertLlama2c(path.join(STORIES, "stories260K.bin"), path.join(STORIES, "tok512.bin"), out, { q4: true });
    const model = JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8"));
    const shape = { numLayers: model.num_hidden_layers, numKvHeads: model.num_key_value_heads, headDim: model.hidden_size / model.num_attention_heads };
    const fp32 = await open(path.join(out, "onnx", "model.onnx"), {});
    const q4 = await open(path.join(out, "onnx", "model_q4.onnx"), { matMulNBitsAccuracyLevel: 4 });
    const int8 = await open(path.join(out, "onnx", "model_q4.onnx"), { matMulNBitsAccuracyLevel: 4, int8MatMuls: true });
    const softmax = (row: Float32Array) => {
      const max = Math.max(...row);
      const e = Float64Array.from(row, (v) => Math.exp(v - max));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / sum);
    };
    const kl = (p: Float64Array, q: Float64Array) => p.reduce((k, pi, i) => (pi > 0 ? k + pi * Math.log(pi / Math.max(q[i], 1e-30)) : k), 0);
    const total = { q4: 0, int8: 0, agreeQ4: 0, agreeInt8: 0, prefills: 0 };
    try {
      for (const name of Object.keys(STORIES_PROMPTS)) {
        const { prompt, generated } = readReferenceIds(name);
        const ids = [...prompt, ...generated];
        // Prefills of 16+ rows: the ones the engine sends to the int8 session.
        for (let end = 16; end <= ids.length; end += 4) {
          const last = async (session: ort.InferenceSession) => {
            const decoder = new KvCacheDecoder(session, shape);
            try {
              return (await decoder.prefill(ids.slice(0, end))).slice();
            } finally {
              decoder.dispose();
            }
          };
          const [reference, a, b] = [await last(fp32.session), await last(q4.session), await last(int8.session)];
          const p = softmax(reference);
          total.q4 += kl(p, softmax(a));
          total.int8 += kl(p, softmax(b));
          total.agreeQ4 += Number(argmax(a) === argmax(reference));
          total.agreeInt8 += Number(argmax(b) === argmax(reference));
          total.prefills++;
        }
      }
    } finally {
      await Promise.all([fp32.session.release(), q4.session.release(), int8.session.release()]);
    }
    const klQ4 = total.q4 / total.prefills;
    const klInt8 = total.int8 / total.prefills;
    console.log(`      stories260K, ${total.prefills} prefills: mean KL(fp32 ‖ 4-bit) ${klQ4.toExponential(2)}, (fp32 ‖ int8) ${klInt8.toExponential(2)}; top-1 agreement ${total.agreeQ4} / ${total.agreeInt8}`);
    assert.ok(total.prefills >= 20, `${total.prefills} prefills`);
    assert.ok(klInt8 <= 1.25 * klQ4, `int8 prefill drift ${klInt8} against the 4-bit prefill's ${klQ4}`);
    assert.ok(total.agreeInt8 >= total.agreeQ4 - 1, `top-1 agreement with fp32: int8 ${total.agreeInt8}, 4-bit ${total.agreeQ4} of ${total.prefills}`);
  });

  describe("in the LLM engine (tiny-llm's 4-bit variant)", () => {
    const decodersOf = (engine: OnnxLlmEngine) => (engine as unknown as { parts: { decoders: LocalDecoderModel } }).parts.decoders;

    it(`opens an int8 prefill session by default (CPU, 4-bit model), none with int8_prefill false or for the float model; prompts of ${INT8_PREFILL_FROM_ROWS}+ tokens generate the same greedy text either way on this fixture`, async () => {
      const enginesPath = await fixtureDir("tiny-llm");
      const withInt8 = await loadLlm(localLoadContext("llm", { enginesPath, config: { dtype: "q4", worker_thread: false, prefix_cache_mb: 0 } }));
      const without = await loadLlm(localLoadContext("llm", { enginesPath, config: { dtype: "q4", worker_thread: false, prefix_cache_mb: 0, int8_prefill: false } }));
      const float = await loadLlm(localLoadContext("llm", { enginesPath, config: { worker_thread: false } }));
      try {
        assert.ok(decodersOf(withInt8).prefill?.session, "default: a prefill session");
        assert.equal(decodersOf(without).prefill?.session, undefined);
        assert.equal(decodersOf(float).prefill?.session, undefined);
        const prompt = "Tell me a long story about a cat who lived on a boat and sailed the seven seas with friends";
        assert.ok(withInt8.tokenizer.encode(prompt, false).length >= INT8_PREFILL_FROM_ROWS);
        const text = async (engine: OnnxLlmEngine) => {
          let out = "";
          await new Promise<void>((resolve, reject) =>
            engine.generate({ prompt, temperature: 0, max_new_tokens: 12 }).subscribe({ next: (c) => (out += c.delta ?? ""), error: reject, complete: resolve }),
          );
          return out;
        };
        const [a, b] = [await text(withInt8), await text(without)];
        assert.ok(a.length > 0);
        assert.equal(a, b);
      } finally {
        await Promise.all([withInt8.dispose(), without.dispose(), float.dispose()]);
      }
    });

    const failures: Array<{ what: string; message: RegExp; open: (ctx: ReturnType<typeof localLoadContext>, file: string) => ReturnType<ReturnType<typeof localLoadContext>["createSession"]> }> = [
      { what: "fails to open", message: /\(no kernel for DynamicQuantizeMatMul\)/, open: () => Promise.reject(new Error("no kernel for DynamicQuantizeMatMul")) },
      // The file as it is: plain present.* outputs where the decoder's session has the append-only cache's.
      { what: "does not match the decoder's inputs and outputs", message: /prefill session's inputs and outputs differ/, open: (ctx, file) => ctx.createSession(file) },
    ];
    for (const failure of failures) {
      it(`a prefill session that ${failure.what} leaves the model on its 4-bit prefill, with a warning naming the model`, async () => {
        const warnings: string[] = [];
        const ctx = localLoadContext("llm", { enginesPath: await fixtureDir("tiny-llm"), config: { dtype: "q4", worker_thread: false, append_only_cache: true } }, { warn: (m) => warnings.push(m) });
        const failing = {
          ...ctx,
          createSession: (file: string, rewritten?: Parameters<typeof ctx.createSession>[1]) => {
            const int8 = rewritten && opCount(rewritten.bytes, "DynamicQuantizeMatMul") > 0;
            return int8 ? failure.open(ctx, file) : ctx.createSession(file, rewritten);
          },
        };
        const engine = await loadLlm(failing);
        try {
          assert.equal(decodersOf(engine).prefill?.session, undefined);
          assert.ok(warnings.some((w) => /no int8 prefill session, prefilling in 4 bits/.test(w) && failure.message.test(w) && w.includes(ctx.source.id)), warnings.join("\n"));
          let text = "";
          await new Promise<void>((resolve, reject) =>
            engine.generate({ prompt: "Tell me a long story about a cat who lived on a boat", temperature: 0, max_new_tokens: 4 }).subscribe({ next: (c) => (text += c.delta ?? ""), error: reject, complete: resolve }),
          );
          assert.ok(text.length > 0);
        } finally {
          await engine.dispose();
        }
      });
    }

    it("int8_prefill must be true or false (an error naming the model)", async () => {
      await assert.rejects(
        loadLlm(localLoadContext("llm", { enginesPath: await fixtureDir("tiny-llm"), config: { dtype: "q4", int8_prefill: "yes", worker_thread: false } })),
        /int8_prefill must be true or false, got "yes"/,
      );
    });
  });
});
