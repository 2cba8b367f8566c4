/**
 * The admin routes behind the voice-model dialog's model picker, in a real Node-RED with a
 * local hub standing in for huggingface.co: the tested models of a kind with their exact
 * download size from the hub (the catalog's approximate one when the hub fails), the cache's
 * repos, "download now" with progress to the end (one piper voice of rhasspy/piper-voices
 * alone), and clear refusals.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { piperVoiceFolder, piperVoicesRepo } from "../helpers/piper-voices-repo";
import { startHubServer, type HubServer } from "../helpers/hub-server";
import { NodeRedProcess } from "../helpers/node-red-process";

interface Listing {
  tested: { model: string; sizeMb: number; licence: string; voice?: string; engine?: string; exact: boolean; bytes?: number; files?: number }[];
  cached: { repo: string; bytes: number; files: number }[];
}
interface DownloadState {
  state: "downloading" | "done" | "error";
  progress?: { fraction: number; bytes_done: number; bytes_total: number; files_done: number; files_total: number };
  error?: string;
}

describe("e2e: the model picker's admin routes", function () {
  this.timeout(120000);
  let hub: HubServer;
  let red: NodeRedProcess;
  let whisperDir: string;
  let piperDir: string;
  const bytesOf = (dir: string, rels: string[]) => rels.reduce((sum, rel) => sum + fs.statSync(path.join(dir, rel)).size, 0);

  before(async () => {
    whisperDir = await fixtureDir("tiny-whisper");
    piperDir = await piperVoicesRepo(["en_US-lessac-medium", "de_DE-thorsten-medium", "fr_FR-siwis-medium", "en_GB-alan-medium"]);
    hub = await startHubServer({ repos: { "onnx-community/whisper-base": whisperDir, "rhasspy/piper-voices": piperDir } });
    red = await NodeRedProcess.start({ env: { HF_ENDPOINT: hub.url, VOICE_STREAM_CACHE: "" } });
  });
  after(async () => {
    await red?.stop();
    await hub?.close();
  });

  it("lists the tested models of a kind with size and licence, and nothing cached yet", async () => {
    const res = await red.request("GET", "/voice-stream/models?kind=asr");
    assert.equal(res.status, 200, res.text);
    const list = res.json as Listing;
    const base = list.tested.find((m) => m.model === "onnx-community/whisper-base");
    assert.ok(base && base.sizeMb > 0 && base.licence === "MIT", JSON.stringify(list.tested));
    // The exact size asked of the (test) hub: every file of the fixture (it has only the fp32 variant the entry names).
    const fixtureFiles = fs.readdirSync(whisperDir, { recursive: true }).map(String).filter((rel) => rel !== ".complete" && fs.statSync(path.join(whisperDir, rel)).isFile());
    assert.equal(base!.exact, true, JSON.stringify(base));
    assert.equal(base!.bytes, bytesOf(whisperDir, fixtureFiles));
    assert.equal(base!.files, fixtureFiles.length);
    // A repo the hub does not answer for (here a 404; offline it is a refused connection): the catalog's figure, marked approximate.
    const small = list.tested.find((m) => m.model === "onnx-community/whisper-small");
    assert.ok(small && small.exact === false && small.bytes === undefined && small.sizeMb > 0, JSON.stringify(small));
    assert.ok(list.tested.every((m) => m.licence), "every tested model names its licence");
    assert.deepEqual(list.cached, []);
    const llm = (await red.request("GET", "/voice-stream/models?kind=llm")).json as Listing;
    assert.ok(llm.tested.some((m) => m.model === "stories260K" && m.sizeMb === 0), "the built-in offline LLM is offered");
    assert.equal((await red.request("GET", "/voice-stream/models?kind=video")).status, 400);
  });

  it("lists piper voices with the exact size of that one voice's files", async () => {
    const list = (await red.request("GET", "/voice-stream/models?kind=tts")).json as Listing;
    const piper = list.tested.filter((m) => m.engine === "piper");
    assert.ok(piper.length >= 4, JSON.stringify(list.tested));
    for (const m of piper) assert.match(m.licence, /MODEL_CARD/);
    const lessac = piper.find((m) => m.voice === "en_US-lessac-medium");
    const folder = piperVoiceFolder("en_US-lessac-medium");
    const voiceFiles = [`${folder}/en_US-lessac-medium.onnx`, `${folder}/en_US-lessac-medium.onnx.json`, `${folder}/MODEL_CARD`];
    assert.ok(lessac && lessac.exact, JSON.stringify(lessac));
    assert.equal(lessac!.bytes, bytesOf(piperDir, voiceFiles));
    assert.equal(lessac!.files, 3);
  });

  it("download now of a piper voice fetches that voice alone", async () => {
    const body = { repo: "rhasspy/piper-voices", revision: "main", dtype: "", voice: "en_US-lessac-medium" };
    const started = await red.request("POST", "/voice-stream/models/download", body);
    assert.equal(started.status, 200, started.text);
    let state = started.json as DownloadState;
    const until = Date.now() + 60000;
    while (state.state === "downloading") {
      assert.ok(Date.now() < until, JSON.stringify(state));
      await new Promise((r) => setTimeout(r, 100));
      state = (await red.request("GET", `/voice-stream/models/download?repo=rhasspy/piper-voices&revision=main&dtype=&voice=en_US-lessac-medium`)).json as DownloadState;
    }
    assert.equal(state.state, "done", state.error);
    const list = (await red.request("GET", "/voice-stream/models?kind=tts")).json as Listing;
    const cached = list.cached.find((c) => c.repo === "rhasspy/piper-voices");
    const shown = list.tested.find((m) => m.voice === "en_US-lessac-medium");
    assert.ok(cached && shown, JSON.stringify(list));
    assert.equal(cached!.files, 3, "the voice's graph, config and model card; no other voice, no samples");
    assert.equal(cached!.bytes, shown!.bytes, "the size shown is the size downloaded");
  });

  it("download now: progress to 100 %, then the repo is listed as cached", async () => {
    const body = { repo: "onnx-community/whisper-base", revision: "main", dtype: "fp32" };
    const started = await red.request("POST", "/voice-stream/models/download", body);
    assert.equal(started.status, 200, started.text);
    let state: DownloadState = started.json as DownloadState;
    const seen: DownloadState[] = [state];
    const until = Date.now() + 60000;
    while (state.state === "downloading") {
      assert.ok(Date.now() < until, JSON.stringify(state));
      await new Promise((r) => setTimeout(r, 100));
      state = (await red.request("GET", "/voice-stream/models/download?repo=onnx-community/whisper-base&revision=main&dtype=fp32")).json as DownloadState;
      seen.push(state);
    }
    assert.equal(state.state, "done", state.error);
    const p = state.progress!;
    assert.ok(p.bytes_total > 0 && p.bytes_done === p.bytes_total && p.fraction === 1 && p.files_done === p.files_total, JSON.stringify(p));
    const cached = ((await red.request("GET", "/voice-stream/models?kind=asr")).json as Listing).cached;
    const entry = cached.find((c) => c.repo === "onnx-community/whisper-base");
    assert.ok(entry && entry.bytes === p.bytes_total, JSON.stringify(cached));
  });

  it("refuses what cannot be downloaded, saying why", async () => {
    const builtIn = await red.request("POST", "/voice-stream/models/download", { repo: "espeak" });
    assert.equal(builtIn.status, 400);
    assert.match((builtIn.json as { error: string }).error, /not a Hugging Face repo id .*need no download/);
    const missing = await red.request("POST", "/voice-stream/models/download", { repo: "nobody/no-such-model" });
    assert.equal(missing.status, 200);
    let state = missing.json as DownloadState;
    const until = Date.now() + 30000;
    while (state.state === "downloading" && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await red.request("GET", "/voice-stream/models/download?repo=nobody/no-such-model")).json as DownloadState;
    }
    assert.equal(state.state, "error");
    assert.match(String(state.error), /nobody\/no-such-model/);
  });
});
