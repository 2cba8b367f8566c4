import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { onnx } from "onnx-proto";
import { lastValueFrom, toArray } from "rxjs";
import { fixtureDir } from "../helpers/fixtures";
import { lastLogitsModel } from "../../src/core/onnx/decoder/last-logits-graph";
import { addTopLogits, TOP_IDS_OUTPUT, TOP_K_INPUT, TOP_VALUES_OUTPUT } from "../../src/core/onnx/decoder/top-logits-graph";
import { openRewritten } from "./decoder-support";
import { KvCacheDecoder } from "../../src/core/onnx/decoder/kv-cache-decoder";
import { readModelShape } from "../../src/core/onnx/decoder/model-config";
import { Sampler, type SamplingOptions, type TopLogits } from "../../src/core/onnx/decoder/sampler";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import type { OnnxLlmEngine } from "../../src/core/llm/engines/onnx/onnx-llm-engine";
import { CodecTtsEngine } from "../../src/core/tts/engines/codec/codec-engine";
import { loadTts } from "../../src/core/tts/loader";
import { localLoadContext } from "../../src/core/registry";
import type { TtsChunk, TtsStreamChunk } from "../../src/core/types";

/** The k best entries of `row` as the sampler orders candidates: best first, equal values lower index first. */
function bestOf(row: Float32Array, k: number): TopLogits {
  const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b);
  const ids = Int32Array.from(order.slice(0, k));
  return { ids, values: Float32Array.from(ids, (id) => row[id]) };
}

/** A seeded row of `width` logits with runs of equal values (ties the order must break by index). */
function rowOf(width: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const row = Float32Array.from({ length: width }, () => Math.round(next() * 40) / 8 - 2.5);
  return row;
}

