import { strict as assert } from "assert";
import { lastValueFrom, toArray } from "rxjs";
import { espeakPhonemes } from "../../src/core/tts/espeak";
import { localLoadContext } from "../../src/core/registry";
import { loadTts } from "../../src/core/tts/loader";
import { PiperEngine, phonemesToIds } from "../../src/core/tts/engines/piper/piper-engine";
import { PIPER_HOP, phonemeIdMap } from "../../fixtures/tiny-piper";
import type { TtsChunk } from "../../src/core/types";
import { fixtureDir } from "../helpers/fixtures";

describe("tts piper engine (tiny-piper)", function () {
  this.timeout(60000);
  let engine: PiperEngine;

  before(async () => {
    const loaded = await loadTts(localLoadContext("tts", { enginesPath: await fixtureDir("tiny-piper") }));
    assert.ok(loaded instanceof PiperEngine, "a dir with <name>.onnx.json loads piper");
    engine = loaded;
  });
  after(async () => engine?.dispose());

  it("maps phonemes with piper's convention: ^ _ p1 _ p2 _ … $", () => {
    const map = new Map<string, number[]>([["_", [0]], ["^", [1]], ["$", [2]], [" ", [3]], ["a", [5]], ["b", [6]]]);
    assert.deepEqual(phonemesToIds("ab", map).ids, [1, 0, 5, 0, 6, 0, 2]);
    assert.deepEqual(phonemesToIds("a\nb", map).ids, [1, 0, 5, 0, 3, 0, 6, 0, 2]);
    assert.deepEqual(phonemesToIds("aXb", map), { ids: [1, 0, 5, 0, 6, 0, 2], missing: ["X"] });
  });

  it("speaks one synthesis per span at the voice's rate: length = ids × 256", async () => {
    const text = "Hello world.";
    const { ids, missing } = phonemesToIds(await espeakPhonemes(text, "en-us"), new Map(Object.entries(phonemeIdMap())));
    assert.deepEqual(missing, []);
    const streamer = engine.openStreamer({});
    const done = lastValueFrom(streamer.output$.pipe(toArray()));
    streamer.send(text + " Bye now.");
    streamer.finish();
    const chunks = (await done) as TtsChunk[];
    const audio = chunks.filter((c) => !c.is_final);
    assert.deepEqual(audio.map((c) => c.text), ["Hello world.", "Bye now."]);
    assert.equal(audio[0].sample_rate, 22050);
    assert.equal(audio[0].audio.length, ids.length * PIPER_HOP);
    assert.ok(chunks[chunks.length - 1].is_final);
  });

  it("resamples to sample_rate_out", async () => {
    const lengths: number[] = [];
    for (const rate of [undefined, 16000]) {
      const streamer = engine.openStreamer({ sample_rate_out: rate });
      const done = lastValueFrom(streamer.output$.pipe(toArray()));
      streamer.send("Hello world.");
      streamer.finish();
      const chunks = (await done) as TtsChunk[];
      assert.equal(chunks[0].sample_rate, rate ?? 22050);
      lengths.push(chunks[0].audio.length);
    }
    assert.ok(Math.abs(lengths[1] - (lengths[0] * 16000) / 22050) <= 2, `${lengths}`);
  });
});
