import { strict as assert } from "assert";
import { lastValueFrom, toArray } from "rxjs";
import type { AsyncQueue } from "../../src/core/tts/async-queue";
import { SpanStreamer, type Span, type SpanPipeline } from "../../src/core/tts/span-streamer";
import type { TtsChunk, TtsStreamChunk } from "../../src/core/types";

/** A pipeline that "speaks" each span as one sample per character, in pieces of 4, with a hook per step. */
class FakePipeline implements SpanPipeline<number> {
  readonly sampleRate = 16000;
  readonly produced: string[] = [];
  steps = 0;
  constructor(
    private readonly stepDelayMs = 0,
    private readonly failOn?: string,
    private readonly emitDelayMs = 0,
  ) {}

  async produce(span: Span, sink: (unit: number) => void, signal: AbortSignal): Promise<void> {
    this.produced.push(span.text);
    if (this.failOn && span.text.includes(this.failOn)) throw new Error(`cannot say '${this.failOn}'`);
    for (const ch of span.text) {
      if (signal.aborted) return;
      await new Promise((r) => setTimeout(r, this.stepDelayMs));
      this.steps++;
      sink(ch.charCodeAt(0) / 1000);
    }
  }

  async consume(span: Span, units: AsyncQueue<number>, emit: (audio: Float32Array) => void): Promise<void> {
    let pending: number[] = [];
    for await (const unit of units) {
      pending.push(unit);
      if (pending.length === 4) {
        emit(Float32Array.from(pending));
        pending = [];
        if (this.emitDelayMs) await new Promise((r) => setTimeout(r, this.emitDelayMs)); // a slow consumer
      }
    }
    if (pending.length) emit(Float32Array.from(pending));
  }
}

const collect = (s: SpanStreamer<number>) => lastValueFrom(s.output$.pipe(toArray()));
const audioOf = (chunks: TtsStreamChunk[]) => chunks.filter((c): c is TtsChunk => c.kind === "audio" && !c.is_final);

describe("tts span streamer", () => {
  it("finish() with no text gives one final chunk with empty audio at once", async () => {
    const s = new SpanStreamer(new FakePipeline());
    s.finish();
    const chunks = await collect(s);
    assert.equal(chunks.length, 1);
    const final = chunks[0] as TtsChunk;
    assert.equal(final.kind, "audio");
    assert.equal(final.is_final, true);
    assert.equal(final.audio.length, 0);
    assert.equal(final.chunk_index, 0);
    assert.equal(final.sample_rate, 16000);
  });

  it("speaks all spans in order and ends with exactly one final chunk carrying the metrics", async () => {
    const s = new SpanStreamer(new FakePipeline());
    const done = collect(s);
    s.send("Hello world. Second one! Third");
    s.finish();
    const chunks = await done;
    assert.deepEqual([...new Set(audioOf(chunks).map((c) => c.text))], ["Hello world.", "Second one!", "Third"]);
    assert.equal(chunks.filter((c) => c.is_final).length, 1);
    assert.ok(chunks[chunks.length - 1].is_final);
    chunks.forEach((c, i) => assert.equal((c as TtsChunk).chunk_index, i));
    const final = chunks[chunks.length - 1] as TtsChunk;
    assert.equal(final.audio_seconds, "Hello world.Second one!Third".length / 16000);
    for (const key of ["time_to_first_audio", "total_seconds", "rtf"] as const) assert.equal(typeof final[key], "number");
  });

  it("buffers output until the first subscriber: nothing is lost to a late consumer", async () => {
    const s = new SpanStreamer(new FakePipeline());
    s.send("One. Two.");
    s.finish();
    await new Promise((r) => setTimeout(r, 100)); // everything is produced before anyone listens
    const chunks = await collect(s);
    assert.equal(audioOf(chunks).map((c) => c.audio.length).reduce((a, b) => a + b, 0), "One.Two.".length);
    assert.ok(chunks[chunks.length - 1].is_final);
  });

  it("flush() speaks the buffered fragment now", async () => {
    const s = new SpanStreamer(new FakePipeline());
    const seen: TtsStreamChunk[] = [];
    s.output$.subscribe((c) => seen.push(c));
    s.send("no punctuation yet");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen.length, 0, "a fragment waits for more text");
    s.flush();
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(audioOf(seen).length > 0);
    assert.equal(audioOf(seen)[0].text, "no punctuation yet");
    s.finish();
  });

  it("the producer runs ahead: the next span is generated while the current one's audio is still going out", async () => {
    const pipeline = new FakePipeline(0, undefined, 40);
    const s = new SpanStreamer(pipeline);
    const producedAtChunk: number[] = [];
    const done = collect(s);
    s.output$.subscribe((c) => c.kind === "audio" && !c.is_final && c.text === "Abcdefghijkl." && producedAtChunk.push(pipeline.produced.length));
    s.send("Abcdefghijkl. Mnopqrstuvwx.");
    s.finish();
    await done;
    assert.equal(producedAtChunk.length, 4);
    // By the first span's second chunk the producer is already on the second span.
    assert.deepEqual(producedAtChunk.slice(1), [2, 2, 2]);
  });

  it("cancel() ends with one cancelled chunk, discards pending audio, and nothing follows", async () => {
    const pipeline = new FakePipeline(5);
    const s = new SpanStreamer(pipeline);
    const seen: TtsStreamChunk[] = [];
    let completed = false;
    s.output$.subscribe({ next: (c) => seen.push(c), complete: () => (completed = true) });
    s.send("A long sentence that takes a while to say. And another one after it.");
    s.finish();
    await new Promise((r) => setTimeout(r, 60));
    s.cancel();
    const stepsAtCancel = pipeline.steps;
    const countAtCancel = seen.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(completed);
    assert.equal(seen.length, countAtCancel);
    const last = seen[seen.length - 1];
    assert.deepEqual({ kind: last.kind, is_final: last.is_final }, { kind: "cancelled", is_final: true });
    assert.equal(seen.filter((c) => c.is_final).length, 1);
    assert.ok(pipeline.steps <= stepsAtCancel + 1, "generation stops within one step");
    s.send("ignored");
    s.cancel();
    assert.equal(seen.length, countAtCancel);
  });

  it("an engine failure errors the stream (no final chunk) so the caller can report it", async () => {
    const s = new SpanStreamer(new FakePipeline(0, "boom"));
    s.send("Fine. Then boom. Never.");
    s.finish();
    await assert.rejects(collect(s), /cannot say 'boom'/);
  });

  it("skips spans with nothing to say (markup, emoji)", async () => {
    const pipeline = new FakePipeline();
    const s = new SpanStreamer(pipeline);
    const done = collect(s);
    s.send("**Hi** 👋\n---\n🎉🎉\nBye.");
    s.finish();
    await done;
    assert.deepEqual(pipeline.produced, ["Hi", "Bye."]);
  });

  it("rejects non-text input", () => {
    const s = new SpanStreamer(new FakePipeline());
    assert.throws(() => s.send(42 as unknown as string), /send\(\) takes text, got number/);
    s.cancel();
  });
});