describe("top logits: a step returns the k best logits a top-k sampler needs instead of the row", function () {
  this.timeout(120_000);

  it("the graph's TopK gives a step's best entries exactly as the whole row orders them, for q4 and fp32 and both cache layouts", async () => {
    const dir = await fixtureDir("tiny-llm");
    const shape = readModelShape(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")));
    for (const [file, layout] of [["model.onnx", "positions"], ["model_q4.onnx", "heads"]] as const) {
      const onnxFile = path.join(dir, "onnx", file);
      const withTop = lastLogitsModel(onnxFile, { appendOnlyCache: true, appendOnlyLayout: layout, pastInPlaceAttention: true, topLogits: true })!;
      assert.equal(withTop.topLogits, true);
      assert.equal(lastLogitsModel(onnxFile, { appendOnlyCache: true })!.topLogits, false, "not asked");
      const session = await openRewritten(withTop);
      try {
        assert.ok(session.inputNames.includes(TOP_K_INPUT));
        assert.ok(session.outputNames.includes(TOP_VALUES_OUTPUT) && session.outputNames.includes(TOP_IDS_OUTPUT));
        const topped = new KvCacheDecoder(session, shape);
        const whole = new KvCacheDecoder(session, shape);
        const prompt = [5, 17, 42, 99, 3, 8];
        const first = await topped.prefill(prompt);
        assert.ok(first instanceof Float32Array, "a prefill returns the whole row");
        assert.deepEqual(first, await whole.prefill(prompt));
        let id = bestOf(first, 1).ids[0];
        for (let step = 0; step < 40; step++) {
          const k = 1 + (step % 9);
          const top = await topped.stepTop(id, k);
          const row = await whole.step(id);
          assert.ok(!(top instanceof Float32Array), `step ${step}: the best ${k} only`);
          assert.deepEqual(top, bestOf(row, k), `${file} step ${step}, k ${k}`);
          id = top.ids[0];
        }
        topped.dispose();
        whole.dispose();
      } finally {
        await session.release();
      }
    }
  });

  it("stepTop returns the whole row where it cannot give the best only: a graph without TopK, or k not below the row's width", async () => {
    const dir = await fixtureDir("tiny-llm");
    const shape = readModelShape(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")));
    const onnxFile = path.join(dir, "onnx", "model.onnx");
    const plain = await openRewritten(lastLogitsModel(onnxFile, { appendOnlyCache: true })!);
    const withTop = await openRewritten(lastLogitsModel(onnxFile, { appendOnlyCache: true, topLogits: true })!);
    try {
      const a = new KvCacheDecoder(plain, shape);
      const width = (await a.prefill([1, 2, 3])).length;
      assert.ok((await a.stepTop(4, 3)) instanceof Float32Array, "no TopK in the graph");
      const b = new KvCacheDecoder(withTop, shape);
      await b.prefill([1, 2, 3]);
      assert.ok((await b.stepTop(4, width)) instanceof Float32Array, "k = the width: the whole row");
      assert.ok(!((await b.stepTop(5, width - 1)) instanceof Float32Array));
      assert.ok((await b.stepTop(6, 2.5)) instanceof Float32Array, "not a whole number");
      a.dispose();
      b.dispose();
    } finally {
      await plain.release();
      await withTop.release();
    }
  });

  it("leaves a graph alone below opset 10 (K was an attribute) or when its logits are not float32", async () => {
    const dir = await fixtureDir("tiny-llm");
    const model = onnx.ModelProto.decode(lastLogitsModel(path.join(dir, "onnx", "model.onnx"))!.bytes);
    const before = onnx.ModelProto.encode(model).finish();
    assert.equal(addTopLogits(model.graph!, "logits", 9), false);
    const half = onnx.ModelProto.decode(before);
    half.graph!.output!.find((o) => o.name === "logits")!.type!.tensorType!.elemType = onnx.TensorProto.DataType.FLOAT16;
    const halfBefore = onnx.ModelProto.encode(half).finish();
    assert.equal(addTopLogits(half.graph!, "logits", 17), false);
    assert.deepEqual(onnx.ModelProto.encode(model).finish(), before, "not a byte changed");
    assert.deepEqual(onnx.ModelProto.encode(half).finish(), halfBefore);
    assert.equal(addTopLogits(model.graph!, "logits", 17), true, "the same graph at opset 17");
    assert.equal(addTopLogits(model.graph!, "logits", 17), false, "only once");
  });

  it("the sampler draws the same tokens from the best entries as from the whole row (greedy, top-k, top-k with top-p; rows with ties)", () => {
    const cases: Omit<SamplingOptions, "seed">[] = [
      { temperature: 0 },
      { temperature: 0, topK: 5 },
      { temperature: 0.8, topK: 5 },
      { temperature: 1.3, topK: 3, topP: 0.7 },
      { temperature: 0.6, topK: 20, topP: 0.95, repetitionPenalty: 1 },
    ];
    for (const options of cases) {
      const fromRow = new Sampler({ ...options, seed: 11 });
      const fromTop = new Sampler({ ...options, seed: 11 });
      const k = fromTop.topCandidatesNeeded!;
      assert.equal(k, options.temperature <= 0 ? 1 : options.topK);
      const drawn: number[] = [];
      for (let i = 0; i < 300; i++) {
        const row = rowOf(97, i);
        const id = fromRow.next(row);
        assert.equal(fromTop.next(bestOf(row, k)), id, `${JSON.stringify(options)}, row ${i}`);
        drawn.push(id);
      }
      if (options.temperature > 0) assert.ok(new Set(drawn).size > 1, "draws, not one token");
    }
  });

  it("the sampler asks for the whole row when the best entries cannot decide, and refuses too few of them", () => {
    assert.equal(new Sampler({ temperature: 0.7, topK: 5, repetitionPenalty: 1.2, seed: 1 }).topCandidatesNeeded, undefined, "a penalty moves context ids");
    assert.equal(new Sampler({ temperature: 0.7, seed: 1 }).topCandidatesNeeded, undefined, "no top-k: the whole row");
    assert.equal(new Sampler({ temperature: 0.7, topP: 0.9, seed: 1 }).topCandidatesNeeded, undefined, "top-p alone: the whole row");
    const row = rowOf(50, 3);
    assert.throws(() => new Sampler({ temperature: 0.7, seed: 1 }).next(bestOf(row, 5)), /needs the whole logits row, not 5/);
    assert.throws(() => new Sampler({ temperature: 0.7, topK: 8, seed: 1 }).next(bestOf(row, 5)), /needs the 8 best logits, not 5/);
  });

  it("the LLM engine samples from the best logits by default (in its worker): the same text as top_logits false, greedy and seeded top-k / top-p; a repetition penalty still works", async () => {
    const dir = await fixtureDir("tiny-llm");
    const load = async (config: Record<string, unknown>) => (await loadLlm(localLoadContext("llm", { enginesPath: dir, config: { prefix_cache_mb: 0, ...config } }))) as OnnxLlmEngine;
    const text = async (engine: OnnxLlmEngine, request: Record<string, unknown>) => {
      const chunks = await lastValueFrom(engine.generate({ prompt: "Once upon a time", raw: true, max_new_tokens: 30, ignore_eos: true, ...request }).pipe(toArray()));
      return chunks.map((c) => c.delta ?? "").join("");
    };
    const byDefault = await load({});
    const off = await load({ top_logits: false });
    try {
      for (const request of [{ temperature: 0 }, { temperature: 0.9, top_k: 5, seed: 4 }, { temperature: 1.1, top_k: 8, top_p: 0.8, seed: 9 }, { temperature: 0.9, top_k: 5, repetition_penalty: 1.3, seed: 2 }]) {
        const a = await text(byDefault, request);
        assert.ok(a.length > 0);
        assert.equal(a, await text(off, request), JSON.stringify(request));
      }
    } finally {
      await byDefault.dispose();
      await off.dispose();
    }
    await assert.rejects(load({ top_logits: "yes" }), (err: Error) => err.message === `the config of model ${dir}: top_logits must be true or false, got "yes"`);
  });

  it("the codec TTS's LM steps return the best speech codes: seeded, the same codes and audio as top_logits false", async () => {
    const dir = await fixtureDir("tiny-codec-tts");
    const speak = async (engine: CodecTtsEngine) => {
      const codes: number[] = [];
      // Count the LM calls that came back as the best entries only.
      let topSteps = 0;
      const newCursor = engine.newLmCursor.bind(engine);
      engine.newLmCursor = () => {
        const cursor = newCursor();
        const stepTop = cursor.stepTop.bind(cursor);
        cursor.stepTop = async (id, top) => {
          const row = await stepTop(id, top);
          if (!(row instanceof Float32Array)) topSteps++;
          return row;
        };
        return cursor;
      };
      engine.observer = { lmStep: (_span, _n, code) => codes.push(code) };
      const streamer = engine.openStreamer({ seed: 3 });
      const done = lastValueFrom(streamer.output$.pipe(toArray()));
      streamer.send("A sentence long enough for several chunks of codec audio. And a second one.");
      streamer.finish();
      const chunks = (await done) as TtsStreamChunk[];
      engine.observer = undefined;
      const audio = chunks.filter((c): c is TtsChunk => c.kind === "audio" && !c.is_final).flatMap((c) => [...c.audio]);
      return { codes, audio, topSteps };
    };
    const byDefault = await loadTts(localLoadContext("tts", { enginesPath: dir, config: {} }));
    const off = await loadTts(localLoadContext("tts", { enginesPath: dir, config: { top_logits: false } }));
    try {
      assert.ok(byDefault instanceof CodecTtsEngine && off instanceof CodecTtsEngine);
      const a = await speak(byDefault);
      const b = await speak(off);
      assert.ok(a.codes.length > 40);
      assert.ok(a.topSteps >= a.codes.length - 4, `${a.topSteps} of ${a.codes.length} steps returned the best codes only`);
      assert.equal(b.topSteps, 0);
      assert.deepEqual(a.codes, b.codes);
      assert.deepEqual(a.audio, b.audio);
    } finally {
      await byDefault.dispose();
      await off.dispose();
    }
  });
});
