import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { lastValueFrom, toArray } from "rxjs";
import { loadLlm } from "../../src/core/llm/engines/onnx/loader";
import { CodecTtsEngine } from "../../src/core/tts/engines/codec/codec-engine";
import { localLoadContext } from "../../src/core/registry";
import { loadTts } from "../../src/core/tts/loader";
import type { Span } from "../../src/core/tts/span-streamer";
import type { TtsChunk, TtsStreamChunk, TtsStreamConfig, TtsStreamer } from "../../src/core/types";
import { fixtureDir } from "../helpers/fixtures";

const HOP = 480;
const LONG = "This sentence is long enough to be cut into several codec chunks by the streamer.";

function collect(streamer: TtsStreamer): Promise<TtsStreamChunk[]> {
  return lastValueFrom(streamer.output$.pipe(toArray()));
}

const audioChunks = (chunks: TtsStreamChunk[]) => chunks.filter((c): c is TtsChunk => c.kind === "audio" && !c.is_final);
const joined = (chunks: TtsStreamChunk[]) => Float32Array.from(audioChunks(chunks).flatMap((c) => [...c.audio]));

interface Trace {
  codes: Map<number, number[]>;
  events: string[];
}

/** Runs `text` through a fresh streamer, recording each span's codes and the order of LM steps and chunks. */
async function speak(engine: CodecTtsEngine, text: string | string[], config: Partial<TtsStreamConfig>) {
  const trace: Trace = { codes: new Map(), events: [] };
  engine.observer = {
    spanStart: (span: Span) => trace.events.push(`start ${span.index}`),
    lmStep: (span: Span, n: number, code: number) => {
      trace.events.push(`step ${span.index}`);
      if (!trace.codes.has(span.index)) trace.codes.set(span.index, []);
      trace.codes.get(span.index)!.push(code);
    },
  };
  const streamer = engine.openStreamer({ seed: 7, ...config });
  const spanOf = new Map<string, number>();
  streamer.output$.subscribe((chunk) => {
    if (chunk.kind !== "audio") return;
    if (chunk.is_final) trace.events.push("final");
    else {
      if (!spanOf.has(chunk.text!)) spanOf.set(chunk.text!, spanOf.size);
      trace.events.push(`chunk ${spanOf.get(chunk.text!)}`);
    }
  });
  const done = collect(streamer);
  for (const piece of Array.isArray(text) ? text : [text]) streamer.send(piece);
  streamer.finish();
  const chunks = await done;
  engine.observer = undefined;
  return { chunks, trace };
}

/** The span decoded in one window (reference codes + all its frames): what chunking approximates. */
async function wholeDecode(engine: CodecTtsEngine, voice: string, codes: number[]): Promise<Float32Array> {
  const ref = JSON.parse(fs.readFileSync(path.join(await fixtureDir("tiny-codec-tts"), "voices", `${voice}.json`), "utf8")).ref_codes as number[];
  const audio = await engine.decode([...ref, ...codes]);
  return audio.subarray(ref.length * HOP);
}

/** RMS difference away from the span's faded ends. */
function rmsError(a: Float32Array, b: Float32Array, skip = 480): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = skip; i < a.length - skip; i++) sum += (a[i] - b[i]) ** 2;
  return Math.sqrt(sum / (a.length - 2 * skip));
}

/** Largest sample-to-sample jump in the frame after each seam vs. everywhere else (ends excluded). */
function seamJumps(audio: Float32Array, seams: number[], fade = 240) {
  const inSeam = new Uint8Array(audio.length);
  for (const s of seams) for (let i = s; i <= Math.min(audio.length - 1, s + HOP); i++) inSeam[i] = 1;
  let atSeams = 0;
  let elsewhere = 0;
  for (let i = fade + 1; i < audio.length - fade; i++) {
    const jump = Math.abs(audio[i] - audio[i - 1]);
    if (inSeam[i]) atSeams = Math.max(atSeams, jump);
    else elsewhere = Math.max(elsewhere, jump);
  }
  return { atSeams, elsewhere };
}

function seamPositions(chunks: TtsStreamChunk[]): number[] {
  const seams: number[] = [];
  let at = 0;
  const audio = audioChunks(chunks);
  audio.forEach((c, i) => {
    at += c.audio.length;
    if (i < audio.length - 1) seams.push(at);
  });
  return seams;
}

