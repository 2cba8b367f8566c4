/**
 * Fault corpus for voice-model: bad configuration and bad answers from the hub (404, 401,
 * 500, a download cut off). The error reaches the Catch node of the node that uses the model,
 * names the model and what to do, nothing crashes, and after the fix (a redeploy) the same
 * flow works.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { startHubServer, type HubServer } from "../helpers/hub-server";
import { expectCaught, helper, loadHarness, nodeModule, waitFor, watchCrashes, type Harness } from "./faults-support";

const MODULES = [nodeModule("voice-model"), nodeModule("tts-streamer")];
const VOICE = "en_US-tiny-medium.onnx";

async function load(model: Record<string, unknown>, credentials?: Record<string, unknown>): Promise<Harness> {
  const config = { id: "n_model", type: "voice-model", name: "tts model", kind: "tts", revision: "main", config: "{}", ...model };
  if (!credentials) return loadHarness(MODULES, { id: "n_tts", type: "tts-streamer", model: "n_model" }, 1, [config]);
  // The helper takes credentials as load's third argument; load it by hand here.
  const flow = [
    config,
    { id: "n_tts", type: "tts-streamer", model: "n_model", wires: [["n_out0"]] },
    { id: "n_out0", type: "helper" },
    { id: "n_catch", type: "catch", scope: ["n_tts"], wires: [["n_caught"]] },
    { id: "n_caught", type: "helper" },
  ];
  const { catchNode } = await import("./faults-support.js");
  await helper.load([...MODULES, catchNode], flow, { n_model: credentials });
  const outputs = [[] as Record<string, unknown>[]];
  helper.getNode("n_out0").on("input", (m: Record<string, unknown>) => outputs[0].push(m));
  const caught: Record<string, unknown>[] = [];
  helper.getNode("n_caught").on("input", (m: Record<string, unknown>) => caught.push(m));
  return { node: helper.getNode("n_tts"), outputs, caught };
}

/** The flow speaks: a text gives audio and a final. */
async function speaks(h: Harness, id = "ok"): Promise<void> {
  h.node.receive({ payload: "Hello.", stream_id: id });
  await waitFor(() => h.outputs[0].some((m) => m.stream_id === id && m.is_final === true), `the final of ${id}`, 30000);
  assert.ok(h.outputs[0].some((m) => m.stream_id === id && !m.is_final && (m.payload as Float32Array).length > 0));
}

