/**
 * Every flow in examples/ imports through the admin API of a real Node-RED 4 (POST /flows)
 * and deploys: all node types known, every node created, no runtime warnings or errors, and
 * no node reports a problem. A local hub server (HF_ENDPOINT) stands in for huggingface.co and
 * serves the tiny test fixtures under the real repo ids the examples name, so every model is
 * downloaded (with progress in the node status) and loaded, as on a user's first deploy.
 */
import { strict as assert } from "assert";
import { linkDashboard } from "../helpers/dashboard";
import { fakeService, type FakeService } from "../helpers/fake-wyoming-service";
import { fixtureDir } from "../helpers/fixtures";
import { startHubServer, type HubServer } from "../helpers/hub-server";
import { NodeRedProcess, exampleFlows } from "../helpers/node-red-process";
import { needTool } from "../helpers/system-tools";
import { wakeModelFolder } from "../helpers/wake-models";

const SUITE_TYPES = ["llm-stream", "tts-streamer", "whisper-streamer", "audio-out", "audio-in", "ui-voice", "wyoming-in", "wake-word"];
/**
 * The only warnings a fresh `npm start` may log, each named: Node-RED's own notes that the
 * credentials file is not encrypted (credentialSecret: false) and that projects are off.
 * Anything else at [warn] or [error] fails the example's test.
 */
const EXPECTED_WARNINGS = [/\[warn\] .*unencrypted credentials/, /\[warn\] Projects disabled/];
/** The largest node centre an example may use, so it fits one editor screen (about 1400 × 760 px of canvas). */
const SCREEN = { x: 1200, y: 660 };
/**
 * Remote engines (http(s)://, wyoming://) download nothing. An OpenAI-compatible engine loads
 * without its server (errors come per stream); a Wyoming engine asks its service what it offers
 * at load, so a scripted service (random port) stands in at each wyoming:// address.
 */
