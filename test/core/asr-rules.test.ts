import { strict as assert } from "assert";
import { applyLogitRules } from "../../src/core/asr/engines/whisper/logit-rules";
import { compressionRatio, fallbackReason, rejectionReason } from "../../src/core/asr/engines/whisper/guards";
import type { WhisperSettings } from "../../src/core/asr/engines/whisper/whisper-config";

// A toy vocabulary: 0..9 text, 10 eot, 11 sot, 12 en, 13 transcribe, 14 notimestamps, 15.. timestamps (0.00, 0.02, ...)
const settings: WhisperSettings = {
  tokens: { eot: 10, sot: 11, prev: undefined, noSpeech: undefined, noTimestamps: 14, transcribe: 13, translate: undefined, timestampBegin: 15, languages: new Map([["en", 12]]) },
  suppressTokens: [3],
  beginSuppressTokens: [10, 0],
  maxTargetPositions: 448,
  maxInitialTimestampIndex: 2,
  decoderLayers: 1,
  decoderHeads: 1,
  dModel: 4,
  isMultilingual: true,
  vocabSize: 25,
};
const V = 25;
/** Text likelier than timestamps, so the "timestamps outweigh text" rule stays out of the way. */
const TEXTY = Float32Array.from({ length: V }, (_, i) => (i <= 10 ? 3 : 0));
const allowed = (generated: number[], timestamps: boolean, logits = TEXTY) => {
  const row = Float32Array.from(logits);
  applyLogitRules(row, { settings, generated, timestamps });
  return [...row.keys()].filter((i) => row[i] > -Infinity);
};

describe("asr: Whisper logit rules", () => {
  it("suppress_tokens, begin_suppress_tokens and the prefix vocabulary", () => {
    assert.deepEqual(allowed([], false), [1, 2, 4, 5, 6, 7, 8, 9], "no eot/blank first, no 3, no specials, no timestamps");
    assert.deepEqual(allowed([5], false), [0, 1, 2, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("timestamps: the first token is a timestamp no later than max_initial_timestamp", () => {
    assert.deepEqual(allowed([], true), [15, 16, 17]);
  });

  it("timestamps come in pairs and never go backwards", () => {
    // after <|0.04|> and text: text, the end, or a timestamp later than 0.04
    assert.deepEqual(allowed([17, 5], true), [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, ...Array.from({ length: 7 }, (_, i) => 18 + i)]);
    // a closing timestamp: next must be a timestamp (≥ it) or the end
    assert.deepEqual(allowed([15, 5, 19], true), [10, 19, 20, 21, 22, 23, 24]);
    // a pair of timestamps: next is text or the end
    assert.deepEqual(allowed([15, 5, 19, 20], true), [0, 1, 2, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("when timestamps together outweigh every text token, a timestamp is forced", () => {
    const logits = new Float32Array(V).fill(0);
    for (let i = 15; i < V; i++) logits[i] = 1;
    assert.deepEqual(allowed([15, 5], true, logits), Array.from({ length: 9 }, (_, i) => 16 + i));
  });
});

describe("asr: hallucination guards", () => {
  it("compression ratio is high for repetitive text and low for ordinary text", () => {
    assert.ok(compressionRatio("thank you ".repeat(30)) > 2.4);
    assert.ok(compressionRatio("the quick brown fox jumps over the lazy dog") < 2.4);
    assert.equal(compressionRatio(""), 0);
  });

  it("retries repetitive and unlikely text (fallback), drops only no-speech text, with openai/whisper's thresholds", () => {
    const ok = { text: "hello there", avg_logprob: -0.3, no_speech_prob: 0.1, compression_ratio: 1.1 };
    assert.equal(rejectionReason(ok), undefined);
    assert.match(fallbackReason({ ...ok, compression_ratio: 3 })!, /repetitive/);
    assert.match(fallbackReason({ ...ok, avg_logprob: -1.5 })!, /low confidence/);
    assert.equal(rejectionReason({ ...ok, compression_ratio: 3 }), undefined);
    assert.equal(rejectionReason({ ...ok, avg_logprob: -1.5 }), undefined);
    assert.match(rejectionReason({ ...ok, no_speech_prob: 0.9, avg_logprob: -1.2 })!, /no speech/);
    assert.equal(rejectionReason({ ...ok, no_speech_prob: 0.9 }), undefined, "confident text over likely silence is kept, as Whisper does");
  });
});

describe("asr: Whisper settings from the hub files", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { whisperSettings } = require("../../src/core/asr/engines/whisper/whisper-config") as typeof import("../../src/core/asr/engines/whisper/whisper-config");
  const added = new Map([["<|endoftext|>", 50257], ["<|startoftranscript|>", 50258], ["<|en|>", 50259], ["<|de|>", 50260], ["<|translate|>", 50358], ["<|transcribe|>", 50359], ["<|startofprev|>", 50361], ["<|nocaptions|>", 50362], ["<|notimestamps|>", 50363], ["<|0.00|>", 50364]]);

  it("an English-only model (is_multilingual false) forces no language token", () => {
    const s = whisperSettings({ model_type: "whisper", decoder_attention_heads: 6, d_model: 384, decoder_layers: 4 }, { is_multilingual: false, no_timestamps_token_id: 50363 }, added);
    assert.equal(s.isMultilingual, false);
    assert.equal(s.tokens.languages.size, 0);
    assert.equal(s.tokens.timestampBegin, 50364);
    assert.equal(s.tokens.noSpeech, 50362, "older exports call it <|nocaptions|>");
  });

  it("a multilingual model without lang_to_id finds its language tokens in the vocabulary", () => {
    const s = whisperSettings({ model_type: "whisper" }, {}, added);
    assert.equal(s.isMultilingual, true);
    assert.deepEqual([...s.tokens.languages.entries()], [["en", 50259], ["de", 50260]]);
  });

  it("another model_type is refused with a clear error", () => {
    assert.throws(() => whisperSettings({ model_type: "wav2vec2" }, {}, added), /model_type 'wav2vec2', expected 'whisper'/);
  });
});
