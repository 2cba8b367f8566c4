/**
 * ui-voice's runtime side in Node-RED (test helper), with a stand-in for Dashboard's ui-group
 * (it registers the widget and runs its beforeSend on input, as Dashboard does) and WebSocket
 * clients standing in for the dashboards: captures from the flow and the page, a turn's
 * captions, answer and audio routed to the page that spoke, a late page, errors.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { PageSocket, waitFor } from "../helpers/page-socket";
import { repoRoot } from "../helpers/paths";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

// eslint-disable-next-line @typescript-eslint/no-require-imports
const uiVoiceNode = require(path.join(repoRoot(), "dist", "src", "nodes", "ui-voice.js"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require("@node-red/nodes/core/common/25-catch.js");

type Msg = Record<string, unknown> & { payload?: unknown };
type Events = { beforeSend(msg: Msg): Msg | null };

/** Dashboard's group, reduced to what a widget sees of it. */
function fakeGroup(RED: { nodes: { createNode(n: unknown, c: unknown): void; registerType(t: string, f: unknown): void } }) {
  function Group(this: Record<string, unknown>, config: unknown) {
    RED.nodes.createNode(this, config);
    const widgets = new Map<string, Record<string, unknown>>();
    this.registered = [] as unknown[];
    this.register = (node: { on(e: string, f: (m: Msg, s: unknown, d: (e?: Error) => void) => void): void }, props: Record<string, unknown>, events: Events) => {
      (this.registered as unknown[]).push(props);
      widgets.set(String(props.id), { props });
      node.on("input", (msg, _send, done) => {
        try {
          const out = events.beforeSend(msg);
          // Dashboard reads dynamic properties off what beforeSend returns.
          Object.prototype.hasOwnProperty.call(out, "enabled");
          done();
        } catch (err) {
          done(err as Error);
        }
      });
    };
    this.getBase = () => ({ ui: { widgets } });
  }
  RED.nodes.registerType("ui-group", Group);
}

