/**
 * Hallucination guards as openai/whisper applies them: a pass whose text is too repetitive or
 * too unlikely is decoded again at rising temperatures (seeded: the same audio gives the same
 * text) and the last result is kept; only the no-speech rule drops text, and the final says
 * what was dropped. Thresholds are settings; null turns one off.
 */
import { strict as assert } from "assert";
import { DEFAULT_GUARDS, fallbackReason, isNoSpeech, rejectionReason, resolveGuards } from "../../src/core/asr/engines/whisper/guards";
import { loadWhisperModel } from "../../src/core/asr/engines/whisper/load-whisper";
import { loadAsr } from "../../src/core/asr/loader";
import type { WhisperEngine } from "../../src/core/asr/engines/whisper/whisper-engine";
import type { WhisperModel } from "../../src/core/asr/engines/whisper/whisper-model";
import { localLoadContext } from "../../src/core/registry";
import type { AsrEvent, AsrFinal } from "../../src/core/types";
import { fixtureDir } from "../helpers/fixtures";
import { concatSamples, synthSpeech } from "./asr-audio";

describe("asr: guard rules (openai/whisper's)", () => {
  const ok = { text: "hello there", avg_logprob: -0.3, no_speech_prob: 0.1, compression_ratio: 1.1 };

  it("repetitive or unlikely text asks for fallback; silence does not; none of them is dropped", () => {
    assert.equal(fallbackReason(ok), undefined);
    assert.match(fallbackReason({ ...ok, compression_ratio: 3 })!, /repetitive/);
    assert.match(fallbackReason({ ...ok, avg_logprob: -1.5 })!, /low confidence/);
    assert.equal(fallbackReason({ ...ok, no_speech_prob: 0.9, avg_logprob: -1.5 }), undefined, "silence is settled by the no-speech rule, not retried");
    assert.equal(rejectionReason({ ...ok, compression_ratio: 3 }), undefined);
    assert.equal(rejectionReason({ ...ok, avg_logprob: -1.5 }), undefined);
  });

  it("only the no-speech rule drops text: likely silence and text that is not confident", () => {
    assert.match(rejectionReason({ ...ok, no_speech_prob: 0.9, avg_logprob: -1.2 })!, /^no speech/);
    assert.equal(rejectionReason({ ...ok, no_speech_prob: 0.9 }), undefined, "confident text over likely silence is kept");
    assert.equal(isNoSpeech({ ...ok, no_speech_prob: 0.5, avg_logprob: -3 }), false);
  });

  it("null turns a threshold off", () => {
    const off = { ...DEFAULT_GUARDS, compression_ratio_threshold: null, logprob_threshold: null };
    assert.equal(fallbackReason({ ...ok, compression_ratio: 9, avg_logprob: -9 }, off), undefined);
    assert.equal(isNoSpeech({ ...ok, no_speech_prob: 0.9, avg_logprob: 0 }, off), true, "without a log-probability test, likely silence is silence");
    assert.equal(isNoSpeech({ ...ok, no_speech_prob: 0.99, avg_logprob: -5 }, { ...DEFAULT_GUARDS, no_speech_threshold: null }), false);
  });

  it("settings are checked with messages that say what to set", () => {
    assert.deepEqual(resolveGuards({}).temperatures, [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.equal(resolveGuards({ logprob_threshold: null }).guards.logprob_threshold, null);
    assert.throws(() => resolveGuards({ logprob_threshold: Number.NaN }), /logprob_threshold must be a number, or null to turn that guard off/);
    assert.throws(() => resolveGuards({ no_speech_threshold: "0.6" as unknown as number }), /no_speech_threshold must be a number/);
    assert.throws(() => resolveGuards({ temperatures: [0.4, 0.2] }), /temperatures must be a rising list of numbers ≥ 0/);
    assert.throws(() => resolveGuards({ temperatures: [] }), /temperatures must be a rising list/);
  });
});

describe("asr: hallucination guards on tiny-whisper", function () {
  this.timeout(120000);
  let model: WhisperModel;
  before(async () => {
    model = await loadWhisperModel(localLoadContext("asr", { enginesPath: await fixtureDir("tiny-whisper") }));
  });
  after(() => model?.release());

  it("a low-confidence pass keeps its text (temperature fallback), it is not dropped", async () => {
    const audio = synthSpeech(3, 5);
    const greedy = await model.decode(audio, { language: "en" });
    assert.ok(greedy.text.length > 0 && greedy.avg_logprob < 0, greedy.text);
    // A threshold above every pass's average log-probability: each pass "needs fallback".
    const strict = { compression_ratio_threshold: 2.4, logprob_threshold: 0, no_speech_threshold: 0.6 };
    const result = await model.decode(audio, { language: "en", guards: strict });
    assert.equal(result.rejected, undefined, `dropped: ${result.rejected}`);
    assert.ok(result.text.length > 0, "the last result's text is kept");
  });

  it("fallback ends at the last temperature, and the same seed gives the same text", async () => {
    const audio = synthSpeech(3, 5);
    const strict = { compression_ratio_threshold: 2.4, logprob_threshold: 0, no_speech_threshold: 0.6 };
    const a = await model.decode(audio, { language: "en", guards: strict });
    const b = await model.decode(audio, { language: "en", guards: strict });
    assert.equal(a.temperature, 1);
    assert.equal(a.fallbacks?.length, 5);
    assert.match(a.fallbacks![0], /^low confidence .* at temperature 0$/);
    assert.deepEqual(b.tokens, a.tokens);
    const otherSeed = await model.decode(audio, { language: "en", guards: strict, seed: 99 });
    assert.equal(otherSeed.temperature, 1);
    assert.ok(a.text.length > 0);
  });

  it("with the thresholds off (null) or fallback off ([0]) the greedy result is kept as it is", async () => {
    const audio = synthSpeech(3, 5);
    const greedy = await model.decode(audio, { language: "en", temperatures: [0] });
    const off = await model.decode(audio, { language: "en", guards: { compression_ratio_threshold: null, logprob_threshold: null, no_speech_threshold: 0.6 } });
    assert.equal(off.temperature, 0);
    assert.equal(off.fallbacks, undefined);
    assert.deepEqual(off.tokens, greedy.tokens);
  });

  it("the no-speech rule: confident silence is kept (empty), unconfident is dropped; null turns it off", async () => {
    const silence = new Float32Array(16000);
    const confident = await model.decode(silence, { language: "en" });
    assert.ok(confident.no_speech_prob > 0.6 && confident.avg_logprob > -1, JSON.stringify(confident));
    assert.equal(confident.rejected, undefined, "openai/whisper keeps a pass whose log-probability is above the threshold");
    assert.equal(confident.text, "");
    const noLogprobTest = { ...DEFAULT_GUARDS, logprob_threshold: null };
    const dropped = await model.decode(silence, { language: "en", guards: noLogprobTest });
    assert.match(dropped.rejected ?? "", /^no speech \(no-speech probability \d\.\d\d, average log-probability -?\d+\.\d\d\)$/);
    const kept = await model.decode(silence, { language: "en", guards: { ...noLogprobTest, no_speech_threshold: null } });
    assert.equal(kept.rejected, undefined);
  });
});

describe("asr: the streamer reports dropped audio on the final", function () {
  this.timeout(120000);
  let engine: WhisperEngine;
  before(async () => {
    engine = (await loadAsr(localLoadContext("asr", { enginesPath: await fixtureDir("tiny-whisper") }))) as WhisperEngine;
  });
  after(() => engine?.dispose());

  async function turn(options: Record<string, unknown>): Promise<AsrFinal> {
    const streamer = engine.openStreamer({ language: "en", partial_interval_ms: 60000, ...options });
    const events: AsrEvent[] = [];
    streamer.partials$.subscribe((e) => events.push(e));
    streamer.send(new Float32Array(24000)); // 1.5 s of silence, then a pause
    streamer.flush();
    streamer.send(synthSpeech(2, 8));
    await streamer.finish();
    const final = events[events.length - 1];
    assert.equal(final.kind, "final");
    return final as AsrFinal;
  }

  it("a flushed stretch the no-speech rule drops is listed in dropped with its reason and length; the speech is transcribed", async () => {
    const final = await turn({ logprob_threshold: null });
    assert.ok(final.text.split(" ").length >= 2, final.text);
    const dropped = final.dropped!; // whisper always lists it (remote engines may leave it out)
    assert.equal(dropped.length, 1, JSON.stringify(dropped));
    assert.match(dropped[0].reason, /^no speech/);
    assert.equal(dropped[0].audio_seconds, 1.5);
    assert.equal(dropped[0].text, undefined, "it held no text");
  });

  it("with no_speech_threshold null, or silence the model is sure of, nothing is dropped", async () => {
    assert.deepEqual((await turn({ logprob_threshold: null, no_speech_threshold: null })).dropped, []);
    assert.deepEqual((await turn({})).dropped, []);
  });

  it("a speech-only turn has an empty dropped list", async () => {
    const streamer = engine.openStreamer({ language: "en", partial_interval_ms: 0 });
    const events: AsrEvent[] = [];
    streamer.partials$.subscribe((e) => events.push(e));
    streamer.send(concatSamples([synthSpeech(1.5, 3), synthSpeech(1.5, 4)]));
    await streamer.finish();
    assert.deepEqual((events[events.length - 1] as AsrFinal).dropped, []);
  });

  it("guard settings on the model config are every stream's defaults; a bad one fails the load naming it", async () => {
    const dir = await fixtureDir("tiny-whisper");
    const lenient = (await loadAsr(localLoadContext("asr", { enginesPath: dir, config: { logprob_threshold: null } as Record<string, unknown> }))) as WhisperEngine;
    try {
      const streamer = lenient.openStreamer({ language: "en", partial_interval_ms: 60000 });
      const events: AsrEvent[] = [];
      streamer.partials$.subscribe((e) => events.push(e));
      streamer.send(new Float32Array(24000));
      streamer.flush();
      await streamer.finish();
      assert.match((events[events.length - 1] as AsrFinal).dropped![0]?.reason ?? "", /^no speech/, "the model config's logprob_threshold null applied");
      const own = lenient.openStreamer({ language: "en", partial_interval_ms: 60000, logprob_threshold: -1 });
      const ownEvents: AsrEvent[] = [];
      own.partials$.subscribe((e) => ownEvents.push(e));
      own.send(new Float32Array(24000));
      own.flush();
      await own.finish();
      assert.deepEqual((ownEvents[ownEvents.length - 1] as AsrFinal).dropped, [], "a stream's own setting wins");
    } finally {
      await lenient.dispose();
    }
    await assert.rejects(loadAsr(localLoadContext("asr", { enginesPath: dir, config: { logprob_threshold: "low" } as Record<string, unknown> })), /the asr model's config: logprob_threshold must be a number, or null/);
  });
});
