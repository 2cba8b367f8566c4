import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lastValueFrom, toArray } from "rxjs";
import { localLoadContext } from "../../src/core/registry";
import { loadTts } from "../../src/core/tts/loader";
import {
  KokoroEngine,
  KOKORO_MAX_PHONEMES,
  blendVoices,
  normalizeEnglish,
  parseVoiceSpec,
  readVoiceTable,
  splitAtTokenLimit,
  styleFor,
} from "../../src/core/tts/engines/kokoro";
import { KOKORO_FIXTURE_HOP, write as writeTinyKokoro } from "../../fixtures/tiny-kokoro";
import type { TtsChunk, TtsStreamChunk } from "../../src/core/types";
import { fixtureDir } from "../helpers/fixtures";

async function speak(engine: KokoroEngine, text: string, options: Parameters<KokoroEngine["openStreamer"]>[0] = {}): Promise<TtsStreamChunk[]> {
  const streamer = engine.openStreamer(options);
  const done = lastValueFrom(streamer.output$.pipe(toArray()));
  streamer.send(text);
  streamer.finish();
  return done;
}

const samples = (chunks: TtsStreamChunk[]) => chunks.filter((c): c is TtsChunk => c.kind === "audio" && !c.is_final);

describe("tts kokoro: normalisation, voices, token limit", () => {
  it("normalises English as Kokoro does: titles, years, times, money, decimals, ranges, acronyms", () => {
    const cases: [string, string][] = [
      ["Dr. Smith met Mr. Jones and Ms. Lee.", "Doctor Smith met Mister Jones and Miss Lee."],
      ["In 1995, 1900 and 1905 but not 2005.", "In 19 95, 19 hundred and 19 oh 5 but not 2005."],
      ["At 3:05 or 4:00 or 11:45.", "At 3 oh 5 or 4 o'clock or 11 45."],
      ["It cost $5.50, £1 or $1.", "It cost 5 dollars and 50 cents, 1 pound or 1 dollar."],
      ["Pi is 3.14 and 12,000 people came.", "Pi is 3 point 1 4 and 12000 people came."],
      ["Pages 10-20 of the U.S.A. report.", "Pages 10 to 20 of the U-S-A- report."],
      ["“Quoted” (aside) ‘single’", '"Quoted" «aside» \'single\''],
      ["Yeah, spaces   collapse.", "Ye'a, spaces collapse."],
    ];
    for (const [input, expected] of cases) assert.equal(normalizeEnglish(input), expected, input);
  });

  it("parses voices and blends: weights normalised, equal mix without weights, clear errors", () => {
    assert.deepEqual(parseVoiceSpec("af_heart"), [{ name: "af_heart", weight: 1 }]);
    assert.deepEqual(parseVoiceSpec("af_heart:0.7, am_adam:0.3"), [
      { name: "af_heart", weight: 0.7 },
      { name: "am_adam", weight: 0.3 },
    ]);
    assert.deepEqual(parseVoiceSpec("af_heart:3,am_adam:1").map((p) => p.weight), [0.75, 0.25]);
    assert.deepEqual(parseVoiceSpec("af_heart,am_adam").map((p) => p.weight), [0.5, 0.5]);
    assert.throws(() => parseVoiceSpec("af_heart:x"), /not <name> or <name>:<weight>/);
    assert.throws(() => parseVoiceSpec("af_heart:0"), /add up to 0/);
    const a = { data: Float32Array.from({ length: 512 }, (_, i) => i), rows: 2 };
    const b = { data: new Float32Array(512).fill(10), rows: 2 };
    const mix = blendVoices(parseVoiceSpec("a:0.7,b:0.3"), (n) => (n === "a" ? a : b));
    assert.ok(Math.abs(mix.data[300] - (0.7 * 300 + 0.3 * 10)) < 1e-4);
    // Row n is the style for n tokens, clamped to the last row.
    assert.equal(styleFor(a, 1)[0], 256);
    assert.equal(styleFor(a, 99)[0], 256);
    assert.equal(styleFor(a, 0)[5], 5);
  });

  it("cuts over-long phoneme strings at clause, then word boundaries, never losing a symbol", () => {
    const clause = "ab cd, ef gh; ";
    const long = clause.repeat(60); // 840 symbols
    const pieces = splitAtTokenLimit(long, () => true, KOKORO_MAX_PHONEMES);
    assert.ok(pieces.length >= 2);
    for (const piece of pieces) assert.ok([...piece].length <= KOKORO_MAX_PHONEMES, `${[...piece].length}`);
    for (const piece of pieces.slice(0, -1)) assert.match(piece, /[,;]$/, "cut after a clause mark");
    assert.equal(pieces.join(" ").replace(/\s+/g, ""), long.replace(/\s+/g, ""));
    const words = splitAtTokenLimit("abcd ".repeat(150), () => true, 100);
    assert.ok(words.every((w) => /^(abcd ?)+$/.test(w) && w.length <= 100));
    const blob = splitAtTokenLimit("x".repeat(250), () => true, 100);
    assert.deepEqual(blob.map((p) => p.length), [100, 100, 50]);
    // Symbols the tokenizer drops do not count.
    assert.deepEqual(splitAtTokenLimit("a#b#c", (s) => s !== "#", 3), ["a#b#c"]);
  });
});

