/**
 * Voices: the voice set on the voice-model (spec.config.voice) is the engine's default, and a
 * voice the model does not have is an error that lists the voices there are — never a silent
 * swap for the default.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lastValueFrom, toArray } from "rxjs";
import { loadModel } from "../../src/core/registry/load-model";
import type { TtsChunk, TtsEngine, TtsStreamConfig } from "../../src/core/types";
import { fixtureDir } from "../helpers/fixtures";

async function audioOf(engine: TtsEngine, config: Partial<TtsStreamConfig>, text = "Hello there."): Promise<number[]> {
  const streamer = engine.openStreamer({ seed: 3, ...config });
  const done = lastValueFrom(streamer.output$.pipe(toArray()));
  streamer.send(text);
  streamer.finish();
  return (await done).filter((c): c is TtsChunk => c.kind === "audio").flatMap((c) => [...c.audio]);
}

describe("tts voices", function () {
  this.timeout(60000);

  describe("codec engine", () => {
    let dir: string;
    before(async () => {
      dir = await fixtureDir("tiny-codec-tts");
    });

    it("speaks in the voice set on the voice-model when a stream names none", async () => {
      const configured = await loadModel<TtsEngine>("tts", { enginesPath: dir, config: { voice: "jo" } });
      const plain = await loadModel<TtsEngine>("tts", { enginesPath: dir });
      try {
        const jo = await audioOf(plain, { voice: "jo" });
        const dave = await audioOf(plain, { voice: "dave" });
        assert.notDeepEqual(jo, dave, "the fixture's two voices sound different");
        assert.deepEqual(await audioOf(configured, {}), jo);
        assert.deepEqual(await audioOf(plain, {}), dave, "without a configured voice, tts_config.json's default_voice");
        assert.deepEqual(await audioOf(configured, { voice: "dave" }), dave, "a stream's own voice wins");
      } finally {
        await configured.dispose();
        await plain.dispose();
      }
    });

    it("a configured voice the model lacks fails the load, listing the voices", async () => {
      await assert.rejects(
        loadModel("tts", { enginesPath: dir, config: { voice: "nobody" } }),
        new RegExp(`voice 'nobody' set on the voice-model is not a voice of model '.*tiny-codec-tts'; it has: dave, jo`),
      );
    });

    it("a stream voice the model lacks is an error listing the voices", async () => {
      const engine = await loadModel<TtsEngine>("tts", { enginesPath: dir });
      try {
        assert.throws(() => engine.openStreamer({ voice: "nobody" }), /unknown voice 'nobody'; this model has: dave, jo/);
      } finally {
        await engine.dispose();
      }
    });

    it("a tts_config.json default_voice with no voices/<id>.json fails the load, listing the voices", async () => {
      const copy = fs.mkdtempSync(path.join(os.tmpdir(), "vs-voices-"));
      try {
        fs.cpSync(dir, copy, { recursive: true });
        const config = JSON.parse(fs.readFileSync(path.join(copy, "tts_config.json"), "utf8"));
        fs.writeFileSync(path.join(copy, "tts_config.json"), JSON.stringify({ ...config, default_voice: "gone" }));
        await assert.rejects(loadModel("tts", { enginesPath: copy }), /tts_config\.json of model '.+' names default_voice 'gone', but the model has no voices\/gone\.json; it has: dave, jo/);
      } finally {
        fs.rmSync(copy, { recursive: true, force: true });
      }
    });
  });

  describe("piper engine", () => {
    let dir: string;
    before(async () => {
      dir = await fixtureDir("tiny-piper");
    });

    it("a configured voice that is neither a voice file nor a speaker fails the load, listing the voices", async () => {
      await assert.rejects(
        loadModel("tts", { enginesPath: dir, config: { voice: "nobody" } }),
        /voice 'nobody' set on the voice-model is not a voice of model '.*tiny-piper'; it has: en_US-tiny-medium/,
      );
    });

    it("the configured voice file loads and is the default", async () => {
      const engine = await loadModel<TtsEngine>("tts", { enginesPath: dir, config: { voice: "en_US-tiny-medium" } });
      try {
        assert.deepEqual(engine.voices, ["en_US-tiny-medium"]);
        assert.throws(() => engine.openStreamer({ voice: "nobody" }), /unknown voice 'nobody'; this model has: en_US-tiny-medium/);
      } finally {
        await engine.dispose();
      }
    });

    it("a speaker of a multi-speaker voice set on the voice-model is the default speaker", async () => {
      const copy = fs.mkdtempSync(path.join(os.tmpdir(), "vs-voices-"));
      try {
        fs.cpSync(dir, copy, { recursive: true });
        const file = path.join(copy, "en_US-tiny-medium.onnx.json");
        const config = JSON.parse(fs.readFileSync(file, "utf8"));
        fs.writeFileSync(file, JSON.stringify({ ...config, num_speakers: 2, speaker_id_map: { amy: 0, bob: 1 } }));
        const engine = await loadModel<TtsEngine & { defaultVoice?: string }>("tts", { enginesPath: copy, config: { voice: "bob" } });
        try {
          assert.deepEqual(engine.voices, ["amy", "bob"]);
          assert.equal(engine.defaultVoice, "bob");
        } finally {
          await engine.dispose();
        }
        await assert.rejects(loadModel("tts", { enginesPath: copy, config: { voice: "carl" } }), /voice 'carl' set on the voice-model is not a voice of model '.+'; it has: amy, bob/);
      } finally {
        fs.rmSync(copy, { recursive: true, force: true });
      }
    });
  });

  describe("espeak engine", () => {
    it("a configured voice espeak-ng does not have fails the load, listing the voices it has", async () => {
      await assert.rejects(loadModel("tts", { enginesPath: "espeak", config: { voice: "zz-nope" } }), (err: Error) => {
        assert.match(err.message, /^voice 'zz-nope' set on the voice-model is not an espeak-ng voice; it has: .*\ben-us\b/);
        assert.match(err.message, /\bde\b/);
        return true;
      });
    });

    it("a stream voice espeak-ng does not have is an error listing the voices; variants of a known voice work", async () => {
      const engine = await loadModel<TtsEngine>("tts", { enginesPath: "espeak", config: { voice: "de" } });
      try {
        assert.ok(engine.voices.includes("en-us") && engine.voices.includes("fr"), engine.voices.join(","));
        assert.throws(() => engine.openStreamer({ voice: "qq" }), /unknown voice 'qq': espeak-ng has: .*\ben-us\b/);
        const audio = await audioOf(engine, { voice: "en+f3" }, "Hi.");
        assert.ok(audio.length > 1000);
      } finally {
        await engine.dispose();
      }
    });
  });
});
