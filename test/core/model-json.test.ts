/**
 * A damaged JSON file in a model folder fails the load with an error that names the file,
 * the model and what to do — for every family and every JSON file the loaders read.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadModel } from "../../src/core/registry/load-model";
import type { LoadedModel, ModelKind } from "../../src/core/types";
import { fixtureDir } from "../helpers/fixtures";
import { startHubServer, type HubServer } from "../helpers/hub-server";

const CORRUPT = '{"model_type": "x",, oops';

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A copy of fixture `name` in a temp folder (the shared fixture stays intact). */
async function copyOf(name: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vs-json-${name}-`));
  fs.cpSync(await fixtureDir(name), dir, { recursive: true });
  return dir;
}

const CASES: { fixture: string; kind: ModelKind; file: string; config?: Record<string, unknown> }[] = [
  { fixture: "tiny-llm", kind: "llm", file: "config.json" },
  { fixture: "tiny-llm", kind: "llm", file: "generation_config.json" },
  { fixture: "tiny-llm", kind: "llm", file: "tokenizer.json" },
  { fixture: "tiny-llm", kind: "llm", file: "tokenizer_config.json" },
  { fixture: "tiny-whisper", kind: "asr", file: "config.json" },
  { fixture: "tiny-whisper", kind: "asr", file: "generation_config.json" },
  { fixture: "tiny-whisper", kind: "asr", file: "preprocessor_config.json" },
  { fixture: "tiny-whisper", kind: "asr", file: "tokenizer.json" },
  { fixture: "tiny-whisper", kind: "asr", file: "tokenizer_config.json" },
  { fixture: "tiny-codec-tts", kind: "tts", file: "tts_config.json" },
  { fixture: "tiny-codec-tts", kind: "tts", file: "backbone/config.json" },
  { fixture: "tiny-codec-tts", kind: "tts", file: "backbone/tokenizer.json" },
  { fixture: "tiny-codec-tts", kind: "tts", file: "backbone/tokenizer_config.json" },
  { fixture: "tiny-codec-tts", kind: "tts", file: "voices/jo.json" },
  { fixture: "tiny-piper", kind: "tts", file: "en_US-tiny-medium.onnx.json" },
];

describe("model folders with damaged JSON", function () {
  this.timeout(60000);
  const made: string[] = [];
  after(() => {
    for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.fixture}: a corrupt ${c.file} names the file, the model and the fix`, async () => {
      const dir = await copyOf(c.fixture);
      made.push(dir);
      fs.writeFileSync(path.join(dir, c.file), CORRUPT);
      await assert.rejects(
        loadModel(c.kind, { enginesPath: dir, config: c.config }),
        new RegExp(`^Error: '${escape(c.file)}' of model '${escape(dir)}' is not valid JSON \\(.+\\); replace it with a good copy.* — file: ${escape(path.join(dir, c.file))}$`),
      );
    });
  }

  it("a truncated (empty) config.json says it is empty", async () => {
    const dir = await copyOf("tiny-llm");
    made.push(dir);
    fs.writeFileSync(path.join(dir, "config.json"), "");
    await assert.rejects(loadModel("llm", { enginesPath: dir }), /'config\.json' of model '.+' is empty; replace it with a good copy/);
  });

  it("a config.json that is JSON but not an object says so", async () => {
    const dir = await copyOf("tiny-whisper");
    made.push(dir);
    fs.writeFileSync(path.join(dir, "config.json"), "[1, 2]");
    await assert.rejects(loadModel("asr", { enginesPath: dir }), /'config\.json' of model '.+' holds an array, not a JSON object/);
  });

  describe("from the hub cache", () => {
    let hub: HubServer;
    let served: string;
    let cache: string;
    before(async () => {
      served = await copyOf("tiny-piper");
      made.push(served);
      fs.writeFileSync(path.join(served, "en_US-tiny-medium.onnx.json"), CORRUPT);
      hub = await startHubServer({ repos: { "test/piper": served } });
      cache = fs.mkdtempSync(path.join(os.tmpdir(), "vs-json-cache-"));
      made.push(cache);
    });
    after(async () => hub.close());

    it("a corrupt download says to delete the cached folder so it downloads again", async () => {
      let model: LoadedModel | undefined;
      const load = () => loadModel("tts", { enginesPath: "test/piper" }, { cacheDir: cache, hubUrl: hub.url });
      await assert.rejects(load(), (err: Error) => {
        assert.match(err.message, /^'en_US-tiny-medium\.onnx\.json' of model 'test\/piper' is not valid JSON/);
        assert.match(err.message, new RegExp(`delete the model's cached folder ${escape(path.join(cache, "test", "piper", "main"))}`));
        return true;
      });
      // Following the advice works: the good file downloads again and the model loads.
      fs.cpSync(await fixtureDir("tiny-piper"), served, { recursive: true });
      fs.rmSync(path.join(cache, "test", "piper", "main"), { recursive: true, force: true });
      model = await load();
      assert.equal(model.kind, "tts");
      await model.dispose();
    });
  });
});
