import { strict as assert } from "assert";
import { LocalAgreement, normalizeWord, splitWords } from "../../src/core/asr/local-agreement";
import { WhisperStreamer, type Transcriber } from "../../src/core/asr/streamer";
import type { DecodeOptions, DecodeResult, Segment } from "../../src/core/asr/engines/whisper/whisper-model";
import type { AsrEvent } from "../../src/core/types";

const words = (text: string) => splitWords(text);

describe("asr: LocalAgreement-2 (scripted hypotheses)", () => {
  it("commits the longest common word prefix of the last two hypotheses, never retracting", () => {
    const la = new LocalAgreement();
    assert.deepEqual(la.insert(words("hello")), [], "one hypothesis commits nothing");
    assert.deepEqual(la.insert(words("hello world")), ["hello"]);
    assert.deepEqual(la.insert(words("hello world how")), ["world"]);
    assert.deepEqual(la.insert(words("hello world now are")), [], "disagreement after the committed prefix commits nothing");
    assert.deepEqual(la.insert(words("hello world now are you")), ["now", "are"]);
    assert.deepEqual(la.insert(words("hello word now are you there")), ["you"], "a changed mind inside committed words is ignored");
    assert.equal(la.text, "hello world now are you", "committed words stay as committed");
    assert.equal(la.inBuffer, 5);
  });

  it("compares words without case or surrounding punctuation", () => {
    assert.equal(normalizeWord("Hello,"), "hello");
    const la = new LocalAgreement();
    la.insert(words("Hello, world"));
    assert.deepEqual(la.insert(words("hello world.")), ["hello", "world."], "the newer spelling is committed");
  });

  it("prompt: only committed words that have left the buffer, last ~maxChars characters at a word boundary", () => {
    const la = new LocalAgreement();
    la.insert(words("one two three four"));
    la.insert(words("one two three four five"));
    assert.equal(la.prompt(), "", "words still in the buffer are not a prompt");
    la.trimmed(2);
    assert.equal(la.prompt(), "one two");
    assert.equal(la.inBuffer, 2);
    la.clearBuffer();
    assert.equal(la.prompt(), "one two three four");
    assert.equal(la.prompt(10), "three four", "cut at a word, within 10 chars");
  });

  it("trimming shifts the buffer's hypotheses: agreement continues after the trimmed words", () => {
    const la = new LocalAgreement();
    la.insert(words("a b c"));
    la.insert(words("a b c d")); // commits a b c
    la.trimmed(2); // "a b" left the buffer; the buffer now starts at "c"
    assert.deepEqual(la.insert(words("c d e")), ["d"]);
    assert.equal(la.text, "a b c d");
    assert.throws(() => la.trimmed(5), /cannot trim/);
  });

  it("commitAll (flush / final) commits the rest of a hypothesis at once", () => {
    const la = new LocalAgreement();
    la.insert(words("x y"));
    la.insert(words("x y z"));
    assert.deepEqual(la.commitAll(words("x y z w")), ["z", "w"]);
    assert.equal(la.text, "x y z w");
  });
});

/** A transcriber whose hypothesis is a scripted function of the audio it is given. */
class ScriptedTranscriber implements Transcriber {
  readonly sampleRate = 16000;
  readonly windowSeconds: number;
  readonly calls: { seconds: number; prompt: string | undefined; firstSample: number }[] = [];
  constructor(private readonly script: (seconds: number, audio: Float32Array) => { text: string; segments?: Segment[]; rejected?: string }, windowSeconds = 30) {
    this.windowSeconds = windowSeconds;
  }
  async decode(audio: Float32Array, options: DecodeOptions): Promise<DecodeResult> {
    const seconds = audio.length / this.sampleRate;
    this.calls.push({ seconds, prompt: options.prompt, firstSample: audio[0] });
    const { text, segments, rejected } = this.script(seconds, audio);
    return { text, segments: segments ?? [{ start: 0, end: undefined, text }], language: "en", tokens: [], avg_logprob: -0.1, no_speech_prob: 0, compression_ratio: 1, ...(rejected ? { rejected } : {}) };
  }
}

