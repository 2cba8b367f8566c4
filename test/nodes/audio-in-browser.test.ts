/**
 * audio-in's "browser" source in Node-RED (test helper), with WebSocket clients standing in
 * for the microphone page: captures opened by the flow or the page's talk button, frames only
 * from the page the capture belongs to, and clear errors.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { PageSocket, waitFor } from "../helpers/page-socket";
import { repoRoot } from "../helpers/paths";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

// eslint-disable-next-line @typescript-eslint/no-require-imports
const audioInNode = require(path.join(repoRoot(), "dist", "src", "nodes", "audio-in.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require("@node-red/nodes/core/common/25-catch.js");

type Msg = Record<string, unknown> & { payload?: unknown };

describe("audio-in node: browser microphone source", function () {
  this.timeout(30000);
  let httpNode: ((req: unknown, res: unknown, next: () => void) => void) | undefined;

  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
  });
  afterEach(async () => {
    await helper.unload();
  });

  async function load(settings: Record<string, unknown> = {}) {
    const withRed = (RED: { httpNode: typeof httpNode }) => {
      httpNode = RED.httpNode;
      return audioInNode(RED);
    };
    await helper.load([withRed, catchNode], [
      { id: "n_in", type: "audio-in", source: "browser", name: "hall", wires: [["n_frames"]], ...settings },
      { id: "n_frames", type: "helper" },
      { id: "n_catch", type: "catch", scope: ["n_in"], wires: [["n_caught"]] },
      { id: "n_caught", type: "helper" },
    ]);
    helper._app.use((req: unknown, res: unknown, next: () => void) => httpNode!(req, res, next));
    const frames: Msg[] = [];
    const errors: Msg[] = [];
    helper.getNode("n_frames").on("input", (m: Msg) => frames.push(m));
    helper.getNode("n_caught").on("input", (m: Msg) => errors.push(m));
    const wsUrl = helper.url().replace(/^http/, "ws") + "/voice-stream/mic/n_in/ws";
    return { input: helper.getNode("n_in"), frames, errors, wsUrl };
  }

  it("serves the microphone page with the node's name", async () => {
    await load();
    const res = await fetch(helper.url() + "/voice-stream/mic/n_in");
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<h1>hall<\/h1>/);
    assert.match(html, /Hold to talk/);
    for (const asset of ["player.js", "mic-worklet.js"]) assert.equal((await fetch(`${helper.url()}/voice-stream/mic/n_in/${asset}`)).status, 200, asset);
  });

  it("a start msg with no page open fails with where to open it", async () => {
    const { input, errors, frames } = await load();
    input.receive({ payload: "start" });
    await waitFor(() => errors.length > 0);
    assert.match(String((errors[0].error as { message: string }).message), /no browser page is open at \/voice-stream\/mic\/n_in/);
    assert.equal(frames.filter((f) => !f.is_final).length, 0);
  });

  it("the flow starts and stops a capture on the newest page: one stream_id, frames in order, then is_final", async () => {
    const { input, frames, errors, wsUrl } = await load();
    const older = await PageSocket.open(wsUrl);
    const page = await PageSocket.open(wsUrl);
    input.receive({ payload: "start", stream_id: "turn-1", topic: "hall" });
    await waitFor(() => page.has("capture-start"));
    assert.equal(older.has("capture-start"), false, "only the newest page captures");
    page.sendFrames(5, 0.25);
    // Another page's audio is not taken: no capture is open for it.
    older.sendFrames(2, 0.9);
    await waitFor(() => frames.length >= 5 && older.has("error"));
    input.receive({ payload: "stop" });
    await waitFor(() => frames.some((f) => f.is_final === true));
    await waitFor(() => page.has("capture-stop"));
    const data = frames.filter((f) => !f.is_final);
    assert.equal(data.length, 5);
    for (const f of frames) {
      assert.equal(f.stream_id, "turn-1");
      assert.equal(f.voice_session, page.session);
      assert.equal(f.topic, "hall");
      assert.equal(f.sample_rate, 16000);
    }
    assert.ok(data.every((f) => (f.payload as Float32Array).length === 320 && (f.payload as Float32Array)[0] === 0.25));
    assert.equal(frames[frames.length - 1].audio_seconds, 0.1);
    assert.match(String(older.messages.find((m) => m.type === "error")!.message), /no capture is open for this page/);
    await waitFor(() => errors.length > 0);
    assert.match(String((errors[0].error as { message: string }).message), /audio-in: browser page .* no capture is open/);
    older.ws.close();
    page.ws.close();
  });

  it("push-to-talk: the page's talk button opens and closes a capture; a page that goes away ends it", async () => {
    const { frames, wsUrl } = await load({ browserMode: "push-to-talk" });
    const page = await PageSocket.open(wsUrl);
    page.ws.send(JSON.stringify({ type: "talk-start" }));
    await waitFor(() => page.has("capture-start"));
    assert.equal(page.messages.find((m) => m.type === "capture-start")!.mode, "push-to-talk");
    page.sendFrames(3, 0.1);
    await waitFor(() => frames.length >= 3);
    page.ws.send(JSON.stringify({ type: "talk-stop" }));
    await waitFor(() => frames.some((f) => f.is_final === true));
    const first = frames[0].stream_id;
    page.ws.send(JSON.stringify({ type: "talk-start" }));
    await waitFor(() => page.messages.filter((m) => m.type === "capture-start").length === 2);
    page.sendFrames(2, 0.1);
    await waitFor(() => frames.length >= 6);
    page.ws.close();
    await waitFor(() => frames.filter((f) => f.is_final === true).length === 2);
    const second = frames[frames.length - 1].stream_id;
    assert.notEqual(first, second, "one stream_id per capture");
    assert.equal(frames.filter((f) => f.stream_id === second && !f.is_final).length, 2);
  });

  it("two pages talk at once: each its own capture and stream_id; one page's release ends only its turn", async () => {
    const { frames, errors, wsUrl } = await load({ browserMode: "push-to-talk" });
    const [hall, kitchen] = [await PageSocket.open(wsUrl), await PageSocket.open(wsUrl)];
    hall.ws.send(JSON.stringify({ type: "talk-start" }));
    kitchen.ws.send(JSON.stringify({ type: "talk-start" }));
    await waitFor(() => hall.has("capture-start") && kitchen.has("capture-start"));
    hall.sendFrames(3, 0.1);
    kitchen.sendFrames(4, 0.3);
    await waitFor(() => frames.length >= 7);
    hall.ws.send(JSON.stringify({ type: "talk-stop" }));
    await waitFor(() => frames.some((f) => f.is_final === true));
    kitchen.sendFrames(2, 0.3);
    await waitFor(() => frames.length >= 10);
    kitchen.ws.send(JSON.stringify({ type: "talk-stop" }));
    await waitFor(() => frames.filter((f) => f.is_final === true).length === 2);
    const bySession = (page: PageSocket) => frames.filter((f) => f.voice_session === page.session);
    const [h, k] = [bySession(hall), bySession(kitchen)];
    assert.equal(new Set(h.map((f) => f.stream_id)).size, 1);
    assert.equal(new Set(k.map((f) => f.stream_id)).size, 1);
    assert.notEqual(h[0].stream_id, k[0].stream_id, "each page its own stream_id");
    assert.deepEqual(h.map((f) => (f.is_final ? "final" : (f.payload as Float32Array)[0])), [0.1, 0.1, 0.1, "final"].map((v) => (typeof v === "number" ? Math.fround(v) : v)));
    assert.deepEqual(k.map((f) => (f.is_final ? "final" : (f.payload as Float32Array)[0])), [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, "final"].map((v) => (typeof v === "number" ? Math.fround(v) : v)));
    assert.deepEqual(errors, [], "no page's audio was refused");
    hall.ws.close();
    kitchen.ws.close();
  });

  it("always on: a capture opens as soon as a page connects", async () => {
    const { frames, wsUrl } = await load({ browserMode: "always-on" });
    const page = await PageSocket.open(wsUrl);
    await waitFor(() => page.has("capture-start"));
    assert.equal(page.messages.find((m) => m.type === "capture-start")!.mode, "always-on");
    page.sendFrames(4, 0.2);
    await waitFor(() => frames.length >= 4);
    page.ws.close();
    await waitFor(() => frames.some((f) => f.is_final === true));
  });
});