describe("ui-voice node (runtime, with a stand-in Dashboard group)", function () {
  this.timeout(30000);
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
    await helper.load([fakeGroup, uiVoiceNode, catchNode], [
      { id: "g1", type: "ui-group" },
      { id: "w1", type: "ui-voice", group: "g1", wires: [["out"]], ...settings },
      { id: "out", type: "helper" },
      { id: "c1", type: "catch", scope: ["w1"], wires: [["caught"]] },
      { id: "caught", type: "helper" },
    ]);
    const frames: Msg[] = [];
    const errors: Msg[] = [];
    helper.getNode("out").on("input", (m: Msg) => frames.push(m));
    helper.getNode("caught").on("input", (m: Msg) => errors.push(m));
    const url = helper.url().replace(/^http/, "ws") + "/voice-stream/ui-voice/w1/ws";
    return { widget: helper.getNode("w1"), group: helper.getNode("g1"), frames, errors, url };
  }

  it("registers with the group: the component's source and its socket's path", async () => {
    const { group } = await load({ label: "Talk" });
    const props = group.registered[0];
    assert.equal(props.channelBase, "/voice-stream/ui-voice/w1");
    assert.equal(props.label, "Talk");
    const widget = group.getBase().ui.widgets.get("w1");
    assert.deepEqual(widget.src, { package: "node-red-contrib-voice-stream", name: "ui-voice", src: "ui-voice.umd.js", component: "UIVoice" });
  });

  it("a turn goes back to the page that spoke: captions, answer text and audio by stream_id", async () => {
    const { widget, frames, url } = await load();
    const a = await PageSocket.open(url);
    const b = await PageSocket.open(url);
    a.ws.send(JSON.stringify({ type: "talk-start" }));
    await waitFor(() => a.of("capture-start").length === 1);
    for (let i = 0; i < 3; i++) a.ws.send(new Float32Array(320).fill(0.1).buffer);
    await waitFor(() => frames.length === 3);
    a.ws.send(JSON.stringify({ type: "talk-stop" }));
    await waitFor(() => frames.some((f) => f.is_final === true));
    const id = frames[0].stream_id as string;
    assert.ok(frames.every((f) => f.stream_id === id && f.voice_session === a.session));
    // What whisper, the LLM and the voice send back carry the stream_id (no session needed).
    widget.receive({ kind: "partial", text: "turn on", payload: "turn on", stream_id: id });
    widget.receive({ kind: "final", text: "turn on the light", payload: "turn on the light", stream_id: id, is_final: true });
    widget.receive({ kind: "text", payload: "Sure", delta: "Sure", stream_id: id, is_final: false });
    widget.receive({ kind: "text", payload: "", delta: "", text: "Sure.", stream_id: id, is_final: true });
    widget.receive({ kind: "audio", payload: new Float32Array(1600), sample_rate: 16000, text: "Sure.", stream_id: id, is_final: false });
    widget.receive({ kind: "audio", payload: new Float32Array(0), sample_rate: 16000, stream_id: id, is_final: true });
    await waitFor(() => a.samples >= 2400);
    assert.equal(a.samples, 2400, "0.1 s at 16 kHz arrives as 0.1 s at 24 kHz");
    assert.deepEqual(a.of("caption").map((e) => [e.text, e.final]), [["turn on", false], ["turn on the light", true]]);
    assert.deepEqual(a.of("answer").map((e) => [e.delta, e.text, e.final]), [["Sure", undefined, false], ["", "Sure.", true]]);
    assert.deepEqual(a.of("text").map((e) => [e.text, e.at]), [["Sure.", 0]]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(b.samples, 0);
    assert.deepEqual([b.of("caption").length, b.of("answer").length], [0, 0], "the other dashboard sees nothing of this turn");
    a.ws.close();
    b.ws.close();
  });

  it("a page that reconnects keeps its session: the rest of its turn (from the start of the answer) still reaches it", async () => {
    const { widget, frames, url } = await load();
    const page = await PageSocket.open(url);
    page.ws.send(JSON.stringify({ type: "talk-start" }));
    await waitFor(() => page.of("capture-start").length === 1);
    page.ws.send(JSON.stringify({ type: "talk-stop" }));
    await waitFor(() => frames.some((f) => f.is_final === true));
    const id = frames[0].stream_id as string;
    widget.receive({ kind: "audio", payload: new Float32Array(2400), sample_rate: 24000, stream_id: id, is_final: false });
    await waitFor(() => page.samples === 2400);
    page.ws.close();
    await new Promise((r) => setTimeout(r, 100));
    widget.receive({ kind: "audio", payload: new Float32Array(2400), sample_rate: 24000, stream_id: id, is_final: false });
    const again = await PageSocket.open(`${url}?resume=${page.session}`);
    assert.equal(again.session, page.session, "the same session");
    await waitFor(() => again.samples === 4800);
    // An id the server never issued is not taken.
    const stranger = await PageSocket.open(`${url}?resume=not-a-session`);
    assert.notEqual(stranger.session, "not-a-session");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(stranger.samples, 0);
    again.ws.close();
    stranger.ws.close();
  });

  it("play to every page: a page that connects while the answer still plays gets it from its start", async () => {
    const { widget, url } = await load({ playTo: "all" });
    const early = await PageSocket.open(url);
    // 2 s of audio, all of it sent at once (faster than it plays).
    widget.receive({ kind: "audio", payload: new Float32Array(48000).fill(0.2), sample_rate: 24000, stream_id: "s1", is_final: false });
    widget.receive({ kind: "audio", payload: new Float32Array(0), sample_rate: 24000, stream_id: "s1", is_final: true });
    await new Promise((r) => setTimeout(r, 300));
    const late = await PageSocket.open(url);
    await waitFor(() => late.samples >= 48000);
    assert.equal(early.samples, 48000);
    assert.equal(late.samples, 48000);
    // After it has played out (2 s + 1 s), a new page gets nothing of it.
    await new Promise((r) => setTimeout(r, 3000));
    const after = await PageSocket.open(url);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(after.samples, 0);
    for (const p of [early, late, after]) p.ws.close();
  });

  it("the flow starts and stops a capture; cancel stops the pages; bad input reaches Catch", async () => {
    const { widget, frames, errors, url } = await load();
    widget.receive({ payload: "start" });
    await waitFor(() => errors.length === 1);
    assert.match(String((errors[0].error as { message: string }).message), /no browser page is open at the dashboard/);
    const page = await PageSocket.open(url);
    widget.receive({ payload: "start", stream_id: "flow-turn" });
    await waitFor(() => page.of("capture-start").length === 1);
    page.ws.send(new Float32Array(320).buffer);
    await waitFor(() => frames.length === 1);
    widget.receive({ payload: "stop" });
    await waitFor(() => frames.some((f) => f.is_final === true));
    assert.ok(frames.every((f) => f.stream_id === "flow-turn"));
    widget.receive({ cancel: true, stream_id: "flow-turn" });
    await waitFor(() => page.of("stop").length === 1);
    widget.receive({ kind: "audio", payload: new Float32Array(10), sample_rate: "fast" });
    widget.receive({ payload: { what: "is this" } });
    await waitFor(() => errors.length === 3);
    assert.match(String((errors[1].error as { message: string }).message), /msg.sample_rate must be a whole number of Hz/);
    assert.match(String((errors[2].error as { message: string }).message), /expected whisper-streamer captions, llm-stream text, tts-streamer audio/);
    page.ws.close();
  });

  it("two dashboards talk at once: each its own turn; a stop msg for one page ends only that page's capture", async () => {
    const { widget, frames, errors, url } = await load();
    const [hall, kitchen] = [await PageSocket.open(url), await PageSocket.open(url)];
    hall.ws.send(JSON.stringify({ type: "talk-start" }));
    kitchen.ws.send(JSON.stringify({ type: "talk-start" }));
    await waitFor(() => hall.has("capture-start") && kitchen.has("capture-start"));
    hall.sendFrames(2, 0.5);
    kitchen.sendFrames(3, 0.25);
    await waitFor(() => frames.length === 5);
    widget.receive({ payload: "stop", voice_session: kitchen.session });
    await waitFor(() => frames.some((f) => f.is_final === true));
    assert.equal(hall.has("capture-stop"), false, "the hall is still talking");
    hall.sendFrames(1, 0.5);
    await waitFor(() => frames.length === 7);
    widget.receive({ payload: "stop" });
    await waitFor(() => frames.filter((f) => f.is_final === true).length === 2);
    const [h, k] = [hall, kitchen].map((page) => frames.filter((f) => f.voice_session === page.session));
    assert.deepEqual(h.map((f) => f.is_final), [false, false, false, true]);
    assert.deepEqual(k.map((f) => f.is_final), [false, false, false, true]);
    assert.equal(new Set(h.map((f) => f.stream_id)).size, 1, "one stream_id for the hall's turn");
    assert.equal(new Set(k.map((f) => f.stream_id)).size, 1, "one stream_id for the kitchen's turn");
    assert.notEqual(h[0].stream_id, k[0].stream_id);
    assert.deepEqual(errors, []);
    hall.ws.close();
    kitchen.ws.close();
  });

  it("with no Dashboard group it says what to install", async () => {
    await helper.load([uiVoiceNode, catchNode], [{ id: "w1", type: "ui-voice", group: "nope", wires: [[]] }]);
    const w = helper.getNode("w1");
    const logged = (helper.log().args as unknown[][]).map((a) => JSON.stringify(a)).join("\n");
    assert.ok(w);
    assert.match(logged, /install @flowfuse\/node-red-dashboard and choose a group/);
  });
});