/** Audio whose samples encode their absolute second (so a test can see where the buffer starts). */
function seconds(from: number, count: number): Float32Array {
  const out = new Float32Array(count * 16000);
  for (let i = 0; i < out.length; i++) out[i] = (from + Math.floor(i / 16000)) / 1000;
  return out;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function collect(streamer: WhisperStreamer): { events: AsrEvent[]; done: Promise<void> } {
  const events: AsrEvent[] = [];
  const done = new Promise<void>((resolve, reject) => streamer.partials$.subscribe({ next: (e) => events.push(e), complete: resolve, error: reject }));
  return { events, done };
}

const SCRIPT = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split(" ");
/** One word per second of audio, the last one still uncertain ("maybe"). */
const perSecond = (s: number) => ({ text: [...SCRIPT.slice(0, Math.floor(s) - 1), "maybe"].join(" ").trim() });

describe("asr: WhisperStreamer over a scripted transcriber", () => {
  it("commits agreed words as growing partials; finish decodes the rest and resolves the whole transcript", async () => {
    const model = new ScriptedTranscriber(perSecond);
    const streamer = new WhisperStreamer(model, { partial_interval_ms: 0 });
    const { events, done } = collect(streamer);
    for (let s = 0; s < 4; s++) {
      streamer.send(seconds(s, 1));
      await until(() => model.calls.length === s + 1, `pass ${s + 1}`);
    }
    const final = await streamer.finish();
    await done;
    const partials = events.filter((e) => e.kind === "partial");
    assert.deepEqual(partials.map((p) => p.text), ["one", "one two"]);
    assert.deepEqual(partials.map((p) => p.kind === "partial" && p.delta), ["one", " two"]);
    assert.equal(final, "one two three maybe");
    const last = events[events.length - 1];
    assert.equal(last.kind, "final");
    assert.equal(last.is_final, true);
    if (last.kind === "final") {
      assert.equal(last.text, final);
      assert.equal(last.audio_seconds, 4);
      assert.equal(last.passes, 5);
      assert.equal(last.language, "en");
      assert.ok(last.rtf >= 0 && last.total_seconds >= 0);
    }
    assert.equal(events.filter((e) => e.is_final).length, 1);
  });

  it("flush commits what the buffer holds, cuts it, and the committed text becomes the next pass's prompt", async () => {
    const model = new ScriptedTranscriber((s, audio) => ({ text: audio[0] >= 0.003 ? "after pause" : perSecond(s).text }));
    const streamer = new WhisperStreamer(model, { partial_interval_ms: 0 });
    const { events, done } = collect(streamer);
    streamer.send(seconds(0, 3));
    await until(() => model.calls.length === 1, "pass 1");
    streamer.flush();
    await until(() => model.calls.length === 2, "flush pass");
    assert.equal(streamer.text, "one two maybe", "flush committed the whole hypothesis");
    streamer.send(seconds(3, 2));
    await until(() => model.calls.length === 3, "pass after flush");
    assert.equal(model.calls[2].seconds, 2, "the buffer restarted at the flush");
    assert.equal(model.calls[2].firstSample, Math.fround(0.003));
    assert.equal(model.calls[2].prompt, "one two maybe");
    const final = await streamer.finish();
    await done;
    assert.equal(final, "one two maybe after pause");
    const texts = events.filter((e) => e.kind === "partial").map((e) => (e as { text: string }).text);
    texts.forEach((t, i) => assert.ok(final.startsWith(t) && (i === 0 || t.startsWith(texts[i - 1])), t));
  });

  it("trims the buffer at a committed segment's end when it outgrows the model window", async () => {
    // A 5 s window; segments of 2 s each, one word per segment.
    const model = new ScriptedTranscriber((s, audio) => {
      const start = Math.round(audio[0] * 1000);
      const segs: Segment[] = [];
      for (let t = 0; t + 2 <= s; t += 2) segs.push({ start: t, end: t + 2, text: `w${start + t}` });
      return { text: segs.map((x) => x.text).join(" "), segments: segs };
    }, 5);
    const streamer = new WhisperStreamer(model, { partial_interval_ms: 0 });
    collect(streamer);
    for (let s = 0; s < 7; s++) {
      streamer.send(seconds(s, 1));
      await until(() => model.calls.length === s + 1, `pass ${s + 1}`);
    }
    // At 6 s the buffer outgrew 5 s: it was cut after the committed segments (w0 w2), 4 s in.
    const afterTrim = model.calls.find((c) => c.firstSample > 0)!;
    assert.ok(afterTrim, "a pass started past the beginning");
    assert.equal(afterTrim.firstSample, Math.fround(0.004));
    assert.equal(afterTrim.prompt, "w0 w2");
    assert.ok(model.calls.every((c) => c.seconds <= 5), "no pass read more than the window");
    const final = await streamer.finish();
    assert.equal(final, "w0 w2 w4");
  });

  it("cancel ends with one cancelled event and no final decode", async () => {
    const model = new ScriptedTranscriber(perSecond);
    const streamer = new WhisperStreamer(model, { partial_interval_ms: 0 });
    const { events, done } = collect(streamer);
    streamer.send(seconds(0, 2));
    await until(() => model.calls.length === 1, "pass 1");
    const calls = model.calls.length;
    streamer.cancel();
    streamer.cancel();
    await done;
    assert.equal(await streamer.finish(), "");
    assert.equal(model.calls.length, calls, "no decode after cancel");
    assert.deepEqual(events.map((e) => e.kind), ["cancelled"]);
    assert.equal(events[0].is_final, true);
    assert.throws(() => streamer.send(seconds(2, 1)), /ended/);
  });

  it("rejected hypotheses (hallucination guards) are never committed nor used as prompts", async () => {
    const model = new ScriptedTranscriber((s) => (s < 3 ? { text: "thank you thank you", rejected: "repetitive text" } : perSecond(s)));
    const streamer = new WhisperStreamer(model, { partial_interval_ms: 0 });
    const { events } = collect(streamer);
    streamer.send(seconds(0, 1));
    await until(() => model.calls.length === 1, "pass 1");
    streamer.send(seconds(1, 1));
    await until(() => model.calls.length === 2, "pass 2");
    streamer.flush();
    await until(() => model.calls.length === 3, "flush");
    assert.equal(streamer.text, "");
    streamer.send(seconds(2, 4));
    const final = await streamer.finish();
    assert.ok(model.calls.every((c) => !c.prompt), "no prompt ever");
    assert.ok(!final.includes("thank"), final);
    assert.ok(events.every((e) => !("text" in e) || !String(e.text).includes("thank")));
  });

  it("rejects non-finite samples with a clear error", () => {
    const streamer = new WhisperStreamer(new ScriptedTranscriber(perSecond));
    assert.throws(() => streamer.send(Float32Array.from([0, NaN])), /sample 1 .* NaN/);
    streamer.cancel();
  });
});
