import { strict as assert } from "assert";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { repoRoot } from "../helpers/paths";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const voiceModelNode = require(path.join(NODES, "voice-model.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ttsStreamerNode = require(path.join(NODES, "tts-streamer.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require("@node-red/nodes/core/common/25-catch.js");

type Msg = Record<string, unknown> & { payload?: unknown };

describe("tts-streamer node with Kokoro (tiny-kokoro)", function () {
  this.timeout(90000);
  let dir: string;
  before(async () => {
    dir = await fixtureDir("tiny-kokoro");
    await new Promise<void>((resolve) => helper.startServer(resolve));
  });
  after(async () => new Promise<void>((resolve) => helper.stopServer(resolve)));
  afterEach(async () => helper.unload());

  async function load(settings: Record<string, unknown> = {}) {
    const flow = [
      { id: "n_model", type: "voice-model", name: "kokoro", kind: "tts", enginesPath: dir, revision: "main", config: "{}" },
      { id: "n_tts", type: "tts-streamer", model: "n_model", wires: [["n_out"]], ...settings },
      { id: "n_out", type: "helper" },
      { id: "n_catch", type: "catch", scope: ["n_tts"], wires: [["n_caught"]] },
      { id: "n_caught", type: "helper" },
    ];
    await helper.load([voiceModelNode, ttsStreamerNode, catchNode], flow);
    const out: Msg[] = [];
    const errors: Msg[] = [];
    helper.getNode("n_out").on("input", (msg: Msg) => out.push(msg));
    helper.getNode("n_caught").on("input", (msg: Msg) => errors.push(msg));
    return { tts: helper.getNode("n_tts"), out, errors };
  }

  const waitFor = async (check: () => boolean, ms = 30000) => {
    const until = Date.now() + ms;
    while (!check()) {
      if (Date.now() > until) throw new Error("timed out");
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const spoken = (out: Msg[], id: string) => out.filter((m) => m.stream_id === id && !m.is_final);

  it("speaks span by span at 24 kHz; node speed, msg.speed and msg.voice (a blend) apply per stream", async () => {
    const { tts, out, errors } = await load({ speed: "1" });
    tts.receive({ payload: "Hello there. Second sentence.", stream_id: "a" });
    tts.receive({ payload: "Hello there. Second sentence.", stream_id: "b", speed: 2, voice: "af_heart:0.7,am_adam:0.3" });
    await waitFor(() => out.filter((m) => m.is_final).length === 2);
    assert.deepEqual(errors, []);
    const a = spoken(out, "a");
    const b = spoken(out, "b");
    assert.deepEqual(a.map((m) => m.text), ["Hello there.", "Second sentence."]);
    for (const m of a) assert.equal(m.sample_rate, 24000);
    assert.deepEqual(b.map((m) => (m.payload as Float32Array).length), a.map((m) => (m.payload as Float32Array).length / 2));
  });

  it("a bad msg.speed or voice reaches the Catch node with the reason", async () => {
    const { tts, errors } = await load();
    tts.receive({ payload: "Hi.", speed: "fast" });
    tts.receive({ payload: "Hi.", voice: "xx_nobody" });
    await waitFor(() => errors.length === 2);
    const messages = errors.map((e) => (e.error as { message: string }).message);
    assert.match(messages[0], /speed must be a number from 0.25 to 4/);
    assert.match(messages[1], /unknown Kokoro voice 'xx_nobody'/);
  });

  it("admin endpoint lists the voices: from the deployed model and from a local folder", async () => {
    await load();
    await helper.getNode("n_model").model();
    const byModel = await helper.request().get("/voice-stream/voices").query({ model: "n_model" }).expect(200);
    assert.deepEqual(byModel.body, { voices: ["af_heart", "am_adam", "bf_emma"] });
    const byPath = await helper.request().get("/voice-stream/voices").query({ path: dir }).expect(200);
    assert.deepEqual(byPath.body, { voices: ["af_heart", "am_adam", "bf_emma"] });
    const missing = await helper.request().get("/voice-stream/voices").query({ model: "nope" }).expect(404);
    assert.match(missing.body.error, /no deployed voice-model 'nope'/);
    await helper.request().get("/voice-stream/voices").expect(400);
  });
});
