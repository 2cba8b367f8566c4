/**
 * The admin routes behind the voice-model dialog's model picker, in a real Node-RED with a
 * local hub standing in for huggingface.co: the tested models of a kind, the cache's repos,
 * "download now" with progress to the end, and clear refusals.
 */
import { strict as assert } from "assert";
import { fixtureDir } from "../helpers/fixtures";
import { startHubServer, type HubServer } from "../helpers/hub-server";
import { NodeRedProcess } from "../helpers/node-red-process";

interface Listing {
  tested: { model: string; sizeMb: number; licence: string }[];
  cached: { repo: string; bytes: number }[];
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

  before(async () => {
    hub = await startHubServer({ repos: { "onnx-community/whisper-base": await fixtureDir("tiny-whisper") } });
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
    assert.ok(list.tested.every((m) => m.licence), "every tested model names its licence");
    assert.deepEqual(list.cached, []);
    const llm = (await red.request("GET", "/voice-stream/models?kind=llm")).json as Listing;
    assert.ok(llm.tested.some((m) => m.model === "stories260K" && m.sizeMb === 0), "the built-in offline LLM is offered");
    assert.equal((await red.request("GET", "/voice-stream/models?kind=video")).status, 400);
  });

  it("download now: progress to 100 %, then the repo is listed as cached", async () => {
    const body = { repo: "onnx-community/whisper-base", revision: "main", dtype: "" };
    const started = await red.request("POST", "/voice-stream/models/download", body);
    assert.equal(started.status, 200, started.text);
    let state: DownloadState = started.json as DownloadState;
    const seen: DownloadState[] = [state];
    const until = Date.now() + 60000;
    while (state.state === "downloading") {
      assert.ok(Date.now() < until, JSON.stringify(state));
      await new Promise((r) => setTimeout(r, 100));
      state = (await red.request("GET", "/voice-stream/models/download?repo=onnx-community/whisper-base&revision=main&dtype=")).json as DownloadState;
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
