/**
 * Every tested model the editor's picker offers resolves to files its engine accepts: each hub
 * entry's repo is served by the local hub with a fixture in that repo's layout (tiny-llm for
 * onnx-community Qwen3, tiny-whisper for the Whisper repos, tiny-kokoro for Kokoro, tiny-piper
 * placed as rhasspy/piper-voices places a voice), "download now" fetches the entry's selection,
 * and the engine then loads offline from exactly those files. The exact size the picker shows
 * (asked of the hub) equals the bytes that download wrote.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lastValueFrom } from "rxjs";
import { listCachedModels } from "../../src/core/hub/cache-listing";
import { TESTED_MODELS, type CatalogModel } from "../../src/core/hub/catalog";
import { downloadModel } from "../../src/core/hub/download";
import { DownloadSizeCache, hubDownloadSize, hubFileSizes } from "../../src/core/hub/download-size";
import { isHubRepoId, repoCacheDir } from "../../src/core/hub/paths";
import { listFilesUnder } from "../../src/core/hub/local-source";
import { openEngine } from "../../src/core/registry/resolve-engine";
import { fixtureDir } from "../helpers/fixtures";
import { startHubServer, type HubServer } from "../helpers/hub-server";
import { piperVoiceFolder, piperVoicesRepo } from "../helpers/piper-voices-repo";

/** The fixture in the layout of each catalog repo. */
async function fixtureFor(entry: CatalogModel, piperRepo: string): Promise<string> {
  if (entry.engine === "piper") return piperRepo;
  if (entry.kind === "llm") return fixtureDir("tiny-llm");
  if (entry.kind === "asr") return fixtureDir("tiny-whisper");
  if (entry.kind === "tts" && /kokoro/i.test(entry.model)) return fixtureDir("tiny-kokoro");
  throw new Error(`no fixture in the layout of catalog entry ${entry.model}: add one before offering it`);
}

const HUB_ENTRIES = TESTED_MODELS.filter((m) => isHubRepoId(m.model));
const PIPER_ENTRIES = HUB_ENTRIES.filter((m) => m.engine === "piper");

describe("model picker catalog: every tested model resolves to files its engine loads", function () {
  this.timeout(120000);
  let hub: HubServer;
  let piperRepo: string;

  before(async () => {
    // One more voice in the repo than the catalog offers: downloads must leave it alone.
    piperRepo = await piperVoicesRepo([...PIPER_ENTRIES.map((m) => m.voice!), "nl_NL-unused-medium"]);
    const repos: Record<string, string> = {};
    for (const entry of HUB_ENTRIES) repos[entry.model] = await fixtureFor(entry, piperRepo);
    hub = await startHubServer({ repos });
  });
  after(() => hub?.close());

  it("offers piper voices (with a voice and the piper engine) and names a licence for every entry", () => {
    assert.ok(PIPER_ENTRIES.length >= 4, "piper voices in en_US, en_GB, de, fr");
    for (const locale of ["en_US", "en_GB", "de_DE", "fr_FR"]) assert.ok(PIPER_ENTRIES.some((m) => m.voice!.startsWith(`${locale}-`) && m.voice!.endsWith("-medium")), locale);
    for (const m of TESTED_MODELS) assert.ok(m.licence.trim() && m.label.trim(), JSON.stringify(m));
  });

  for (const entry of HUB_ENTRIES) {
    const name = `${entry.model}${entry.voice ? ` voice ${entry.voice}` : ""}${entry.dtype ? ` (${entry.dtype})` : ""}`;
    it(`${name}: downloads its selection, the hub's size matches it, and the ${entry.kind} engine loads from it offline`, async () => {
      const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-catalog-cache-"));
      const size = await hubDownloadSize({ repo: entry.model, dtype: entry.dtype || undefined, voice: entry.voice, hubUrl: hub.url });
      const last = await lastValueFrom(downloadModel({ repo: entry.model, dtype: entry.dtype || undefined, voice: entry.voice, cacheDir, hubUrl: hub.url }));
      const cached = listCachedModels(cacheDir);
      assert.equal(cached.length, 1, JSON.stringify(cached));
      assert.equal(size.bytes, cached[0].bytes, "the size shown is the size the download wrote");
      assert.equal(size.files, cached[0].files);
      assert.equal(last.bytes_total, size.bytes);
      const files = listFilesUnder(repoCacheDir(cacheDir, entry.model, "main")).sort();
      if (entry.voice && entry.engine === "piper") {
        const folder = piperVoiceFolder(entry.voice);
        assert.deepEqual(files, [`${folder}/MODEL_CARD`, `${folder}/${entry.voice}.onnx`, `${folder}/${entry.voice}.onnx.json`], "only this voice's graph, config and model card");
      }
      if (entry.dtype === "q4") assert.ok(files.includes("onnx/model_q4.onnx") && !files.includes("onnx/model.onnx"), files.join(", "));
      if (entry.dtype === "q8") assert.ok(files.includes("onnx/model_quantized.onnx") && !files.includes("onnx/model.onnx"), files.join(", "));
      const config: Record<string, unknown> = {};
      if (entry.dtype) config.dtype = entry.dtype;
      if (entry.voice) config.voice = entry.voice;
      if (entry.engine) config.engine = entry.engine;
      const model = await openEngine(entry.kind, { enginesPath: entry.model, config }, { sourceOptions: { cacheDir, offline: true }, warn: () => undefined });
      try {
        assert.equal(model.kind, entry.kind);
        if (entry.voice && "voices" in model) assert.ok((model as { voices: string[] }).voices.includes(entry.voice), "the engine speaks the catalog's voice");
      } finally {
        await model.dispose();
      }
    });
  }

  it("sizes: the cache lists a repo once for all its selections (every piper voice), and answers undefined (approximate) when the hub fails", async () => {
    let asked = 0;
    const cache = new DownloadSizeCache(async (q) => (asked++, hubFileSizes(q)));
    for (const entry of PIPER_ENTRIES) {
      const q = { repo: entry.model, voice: entry.voice, hubUrl: hub.url };
      assert.deepEqual(await cache.get(q, 5000), await hubDownloadSize(q));
    }
    assert.equal(asked, 1);
    const down = new DownloadSizeCache();
    assert.equal(await down.get({ repo: "owner/none", hubUrl: "http://127.0.0.1:9" }, 5000), undefined);
  });
});