describe("tts kokoro engine (tiny-kokoro)", function () {
  this.timeout(120000);
  let engine: KokoroEngine;
  let dir: string;

  before(async () => {
    dir = await fixtureDir("tiny-kokoro");
    const loaded = await loadTts(localLoadContext("tts", { enginesPath: dir }));
    assert.ok(loaded instanceof KokoroEngine, "the Kokoro-82M-v1.0-ONNX layout loads the kokoro engine");
    engine = loaded;
  });
  after(async () => engine?.dispose());

  it("lists the voices folder and defaults to af_heart", () => {
    assert.deepEqual(engine.voices, ["af_heart", "am_adam", "bf_emma"]);
  });

  it("streams span by span at 24 kHz: one model run per sentence, ids × 600 samples at speed 1", async () => {
    const text = "Hello, world! The second sentence is here. And a third.";
    const chunks = await speak(engine, text);
    const audio = samples(chunks);
    assert.deepEqual(audio.map((c) => c.text), ["Hello, world!", "The second sentence is here.", "And a third."]);
    for (const chunk of audio) {
      assert.equal(chunk.sample_rate, 24000);
      const ids = engine.tokenize(await engine.phonemize(chunk.text!));
      assert.equal(chunk.audio.length, ids.length * KOKORO_FIXTURE_HOP, chunk.text);
    }
    const final = chunks[chunks.length - 1] as TtsChunk;
    assert.equal(final.is_final, true);
    assert.equal(chunks.filter((c) => c.is_final).length, 1);
    assert.ok(final.time_to_first_audio! > 0 && final.time_to_first_audio! <= final.total_seconds!);
    assert.ok(Math.abs(final.audio_seconds! - audio.reduce((n, c) => n + c.audio.length, 0) / 24000) < 1e-9);
  });

  it("first_span_words cuts the first span early (first audio need not wait for the whole sentence); 0 keeps it whole", async () => {
    const text = "The kitchen light in the north wing is on now. Goodbye.";
    const early = samples(await speak(engine, text, { first_span_words: 3 }));
    assert.deepEqual([...new Set(early.map((c) => c.text))], ["The kitchen light", "in the north wing is on now.", "Goodbye."]);
    const whole = samples(await speak(engine, text, { first_span_words: 0 }));
    assert.deepEqual([...new Set(whole.map((c) => c.text))], ["The kitchen light in the north wing is on now.", "Goodbye."]);
    assert.throws(() => engine.openStreamer({ first_span_words: -2 }), /first_span_words must be a whole number of words from 0 \(off\) to 100, got -2/);
  });

  it("takes speed and voice per streamer: speed 2 halves the length, voices and blends change the sound", async () => {
    const text = "Speed and voice.";
    const base = samples(await speak(engine, text))[0].audio;
    const fast = samples(await speak(engine, text, { speed: 2 }))[0].audio;
    assert.equal(fast.length, base.length / 2);
    const adam = samples(await speak(engine, text, { voice: "am_adam" }))[0].audio;
    assert.equal(adam.length, base.length);
    assert.ok(adam.some((v, i) => Math.abs(v - base[i]) > 1e-3), "another voice sounds different");
    const ids = engine.tokenize(await engine.phonemize(text));
    const blend = samples(await speak(engine, text, { voice: "af_heart:0.7,am_adam:0.3" }))[0].audio;
    const heart = readVoiceTable(path.join(dir, "voices/af_heart.bin"), "af_heart");
    const adamTable = readVoiceTable(path.join(dir, "voices/am_adam.bin"), "am_adam");
    const manual = { rows: heart.rows, data: heart.data.map((v, i) => 0.7 * v + 0.3 * adamTable.data[i]) };
    const expected = await engine.synthesizeIds(ids, manual);
    assert.equal(blend.length, expected.length);
    assert.ok(blend.every((v, i) => Math.abs(v - expected[i]) < 1e-5), "a blend is the weighted mix of the style tables");
    assert.throws(() => engine.openStreamer({ speed: 9 }), /speed must be a number from 0.25 to 4/);
    assert.throws(() => engine.openStreamer({ voice: "af_nobody" }), /unknown Kokoro voice 'af_nobody'; this model has: af_heart, am_adam, bf_emma/);
  });

  it("uses the style row for the token count (as Kokoro's voices are indexed)", async () => {
    const ids = engine.tokenize(await engine.phonemize("Row check."));
    const table = readVoiceTable(path.join(dir, "voices/af_heart.bin"), "af_heart");
    const right = await engine.synthesizeIds(ids, table);
    const shifted = { rows: table.rows - 1, data: table.data.slice(256) }; // row n now holds row n+1
    const wrong = await engine.synthesizeIds(ids, shifted);
    assert.deepEqual(Array.from(await engine.synthesizeIds(ids, "af_heart")), Array.from(right));
    assert.ok(wrong.some((v, i) => Math.abs(v - right[i]) > 1e-4));
  });

  it("British voices phonemise with en-gb", async () => {
    assert.match(await engine.phonemize("Hello there.", "af_heart"), /həlˈoʊ/);
    assert.match(await engine.phonemize("Hello there.", "bf_emma"), /həlˈəʊ/);
  });

  it("splits a sentence over Kokoro's token limit into several runs, first audio after the first piece", async () => {
    // 125 characters (one span for the splitter) that Kokoro's normalisation turns into ~730 tokens.
    const long = "In 1987 we paid $3,777,777.77, in 1988 $8,888,888.88, in 1999 $9,999,977.97, in 1977 $7,777,777.77 and in 1966 $6,666,666.66.";
    const phonemes = await engine.phonemize(long);
    assert.ok(engine.tokenize(phonemes).length > 512, "the sentence really is over the limit");
    const audio = samples(await speak(engine, long));
    assert.ok(audio.length >= 2, `${audio.length} chunks`);
    assert.ok(audio.every((c) => c.text === long), "all pieces belong to the one span");
    for (const chunk of audio) assert.ok(chunk.audio.length / KOKORO_FIXTURE_HOP <= 512, `${chunk.audio.length / KOKORO_FIXTURE_HOP} tokens`);
    const all = audio.reduce((n, c) => n + c.audio.length, 0) / KOKORO_FIXTURE_HOP;
    // Nothing dropped: every phoneme token is spoken (plus two pads per piece), except the one
    // space after each cut (a piece starts at its first symbol).
    const cuts = audio.length - 1;
    const expected = engine.tokenize(phonemes).length + 2 * cuts;
    assert.ok(all <= expected && all >= expected - cuts, `${all} tokens spoken, ${expected} with pads`);
  });

  it("loads the q8 variant (onnx/model_quantized.onnx) with dtype q8: close to fp32, not the same file", async () => {
    const q8 = (await loadTts(localLoadContext("tts", { enginesPath: dir, config: { dtype: "q8" } }))) as KokoroEngine;
    try {
      const ids = engine.tokenize(await engine.phonemize("Quantized voice."));
      const full = await engine.synthesizeIds(ids, "af_heart");
      const quant = await q8.synthesizeIds(ids, "af_heart");
      assert.equal(quant.length, full.length);
      // The toy renders a sinusoid whose phase sums the pitch, so a tiny pitch error from the int8
      // weights shifts samples; the loudness (RMS) must stay close, and the files must differ.
      const rms = (a: Float32Array) => Math.sqrt(a.reduce((n, v) => n + v * v, 0) / a.length);
      assert.ok(full.some((v, i) => v !== quant[i]), "q8 is a different model file");
      assert.ok(Math.abs(rms(quant) / rms(full) - 1) < 0.05, `RMS fp32 ${rms(full)}, q8 ${rms(quant)}`);
    } finally {
      await q8.dispose();
    }
  });

  it("cancel ends with the cancelled final and nothing after it", async () => {
    const streamer = engine.openStreamer({});
    const done = lastValueFrom(streamer.output$.pipe(toArray()));
    streamer.send("One sentence here. Another one follows. And more. ".repeat(5));
    setTimeout(() => streamer.cancel(), 5);
    const chunks = await done;
    assert.equal(chunks[chunks.length - 1].kind, "cancelled");
    assert.equal(chunks.filter((c) => c.is_final).length, 1);
  });

  it("speaks Spanish with espeak-ng's es; refuses Japanese / Chinese voices and a broken voice file with messages that say why", async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "vs-kokoro-"));
    try {
      await writeTinyKokoro(work);
      fs.copyFileSync(path.join(work, "voices/af_heart.bin"), path.join(work, "voices/jf_alpha.bin"));
      fs.copyFileSync(path.join(work, "voices/af_heart.bin"), path.join(work, "voices/ef_dora.bin"));
      fs.writeFileSync(path.join(work, "voices/af_broken.bin"), Buffer.alloc(100));
      const other = (await loadTts(localLoadContext("tts", { enginesPath: work }))) as KokoroEngine;
      try {
        assert.throws(() => other.openStreamer({ voice: "jf_alpha" }), /Japanese, which Kokoro phonemises with misaki/);
        // Spanish voices phonemise with espeak-ng's "es", without the English rules ("Dr." stays).
        const spanish = await other.phonemize("¿Qué tal, Dr. García?", "ef_dora");
        const english = await other.phonemize("¿Qué tal, Dr. García?", "af_heart");
        assert.match(spanish, /^¿.*,.*\?$/);
        assert.notEqual(spanish, english);
        assert.ok(!/dˈɑːktɚ/.test(spanish), spanish);
        const audio = samples(await speak(other, "Hola, ¿qué tal?", { voice: "ef_dora" }));
        assert.ok(audio.length === 1 && audio[0].audio.length > 0);
        assert.throws(() => other.openStreamer({ voice: "af_broken" }), /100 bytes is not a whole number of 256-float style rows/);
      } finally {
        await other.dispose();
      }
      await assert.rejects(loadTts(localLoadContext("tts", { enginesPath: work, config: { voice: "zz_none" } })), /unknown Kokoro voice 'zz_none'/);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