const REMOTE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The flow with every voice-model's wyoming:// address pointed at the stand-in service. */
function withWyomingAt(flow: Record<string, unknown>[], url: string): Record<string, unknown>[] {
  return flow.map((n) => (n.type === "voice-model" && /^wyoming:\/\//i.test(String(n.enginesPath)) ? { ...n, enginesPath: url } : n));
}

describe("e2e: example flows deploy in Node-RED 4", function () {
  this.timeout(120000);
  let red: NodeRedProcess;
  let hub: HubServer;
  let wyoming: FakeService;

  before(async () => {
    hub = await startHubServer({
      repos: { "onnx-community/Qwen3-0.6B-ONNX": await fixtureDir("tiny-llm"), "onnx-community/whisper-base": await fixtureDir("tiny-whisper"),
        "onnx-community/Kokoro-82M-v1.0-ONNX": await fixtureDir("tiny-kokoro") },
    });
    // Answers describe (asr, tts, wake); nothing is synthesized in these tests.
    wyoming = await fakeService(() => undefined);
    // Dashboard 2.0 (a devDependency) installed in the user dir, for the "Dashboard voice assistant" example.
    red = await NodeRedProcess.start({ env: { HF_ENDPOINT: hub.url, VOICE_STREAM_CACHE: "" }, prepare: linkDashboard });
  });
  after(async () => {
    await red?.stop();
    await hub?.close();
    await wyoming?.close();
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

  it("each fits one screen and reads left to right: no wire runs back to a node at or left of its source", () => {
    for (const { title, flow } of examples) {
      const byId = new Map(flow.map((n) => [n.id as string, n]));
      for (const n of flow) {
        if (typeof n.x !== "number" || typeof n.y !== "number") continue;
        assert.ok(n.x <= SCREEN.x && n.y <= SCREEN.y, `${title}: ${n.type} '${n.name ?? ""}' at ${n.x},${n.y} is off the first screen`);
        for (const target of ((n.wires as string[][] | undefined) ?? []).flat()) {
          const t = byId.get(target)!;
          assert.ok((t.x as number) > n.x, `${title}: the wire from ${n.type} '${n.name ?? ""}' loops back to ${t.type} '${t.name ?? ""}' (use link nodes)`);
        }
      }
    }
  });

  it("Node-RED lists them under Import → Examples", async () => {
    const res = await red.request("GET", "/nodes", undefined, { Accept: "application/json" });
    assert.equal(res.status, 200);
    const ours = (res.json as { module: string; name: string; enabled: boolean; err?: unknown }[]).filter((n) => n.module === "node-red-contrib-voice-stream");
    assert.deepEqual(ours.map((n) => n.name).sort(), ["audio-in", "audio-out", "llm-stream", "tts-streamer", "ui-voice", "vad", "voice-model", "wake-word", "whisper-streamer", "wyoming-in", "wyoming-out"]);
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

  it("a model that cannot load: a short red status on its node and the whole reason in the debug sidebar at deploy", async () => {
    const statusFrom = red.statuses.length;
    const debugFrom = red.debug.length;
    await red.deploy([
      { id: "bad00000000001", type: "tab", label: "bad model" },
      { id: "bad00000000002", type: "voice-model", name: "missing repo", kind: "llm", enginesPath: "nobody/no-such-model" },
      { id: "bad00000000003", type: "llm-stream", z: "bad00000000001", name: "llm", model: "bad00000000002", x: 200, y: 100, wires: [[]] },
    ]);
    // No message is sent: the failure must show at deploy.
    await red.waitFor(() => red.debug.slice(debugFrom).some((d) => d.level === 20), 30000, "the load error in the debug sidebar");
    const error = red.debug.slice(debugFrom).find((d) => d.level === 20)!;
    assert.match(String(error.msg), /model 'missing repo' \(llm\) failed to load: .*model 'nobody\/no-such-model' was not found on the Hugging Face hub .*check the repo id/);
    const red_ = red.statuses.slice(statusFrom).filter((st) => st.id === "bad00000000003" && st.fill === "red");
    assert.equal(red_[red_.length - 1]?.text, "hub: model not found");
  });

  for (const { title, flow } of examples) {
    it(`'${title}' imports and deploys with no errors`, async function () {
      // A speaker or microphone example needs a player / recorder installed; its red "no audio
      // player" status would otherwise be the true state of this machine, not a defect.
      if (flow.some((n) => n.type === "audio-out" && n.sink === "speaker")) needTool(this, "audio player");
      if (flow.some((n) => n.type === "audio-in" && n.source === "microphone")) needTool(this, "audio recorder");
      const from = red.log().length;
      const statusFrom = red.statuses.length;
      const debugFrom = red.debug.length;
      // A wake model is the user's own folder (openWakeWord heads may not be shipped): the test's copy stands in.
      for (const n of flow) if (n.type === "voice-model" && n.kind === "wake") n.enginesPath = wakeModelFolder(["hey_jarvis_v0.1"]);
      await red.deploy(withWyomingAt(flow, wyoming.url));
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
      const hubModels = flow.filter((n) => n.type === "voice-model" && String(n.enginesPath).includes("/") && !String(n.enginesPath).startsWith("/") && !REMOTE.test(String(n.enginesPath)));
      for (const m of hubModels) {
        // Only the first deploy that uses a repo downloads it; later ones load it from the cache.
        if (downloaded.has(String(m.enginesPath))) continue;
        downloaded.add(String(m.enginesPath));
        const user = modelUsers.find((n) => n.model === m.id)!;
        assert.ok(mine(user.id as string).some((s) => /^downloading \d+%$/.test(String(s.text))), `${m.enginesPath}: download progress shown on ${user.type}`);
      }
      const problems = red.problems(from).filter((l) => !EXPECTED_WARNINGS.some((w) => w.test(l)));
      assert.deepEqual(problems, [], "no runtime warnings or errors");
      const errors = red.debug.slice(debugFrom).filter((d) => d.level === 20).map((d) => String(d.msg));
      assert.deepEqual(errors, [], "no node reported an error");
    });
  }
});