/** One of the engine's voices (the first). */
const fixtureVoice = (e: CodecTtsEngine) => (e as unknown as { voiceTable: Map<string, import("../../src/core/tts/engines/codec/codec-engine").CodecVoice> }).voiceTable.values().next().value!;

describe("tts codec engine (tiny-codec-tts)", function () {
  this.timeout(120000);
  let engine: CodecTtsEngine;

  before(async () => {
    const loaded = await loadTts(localLoadContext("tts", { enginesPath: await fixtureDir("tiny-codec-tts") }));
    assert.ok(loaded instanceof CodecTtsEngine, "the codec layout loads the codec engine");
    engine = loaded;
  });
  after(async () => engine?.dispose());

  it("its LM computes only the speech tokens and the end token; seeded, the same codes and audio as with the whole vocabulary", async () => {
    const dir = await fixtureDir("tiny-codec-tts");
    const whole = await loadTts(localLoadContext("tts", { enginesPath: dir, config: { speech_logits_only: false, worker_thread: false } }));
    const rowsOnly = await loadTts(localLoadContext("tts", { enginesPath: dir, config: { worker_thread: false } }));
    try {
      assert.ok(whole instanceof CodecTtsEngine && rowsOnly instanceof CodecTtsEngine);
      assert.equal(rowsOnly.vocabulary.asksRows, true);
      assert.equal(whole.vocabulary.asksRows, false);
      // The row the LM session hands back: the speech codes and the end token, not the vocabulary.
      const logitsLength = async (e: CodecTtsEngine) => {
        const cursor = e.newLmCursor();
        try {
          return (await cursor.prefill(e.promptIds(fixtureVoice(e), "Hello."))).length;
        } finally {
          cursor.dispose();
        }
      };
      assert.equal(await logitsLength(rowsOnly), rowsOnly.config.codebookSize + 1);
      assert.ok((await logitsLength(whole)) > whole.config.codebookSize + 1);
      const a = await speak(rowsOnly, LONG, {});
      const b = await speak(whole, LONG, {});
      assert.deepEqual([...a.trace.codes.entries()], [...b.trace.codes.entries()]);
      assert.ok(a.trace.codes.get(0)!.length > 20);
      assert.deepEqual(joined(a.chunks), joined(b.chunks));
    } finally {
      await whole.dispose();
      await rowsOnly.dispose();
    }
  });

  it("keeps the voice's prompt head (template and reference text) in the prefix cache: later spans prefill only their text and the codes; seeded, the same codes as with the cache off", async () => {
    const dir = await fixtureDir("tiny-codec-tts");
    const cachedEngine = await loadTts(localLoadContext("tts", { enginesPath: dir, config: { worker_thread: false } }));
    const uncached = await loadTts(localLoadContext("tts", { enginesPath: dir, config: { worker_thread: false, prefix_cache_mb: 0 } }));
    try {
      assert.ok(cachedEngine instanceof CodecTtsEngine && uncached instanceof CodecTtsEngine);
      const voice = fixtureVoice(cachedEngine);
      const prompt = cachedEngine.promptIds(voice, "Hello there.");
      const head = cachedEngine.voicePrefix(voice, prompt);
      const refTextIds = cachedEngine.promptIds(voice, "x").length - cachedEngine.promptIds({ ...voice, refText: "" }, "x").length;
      assert.ok(head.length >= refTextIds && head.length >= 8, `a prefix of ${head.length} ids (the reference text alone is ${refTextIds})`);
      assert.deepEqual([...head], prompt.slice(0, head.length));
      for (const other of ["Other words.", "a", "Zebra crossing, then left."]) {
        assert.deepEqual(cachedEngine.promptIds(voice, other).slice(0, head.length), [...head], `every prompt of the voice starts with it ("${other}")`);
      }
      // Count the positions each LM prefill feeds.
      const fed: number[] = [];
      const sequences = (cachedEngine as unknown as { sessions: { open(): { prefill(ids: number[]): Promise<Float32Array> } } }).sessions;
      const open = sequences.open.bind(sequences);
      sequences.open = () => {
        const sequence = open();
        const prefill = sequence.prefill.bind(sequence);
        sequence.prefill = (ids: number[]) => (fed.push(ids.length), prefill(ids));
        return sequence;
      };
      const text = `Hello there. ${LONG}`;
      const a = await speak(cachedEngine, text, {});
      const b = await speak(uncached, text, {});
      assert.deepEqual([...a.trace.codes.entries()], [...b.trace.codes.entries()]);
      assert.ok(fed.length >= 2, `${fed.length} spans`);
      const spans = [...a.trace.codes.keys()].length;
      assert.equal(fed.length, spans);
      const texts = a.chunks.filter((c) => !c.is_final).map((c) => String(c.text));
      const firstTwo = [...new Set(texts)].slice(0, 2);
      assert.equal(fed[0], cachedEngine.promptIds(voice, firstTwo[0]).length, "the first span prefills its whole prompt");
      assert.equal(fed[1], cachedEngine.promptIds(voice, firstTwo[1]).length - head.length, "the next one all but the voice's prefix");
    } finally {
      await cachedEngine.dispose();
      await uncached.dispose();
    }
  });

  it("speech_logits_only must be true or false", async () => {
    const dir = await fixtureDir("tiny-codec-tts");
    await assert.rejects(loadTts(localLoadContext("tts", { enginesPath: dir, config: { speech_logits_only: "yes" } })), /speech_logits_only must be true or false, got "yes"/);
  });

  it("has the two reference voices", () => {
    assert.deepEqual(engine.voices, ["dave", "jo"]);
  });

  it("first 12, per 25, lookforward 5, lookback 50, overlap 1 → 5760, 12000, 12000, …, the rest; total = frames × 480", async () => {
    const { chunks, trace } = await speak(engine, LONG, { first_frames_per_chunk: 12, frames_per_chunk: 25, lookforward: 5, lookback: 50, overlap_frames: 1 });
    const sizes = audioChunks(chunks).map((c) => c.audio.length);
    const frames = trace.codes.get(0)!.length;
    assert.ok(frames > 12 + 3 * 25, `span long enough (${frames} frames)`);
    assert.equal(sizes[0], 5760);
    for (const size of sizes.slice(1, -1)) assert.equal(size, 12000);
    assert.ok(sizes[sizes.length - 1] > 0 && sizes[sizes.length - 1] <= 12000);
    assert.equal(sizes.reduce((a, b) => a + b, 0), frames * HOP);
    const final = chunks[chunks.length - 1] as TtsChunk;
    assert.equal(final.is_final, true);
    assert.equal(final.audio.length, 0);
    assert.equal(final.generated_tokens, frames);
    for (const key of ["time_to_first_audio", "total_seconds", "audio_seconds", "rtf", "tokens_per_second"] as const) {
      assert.equal(typeof final[key], "number", key);
    }
    assert.equal(final.audio_seconds, (frames * HOP) / 24000);
    assert.ok(audioChunks(chunks).every((c) => c.sample_rate === 24000 && c.text === LONG));
  });

  it("emits a span's first chunk after at most first_frames_per_chunk + lookforward LM steps (counted)", async () => {
    // [first, lookforward, overlap]; the held-back overlap lies inside the look-ahead, so when
    // lookforward < overlap (last case) the first chunk waits for first + overlap frames instead.
    for (const [first, lookforward, overlap] of [[12, 5, 1], [6, 5, 1], [4, 2, 2], [12, 1, 1], [12, 0, 1]]) {
      const { trace } = await speak(engine, ["Hello there. ", LONG], { first_frames_per_chunk: first, lookforward, overlap_frames: overlap });
      for (const span of [0, 1]) {
        const upToChunk = trace.events.slice(0, trace.events.indexOf(`chunk ${span}`));
        const steps = upToChunk.filter((e) => e === `step ${span}`).length;
        console.log(`      first ${first}, lookforward ${lookforward}, overlap ${overlap}: span ${span} first chunk after ${steps} LM steps`);
        assert.equal(steps, first + Math.max(lookforward, overlap), `span ${span}`);
      }
    }
  });

  it("the producer runs ahead: the next span starts before the current one's audio is all out", async () => {
    const { trace } = await speak(engine, ["Hello there. ", LONG, " Bye now."], {});
    const lastChunkOf0 = trace.events.lastIndexOf("chunk 0");
    assert.ok(trace.events.indexOf("start 1") < lastChunkOf0, "span 1 was taken up before span 0's last chunk");
  });

  it("first_frames_per_chunk: lower → first audio after fewer LM steps, shorter first chunk", async () => {
    const a = await speak(engine, LONG, { first_frames_per_chunk: 12 });
    const b = await speak(engine, LONG, { first_frames_per_chunk: 6 });
    assert.equal(audioChunks(a.chunks)[0].audio.length, 12 * HOP);
    assert.equal(audioChunks(b.chunks)[0].audio.length, 6 * HOP);
    const stepsBefore = (t: Trace) => t.events.slice(0, t.events.indexOf("chunk 0")).filter((e) => e.startsWith("step")).length;
    assert.ok(stepsBefore(b.trace) < stepsBefore(a.trace), `${stepsBefore(b.trace)} < ${stepsBefore(a.trace)}`);
  });

  it("frames_per_chunk: larger → larger, fewer chunks for the same audio", async () => {
    const a = await speak(engine, LONG, { frames_per_chunk: 25 });
    const b = await speak(engine, LONG, { frames_per_chunk: 40 });
    assert.equal(audioChunks(b.chunks)[1].audio.length, 40 * HOP);
    assert.ok(audioChunks(b.chunks).length < audioChunks(a.chunks).length);
    assert.equal(joined(a.chunks).length, joined(b.chunks).length);
  });

  it("lookforward: more right context → later first decode, audio closer to the whole-span decode", async () => {
    const errors: number[] = [];
    for (const lookforward of [1, 5]) {
      const { chunks, trace } = await speak(engine, LONG, { lookforward });
      const reference = await wholeDecode(engine, "dave", trace.codes.get(0)!);
      errors.push(rmsError(joined(chunks), reference));
    }
    console.log(`      rms error vs whole decode: lookforward 1 → ${errors[0].toFixed(4)}, 5 → ${errors[1].toFixed(4)}`);
    assert.ok(errors[1] < errors[0]);
  });

  it("lookback: more left context → audio closer to the whole-span decode", async () => {
    const errors: number[] = [];
    for (const lookback of [0, 50]) {
      const { chunks, trace } = await speak(engine, LONG, { lookback });
      const reference = await wholeDecode(engine, "dave", trace.codes.get(0)!);
      errors.push(rmsError(joined(chunks), reference));
    }
    console.log(`      rms error vs whole decode: lookback 0 → ${errors[0].toFixed(4)}, 50 → ${errors[1].toFixed(4)}`);
    assert.ok(errors[1] < errors[0]);
  });

  it("overlap_frames: seams crossfaded with overlap 1 jump no more than elsewhere; with 0 measurably more", async () => {
    const results: Record<number, { atSeams: number; elsewhere: number }> = {};
    for (const overlap of [0, 1]) {
      const { chunks } = await speak(engine, LONG, { overlap_frames: overlap });
      results[overlap] = seamJumps(joined(chunks), seamPositions(chunks));
      console.log(
        `      overlap ${overlap}: largest jump at seams ${results[overlap].atSeams.toFixed(4)}, elsewhere ${results[overlap].elsewhere.toFixed(4)}`,
      );
    }
    assert.ok(results[1].atSeams <= results[1].elsewhere);
    assert.ok(results[0].atSeams > 1.5 * results[0].elsewhere);
  });

  it("the same text as one-token LLM deltas gives the same spans and, seeded, the same audio", async () => {
    const text = "Hi there! Dr. Smith paid 3.14 dollars, e.g. a bargain. \"Wow. Really?\" Yes... really. Bye.";
    const { Tokenizer } = await import("@huggingface/tokenizers");
    const dir = await fixtureDir("tiny-llm");
    const tokenizer = new Tokenizer(JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")), {});
    const deltas = tokenizer.encode(text, { add_special_tokens: false }).ids.map((id: number) => tokenizer.decode([id]));
    assert.equal(deltas.join(""), text);
    assert.ok(deltas.length > 20);
    const whole = await speak(engine, text, {});
    const piped = await speak(engine, deltas, {});
    const spans = (chunks: TtsStreamChunk[]) => [...new Set(audioChunks(chunks).map((c) => c.text))];
    assert.deepEqual(spans(piped.chunks), spans(whole.chunks));
    assert.deepEqual(spans(whole.chunks), ["Hi there!", "Dr. Smith paid 3.14 dollars, e.g. a bargain.", "\"Wow. Really?\"", "Yes... really.", "Bye."]);
    assert.deepEqual(joined(piped.chunks), joined(whole.chunks));
  });

  it("a real LLM stream (tiny-llm) piped delta by delta speaks exactly as its whole text", async () => {
    const llm = await loadLlm(localLoadContext("llm", { enginesPath: await fixtureDir("tiny-llm") }));
    try {
      const chunks = await lastValueFrom(
        llm.generate({ prompt: "Tell me about the river.", max_new_tokens: 80, temperature: 0.9, seed: 5 }).pipe(toArray()),
      );
      const deltas = chunks.flatMap((c) => (c.kind === "text" ? [c.delta] : []));
      const text = deltas.join("");
      assert.ok(deltas.length > 20 && text.trim().length > 0);
      const whole = await speak(engine, text, {});
      const piped = await speak(engine, deltas, {});
      const spans = (c: TtsStreamChunk[]) => [...new Set(audioChunks(c).map((x) => x.text))];
      assert.deepEqual(spans(piped.chunks), spans(whole.chunks));
      assert.deepEqual(joined(piped.chunks), joined(whole.chunks));
      console.log(`      ${deltas.length} deltas → ${spans(whole.chunks).length} spans, ${joined(whole.chunks).length} samples`);
    } finally {
      await llm.dispose();
    }
  });

  it("sample_rate_out resamples the stream, chunk by chunk, to the same length as converting it whole", async () => {
    const native = await speak(engine, LONG, {});
    const at16k = await speak(engine, LONG, { sample_rate_out: 16000 });
    assert.ok(audioChunks(at16k.chunks).every((c) => c.sample_rate === 16000));
    const expected = (joined(native.chunks).length * 16000) / 24000;
    assert.ok(Math.abs(joined(at16k.chunks).length - expected) <= 1, `${joined(at16k.chunks).length} vs ${expected}`);
    // Seams stay smooth after resampling (same check as at the native rate).
    const { atSeams, elsewhere } = seamJumps(joined(at16k.chunks), seamPositions(at16k.chunks), 160);
    console.log(`      16 kHz: largest jump at seams ${atSeams.toFixed(4)}, elsewhere ${elsewhere.toFixed(4)}`);
    assert.ok(atSeams <= elsewhere, `${atSeams} vs ${elsewhere}`);
  });

  it("voice_id picks the reference codes without a reload", async () => {
    const dave = await speak(engine, "Hello.", { voice: "dave" });
    const jo = await speak(engine, "Hello.", { voice: "jo" });
    assert.notDeepEqual(joined(dave.chunks), joined(jo.chunks));
    assert.throws(() => engine.openStreamer({ voice: "nobody" }), /unknown voice 'nobody'; this model has: dave, jo/);
  });

  it("cancel mid-stream: one final chunk of kind cancelled, no audio after, generation stops within a step", async () => {
    let stepsAfterCancel = 0;
    let cancelled = false;
    engine.observer = { lmStep: () => cancelled && stepsAfterCancel++ };
    const streamer = engine.openStreamer({ seed: 1 });
    const seen: TtsStreamChunk[] = [];
    const done = new Promise<void>((resolve) =>
      streamer.output$.subscribe({
        next: (chunk) => {
          seen.push(chunk);
          if (chunk.kind === "audio" && !chunk.is_final && !cancelled) {
            cancelled = true;
            streamer.cancel();
          }
        },
        complete: resolve,
      }),
    );
    streamer.send(LONG + " " + LONG);
    streamer.finish();
    await done;
    await new Promise((r) => setTimeout(r, 200));
    engine.observer = undefined;
    assert.equal(seen.length, 2, JSON.stringify(seen.map((c) => c.kind)));
    assert.deepEqual({ kind: seen[1].kind, is_final: seen[1].is_final }, { kind: "cancelled", is_final: true });
    assert.ok(stepsAfterCancel <= 1, `${stepsAfterCancel} LM steps after cancel`);
  });
});
