import { strict as assert } from "assert";
import * as path from "path";
import { chromium, type Browser } from "playwright-core";
import { needTool } from "../helpers/system-tools";
import { repoRoot } from "../helpers/paths";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

// eslint-disable-next-line @typescript-eslint/no-require-imports
const audioOutNode = require(path.join(repoRoot(), "dist", "src", "nodes", "audio-out.js"));

interface PageState {
  connected: boolean;
  audio: string;
  receivedSamples: number;
  playedSamples: number;
  droppedSamples: number;
}
type Msg = Record<string, unknown>;

describe("audio-out browser sink in a running Node-RED, played by headless Chromium", function () {
  this.timeout(60000);
  let browser: Browser;
  let httpNode: { (req: unknown, res: unknown, next: () => void): void } | undefined;

  before(async function () {
    const executablePath = needTool(this, "chromium");
    await helper.startServer();
    browser = await chromium.launch({ executablePath, args: ["--autoplay-policy=no-user-gesture-required"] });
  });
  after(async () => {
    await browser?.close();
    await helper.stopServer();
  });
  afterEach(async () => {
    await helper.unload();
  });

  it("serves the player page under httpNode; the page plays every sample of a stream", async () => {
    // The test helper keeps RED.httpNode apart from its HTTP server; mount it as Node-RED does.
    const withRed = (RED: { httpNode: typeof httpNode }) => {
      httpNode = RED.httpNode;
      return audioOutNode(RED);
    };
    await helper.load(withRed, [
      { id: "n_out", type: "audio-out", sink: "browser", sampleRate: "24000", wires: [["n_events"]] },
      { id: "n_events", type: "helper" },
    ]);
    helper._app.use((req: unknown, res: unknown, next: () => void) => httpNode!(req, res, next));
    const events: Msg[] = [];
    helper.getNode("n_events").on("input", (m: Msg) => events.push(m));
    const page = await browser.newPage();
    await page.goto(`${helper.url()}/voice-stream/player/n_out`);
    await page.click("text=Click to enable audio");
    const state = () => page.evaluate(() => (window as unknown as { __voiceStream: PageState }).__voiceStream);
    const until = async (check: (s: PageState) => boolean) => {
      const end = Date.now() + 15000;
      for (;;) {
        const s = await state();
        if (check(s)) return s;
        if (Date.now() > end) throw new Error("timed out; page state " + JSON.stringify(s));
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until((s) => s.connected && s.audio === "on");
    const out = helper.getNode("n_out");
    const chunks = [4800, 2400, 7200, 3600];
    for (const [i, n] of chunks.entries()) {
      out.receive({ payload: new Float32Array(n).fill(0.05), sample_rate: 24000, stream_id: "web", is_final: i === chunks.length - 1 });
    }
    const total = chunks.reduce((a, b) => a + b, 0);
    const s = await until((st) => st.playedSamples >= total && events.some((e) => e.event === "drained"));
    assert.equal(s.receivedSamples, total);
    assert.equal(s.playedSamples, total);
    assert.equal(s.droppedSamples, 0);
    assert.deepEqual(events.map((e) => e.event), ["started", "drained"]);
    await page.close();
  });
});
