/**
 * Node-RED 5 (the node-red-5 devDependency, npm:node-red@5.0.7) loads every node of the suite
 * and runs the offline demo. Node-RED 5's CLI needs Node >= 22.9; on older Node the runtime
 * is embedded through RED.init / RED.start (scripts/node-red-embedded.js), on newer Node its
 * own red.js is used.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "../helpers/paths";
import { NodeRedProcess } from "../helpers/node-red-process";
import { decodeWav } from "../../src/core/audio/wav";

const INJECT = "d3m0000000000003";
const SUITE = ["audio-in", "audio-out", "llm-stream", "tts-streamer", "vad", "voice-model", "wake-word", "whisper-streamer"];

function cliSupported(): boolean {
  const [major, minor] = process.versions.node.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 9);
}

describe("e2e: Node-RED 5 runtime", function () {
  this.timeout(180000);
  let red: NodeRedProcess;

  before(async () => {
    const version = JSON.parse(fs.readFileSync(require.resolve("node-red-5/package.json", { paths: [repoRoot()] }), "utf8")).version as string;
    assert.match(version, /^5\./);
    const redJs = cliSupported()
      ? require.resolve("node-red-5/red.js", { paths: [repoRoot()] })
      : path.join(repoRoot(), "scripts", "node-red-embedded.js");
    red = await NodeRedProcess.start({ demo: true, redJs, env: { NODE_RED_PACKAGE: "node-red-5", HF_ENDPOINT: "http://127.0.0.1:9" } });
  });
  after(async () => {
    await red?.stop();
  });

  it("is Node-RED 5 and loads all the nodes of the suite without error", async () => {
    assert.match(red.log(), /Node-RED version: v5\./);
    const res = await red.request("GET", "/nodes");
    const ours = (res.json as { module: string; name: string; enabled: boolean; err?: unknown; types: string[] }[]).filter((n) => n.module === "node-red-contrib-voice-stream");
    assert.deepEqual(ours.map((n) => n.name).sort(), SUITE);
    for (const n of ours) {
      assert.equal(n.err, undefined, `${n.name}: ${JSON.stringify(n.err)}`);
      assert.equal(n.enabled, true);
    }
    assert.doesNotMatch(red.log(), /Waiting for missing types/);
  });

  it("runs the offline demo: the story WAV is written and drained", async () => {
    const res = await red.request("POST", `/inject/${INJECT}`);
    assert.equal(res.status, 200, res.text);
    const storyDir = path.join(red.userDir, "stories");
    await red.waitFor(() => red.debug.filter((d) => /drained/.test(String(d.msg))).length >= 2 && fs.existsSync(storyDir), 150000, "the story WAV to be drained");
    assert.deepEqual(red.debug.filter((d) => d.level === 20), [], "no node reported an error");
    const files = fs.readdirSync(storyDir).filter((f) => f.endsWith(".wav"));
    assert.equal(files.length, 1);
    const wav = decodeWav(fs.readFileSync(path.join(storyDir, files[0])));
    const seconds = wav.samples.length / wav.sampleRate;
    assert.ok(seconds > 3, `story lasts ${seconds.toFixed(1)} s`);
  });
});