describe("faults: voice-model", function () {
  this.timeout(90000);
  watchCrashes();

  it("bad configuration (kind, extra config, engines path, folder) reaches the using node's Catch, saying what to fix", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ kind: "video", enginesPath: "x" }, /the model 'tts model' is a video model, but this node needs a tts model; choose a voice-model of kind tts/],
      [{ enginesPath: await fixtureDir("tiny-piper"), config: "{dtype: q4" }, /the voice-model's extra config is not valid JSON \(.+\); fix it or clear it/],
      [{ enginesPath: await fixtureDir("tiny-piper"), config: "[1]" }, /the voice-model's extra config must be a JSON object/],
      [{ enginesPath: "" }, /no engines path set: give a Hugging Face repo id \(owner\/name\) or a local model folder/],
      [{ enginesPath: "/no/such/folder" }, /model directory '\/no\/such\/folder' does not exist; set the engines path to a Hugging Face repo id/],
      [{ enginesPath: await fixtureDir("tiny-llm") }, /is not a TTS model this package can run/],
    ];
    for (const [model, expected] of cases) {
      const h = await load(model);
      await expectCaught(h, { payload: "Hi.", stream_id: "a" }, expected);
      await expectCaught(h, { payload: "Hi again.", stream_id: "b" }, expected);
      await helper.unload();
    }
    await speaks(await load({ enginesPath: await fixtureDir("tiny-piper") }));
  });

  describe("hub answers", () => {
    let hub: HubServer;
    const saved = { cache: process.env.VOICE_STREAM_CACHE, endpoint: process.env.HF_ENDPOINT, token: process.env.HF_TOKEN };
    let served: string;
    before(async () => {
      served = fs.mkdtempSync(path.join(os.tmpdir(), "vs-faults-hub-"));
      fs.cpSync(await fixtureDir("tiny-piper"), served, { recursive: true });
      hub = await startHubServer({ repos: { "test/piper": served } });
      process.env.HF_ENDPOINT = hub.url;
      delete process.env.HF_TOKEN;
    });
    beforeEach(() => {
      // A fresh cache per test: each one downloads.
      process.env.VOICE_STREAM_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "vs-faults-cache-"));
      hub.failWith(undefined);
    });
    after(async () => {
      await hub.close();
      fs.rmSync(served, { recursive: true, force: true });
      for (const [key, value] of [["VOICE_STREAM_CACHE", saved.cache], ["HF_ENDPOINT", saved.endpoint], ["HF_TOKEN", saved.token]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    });

    it("404: a repo that does not exist names the repo and says to check the id", async () => {
      const h = await load({ enginesPath: "test/nope" });
      await expectCaught(h, { payload: "Hi.", stream_id: "a" }, /model 'test\/nope'.*(not found|HTTP 404).*check the repo id/);
      await helper.unload();
      await speaks(await load({ enginesPath: "test/piper" }));
    });

    it("500: a hub error names the status and the model; after the outage a redeploy downloads and speaks", async () => {
      hub.failWith(500);
      const h = await load({ enginesPath: "test/piper" });
      await expectCaught(h, { payload: "Hi.", stream_id: "a" }, /the Hugging Face hub answered HTTP 500 for model 'test\/piper'/);
      await helper.unload();
      hub.failWith(undefined);
      await speaks(await load({ enginesPath: "test/piper" }));
    });

    it("401: a private repo without a token says to set HF_TOKEN or the node's token; with the token it speaks", async () => {
      const privateHub = await startHubServer({ repos: { "test/piper": served }, token: "hf_secret" });
      process.env.HF_ENDPOINT = privateHub.url;
      try {
        const h = await load({ enginesPath: "test/piper" });
        await expectCaught(h, { payload: "Hi.", stream_id: "a" }, /refused access to model 'test\/piper' \(HTTP 401\).*set HF_TOKEN \(or the voice-model node's token\)/);
        await helper.unload();
        const wrong = await load({ enginesPath: "test/piper" }, { token: "hf_wrong" });
        await expectCaught(wrong, { payload: "Hi.", stream_id: "a" }, /the token given .* has no access to it/);
        await helper.unload();
        await speaks(await load({ enginesPath: "test/piper" }, { token: "hf_secret" }));
      } finally {
        process.env.HF_ENDPOINT = hub.url;
        await privateHub.close();
      }
    });

    it("a download cut off mid-file says so and that the next attempt resumes; a redeploy resumes with a Range request and speaks", async () => {
      hub.cutNext(VOICE, 2000);
      const h = await load({ enginesPath: "test/piper" });
      await expectCaught(h, { payload: "Hi.", stream_id: "a" }, /download of 'en_US-tiny-medium\.onnx' of model 'test\/piper' was cut off after \d+ of \d+ bytes .*try again — the next attempt resumes where this one stopped/);
      await helper.unload();
      const before = hub.requests.length;
      await speaks(await load({ enginesPath: "test/piper" }));
      const ranges = hub.requests.slice(before).filter((r) => r.url.endsWith(VOICE)).map((r) => `${r.method} ${r.range ?? ""}`);
      assert.ok(ranges.some((r) => /^GET bytes=[1-9]\d*-/.test(r)), `the transfer resumed with a Range request: ${ranges.join(", ")}`);
    });

    it("a corrupt file in the download names the file and says to delete the cached folder", async () => {
      const damaged = fs.mkdtempSync(path.join(os.tmpdir(), "vs-faults-hub-bad-"));
      fs.cpSync(served, damaged, { recursive: true });
      fs.writeFileSync(path.join(damaged, `${VOICE}.json`), "{ truncated");
      const badHub = await startHubServer({ repos: { "test/piper": damaged } });
      process.env.HF_ENDPOINT = badHub.url;
      try {
        const h = await load({ enginesPath: "test/piper" });
        await expectCaught(h, { payload: "Hi.", stream_id: "a" }, /'en_US-tiny-medium\.onnx\.json' of model 'test\/piper' is not valid JSON .*delete the model's cached folder/);
      } finally {
        process.env.HF_ENDPOINT = hub.url;
        await badHub.close();
        fs.rmSync(damaged, { recursive: true, force: true });
      }
    });
  });
});
