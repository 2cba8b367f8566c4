/**
 * Every flow in examples/ imports through the admin API of a real Node-RED 4 (POST /flows)
 * and deploys: all node types known, every node created, no runtime warnings or errors, and
 * no node reports a problem. A local hub server (HF_ENDPOINT) stands in for huggingface.co and
 * serves the tiny test fixtures under the real repo ids the examples name, so every model is
 * downloaded (with progress in the node status) and loaded, as on a user's first deploy.
 */
import { strict as assert } from "assert";
import { fixtureDir } from "../helpers/fixtures";
import { startHubServer, type HubServer } from "../helpers/hub-server";
import { NodeRedProcess, exampleFlows } from "../helpers/node-red-process";
import { wakeModelFolder } from "../helpers/wake-models";

const SUITE_TYPES = ["llm-stream", "tts-streamer", "whisper-streamer", "audio-out", "audio-in", "wake-word"];
/** Log lines that say nothing about the flow: unencrypted credentials, projects off, MQTT with no broker running. */
const EXPECTED_NOISE = /unencrypted credentials|Projects disabled|\[mqtt-broker:/;

describe("e2e: example flows deploy in Node-RED 4", function () {
  this.timeout(120000);
  let red: NodeRedProcess;
  let hub: HubServer;

  before(async () => {
    hub = await startHubServer({
      repos: { "onnx-community/Qwen3-0.6B-ONNX": await fixtureDir("tiny-llm"), "onnx-community/whisper-base": await fixtureDir("tiny-whisper") },
    });
    red = await NodeRedProcess.start({ env: { HF_ENDPOINT: hub.url, VOICE_STREAM_CACHE: "" } });
  });
  after(async () => {
    await red?.stop();
    await hub?.close();
  });

  const examples = exampleFlows();
  const downloaded = new Set<string>();

  it("has one example per use case, each opening with a comment node", () => {
    assert.ok(examples.length >= 7, `found ${examples.length} examples`);
    for (const { title, flow } of examples) {
      const first = flow.find((n) => n.type !== "tab");
      assert.equal(first?.type, "comment", `${title} opens with a comment`);
    }
  });

  it("Node-RED lists them under Import → Examples", async () => {
    const res = await red.request("GET", "/nodes", undefined, { Accept: "application/json" });
    assert.equal(res.status, 200);
    const ours = (res.json as { module: string; name: string; enabled: boolean; err?: unknown }[]).filter((n) => n.module === "node-red-contrib-voice-stream");
    assert.deepEqual(ours.map((n) => n.name).sort(), ["audio-in", "audio-out", "llm-stream", "tts-streamer", "voice-model", "whisper-streamer"]);
    for (const n of ours) assert.equal(n.err, undefined, `${n.name} loaded without error`);
    // The editor's Import → Examples dialog reads the examples library: modules first, then a module's flows.
    const modules = await red.request("GET", "/library/examples/flows/");
    assert.equal(modules.status, 200, modules.text);
    assert.ok((modules.json as string[]).includes("node-red-contrib-voice-stream"), modules.text);
    const lib = await red.request("GET", "/library/examples/flows/node-red-contrib-voice-stream");
    assert.equal(lib.status, 200, lib.text);
    const listed = (lib.json as ({ fn: string } | string)[]).map((e) => (typeof e === "string" ? e : e.fn));
    assert.deepEqual(listed.sort(), examples.map((e) => e.title).sort());
    const one = await red.request("GET", `/library/examples/flows/node-red-contrib-voice-stream/${encodeURIComponent(examples[0].title)}`);
    assert.deepEqual(one.json, examples[0].flow, "an example opens as its file's flow");
  });

  for (const { title, flow } of examples) {
    it(`'${title}' imports and deploys with no errors`, async () => {
      const from = red.log().length;
      const statusFrom = red.statuses.length;
      const debugFrom = red.debug.length;
      // A wake model is the user's own folder (openWakeWord heads may not be shipped): the test's copy stands in.
      for (const n of flow) if (n.type === "voice-model" && n.kind === "wake") n.enginesPath = wakeModelFolder(["hey_jarvis_v0.1"]);
      await red.deploy(flow);
      const res = await red.request("GET", "/flows");
      const deployed = new Set((res.json as { id: string }[]).map((n) => n.id));
      for (const n of flow) assert.ok(deployed.has(n.id as string), `${n.type} ${n.id} is in the deployed flows`);
      // Give the models time to try the (unreachable) hub and every node time to show its state.
      const suiteNodes = flow.filter((n) => SUITE_TYPES.includes(n.type as string));
      assert.ok(suiteNodes.length > 0, "the example uses the suite's nodes");
      const mine = (id: string) => red.statuses.slice(statusFrom).filter((s) => s.id === id);
      const latest = (id: string) => mine(id)[mine(id).length - 1];
      const modelUsers = suiteNodes.filter((n) => typeof n.model === "string" && n.model !== "");
      // Every node that uses a model reaches "ready" (the models come from the local hub).
      await red.waitFor(
        () => modelUsers.every((n) => latest(n.id as string)?.text === "ready" || latest(n.id as string)?.fill === "red") && suiteNodes.every((n) => latest(n.id as string)),
        60000,
        `every suite node of '${title}' to show its state`,
      );
      await new Promise((r) => setTimeout(r, 1000));
      for (const n of suiteNodes) {
        const s = latest(n.id as string)!;
        assert.notEqual(s.fill, "red", `${n.type} '${n.name}' status: ${s.text}`);
      }
      for (const n of modelUsers) assert.equal(latest(n.id as string)!.text, "ready", `${n.type} '${n.name}'`);
      const hubModels = flow.filter((n) => n.type === "voice-model" && String(n.enginesPath).includes("/"));
      for (const m of hubModels) {
        // Only the first deploy that uses a repo downloads it; later ones load it from the cache.
        if (downloaded.has(String(m.enginesPath))) continue;
        downloaded.add(String(m.enginesPath));
        const user = modelUsers.find((n) => n.model === m.id)!;
        assert.ok(mine(user.id as string).some((s) => /^downloading \d+%$/.test(String(s.text))), `${m.enginesPath}: download progress shown on ${user.type}`);
      }
      const problems = red.problems(from).filter((l) => !EXPECTED_NOISE.test(l));
      assert.deepEqual(problems, [], "no runtime warnings or errors");
      const errors = red.debug.slice(debugFrom).filter((d) => d.level === 20).map((d) => String(d.msg));
      assert.deepEqual(errors, [], "no node reported an error");
    });
  }
});
