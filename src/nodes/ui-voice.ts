/**
 * ui-voice: a Dashboard 2.0 widget (third-party, component resources/ui-voice.umd.js) that
 * makes the browser a voice satellite: a talk button that streams the page's microphone into
 * the flow (16 kHz frames like audio-in: one stream_id per capture, is_final at its end,
 * msg.voice_session naming the page), live captions (whisper-streamer partials and final),
 * the answer's text as it streams (llm-stream) and its audio (tts-streamer chunks) with stop
 * and volume, and the state (listening / thinking / speaking). Audio and microphone go over
 * the widget's own WebSocket (src/core/browser), not Dashboard's socket.io; that socket passes
 * the checks Dashboard's would (dashboard.middleware and dashboard.ioMiddleware).
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import { CAPTURE_RATE } from "../core/audio/capture";
import { VoiceTurns } from "../core/browser/voice-turns";
import { statusTextOf } from "../core/status-text";
import { mountVoiceChannel, type MountedChannel } from "./shared/browser-page";
import { captureSession, controlBrowserMic, pageFrames, sessionOf, type MicMode } from "./shared/browser-mic-control";
import { MicCapture } from "./shared/mic-capture";
import { PageCaptures } from "./shared/page-captures";
import { NodeRuntime } from "./shared/node-runtime";
import { deploySettings, type Setting } from "./shared/settings";
import { hasStreamId, isCancel, isControl, streamIdOf, without, type NodeMessage } from "./shared/stream-msg";
import { PLAYBACK_RATE, routeToTurns } from "./shared/voice-turn-input";

const SETTINGS: readonly Setting[] = [
  { key: "mode", editor: "mode", type: "string", choices: ["push-to-talk", "always-on"], default: "push-to-talk" },
  { key: "playTo", editor: "playTo", type: "string", choices: ["session", "all"], default: "session" },
  { key: "frameMs", editor: "frameMs", type: "number", min: 5, max: 1000, default: 20 },
  { key: "label", editor: "label", type: "string", default: "Hold to talk" },
  { key: "title", editor: "name", type: "string", default: "" },
];
type Settings = { mode: MicMode; playTo: "session" | "all"; frameMs: number; label: string; title: string };

interface DashboardGroup {
  register(node: Node, config: Record<string, unknown>, events: Record<string, unknown>): void;
  getBase?(): { ui?: { widgets?: Map<string, { src?: unknown }> } };
}

/** Where Dashboard finds the component when it does not list this package (its name lacks "node-red-dashboard-2-"). */
const COMPONENT = { package: "node-red-contrib-voice-stream", name: "ui-voice", src: "ui-voice.umd.js", component: "UIVoice" };
/** Fields of a start msg that are commands, not properties to carry on every frame. */
const CONTROL_FIELDS = ["payload", "start", "stop", "is_final", "sample_rate", "kind"];

/** The widget's page: its scripts and socket under httpNode, behind Dashboard's own middleware too (its socket also behind Dashboard's ioMiddleware). */
function mountWidget(RED: NodeAPI, node: Node, title: string): MountedChannel {
  const dashboard = (RED.settings as unknown as { dashboard?: { middleware?: unknown; ioMiddleware?: unknown } }).dashboard;
  const list = (m: unknown) => (typeof m === "function" ? [m] : Array.isArray(m) ? m : []);
  const [http, io] = [list(dashboard?.middleware), list(dashboard?.ioMiddleware)] as [Parameters<typeof mountVoiceChannel>[4], Parameters<typeof mountVoiceChannel>[5]];
  return mountVoiceChannel(RED, node, `/voice-stream/ui-voice/${node.id}`, { page: "none", title, sampleRate: PLAYBACK_RATE }, http, io);
}

module.exports = function register(RED: NodeAPI) {
  function UiVoiceNode(this: Node, config: NodeDef & { group?: string }) {
    RED.nodes.createNode(this, config);
    const node = this;
    const rt = new NodeRuntime(node);
    const refuse = (text: string, err: Error) => {
      rt.status.show({ fill: "red", shape: "ring", text });
      node.error(err.message);
    };
    const group = config.group ? (RED.nodes.getNode(config.group) as unknown as DashboardGroup | null) : null;
    if (!group || typeof group.register !== "function") {
      const where = config.group ? `"${config.group}" ` : "";
      return refuse("no dashboard group", new Error(`ui-voice: no Dashboard 2.0 group ${where}found; install @flowfuse/node-red-dashboard and choose a group`));
    }
    const settings = deploySettings<Settings>(SETTINGS, config);
    if (settings instanceof Error) return refuse(statusTextOf(settings), new Error(`ui-voice: ${settings.message}`));
    const { mode, frameMs } = settings;
    const frameSize = Math.round((frameMs * CAPTURE_RATE) / 1000);
    let page: MountedChannel;
    try {
      page = mountWidget(RED, node, settings.title);
    } catch (err) {
      return refuse("no HTTP for the page", err as Error);
    }
    const turns = new VoiceTurns(page.channel, settings.playTo);
    // One capture per dashboard page: each tablet that talks is its own turn.
    const captures = new PageCaptures();
    const send = (m: NodeMessage) => node.send(m as never);

    const listening = () => rt.status.show({ fill: "blue", shape: "dot", text: captures.size > 1 ? `listening · ${captures.size} pages` : "listening" });
    const end = (c: MicCapture) => {
      captures.remove(c);
      c.end();
      if (captures.size > 0) listening();
      else rt.status.show({ fill: "grey", shape: "dot", text: `heard ${c.seconds.toFixed(1)} s` });
    };

    /** Opens a capture on `session` (or the newest page) unless that page has one; throws when there is no page. */
    const start = (msg: NodeMessage, session?: string) => {
      const target = session ?? page.channel.sessionIds().slice(-1)[0];
      if (target !== undefined && captures.has(target)) return;
      const c = new MicCapture(streamIdOf(msg), without(msg, CONTROL_FIELDS), send);
      const failed = c.run(pageFrames(page, { frameSize, captureId: c.id, mode, session: target, where: "the dashboard" }), { complete: end, error: end });
      if (failed) {
        c.drop();
        throw failed;
      }
      // The capture is open on its page, and the answer goes back there.
      c.base.voice_session = captureSession(page, c.id) ?? target ?? "";
      captures.add(c.base.voice_session as string, c);
      turns.own(c.id, c.base.voice_session as string);
      listening();
    };

    controlBrowserMic(rt, page, mode, {
      start: (session) => {
        try {
          start({}, session);
        } catch (err) {
          node.error(err);
        }
      },
      stop: (session) => captures.pick(session).forEach(end),
      capturing: (session) => captures.has(session),
    });

    /** Handles one msg into the widget; throws with a clear message on bad input. */
    const handle = (msg: NodeMessage) => {
      if (isCancel(msg)) return turns.cancel(hasStreamId(msg) ? String(msg.stream_id) : undefined);
      if (isControl(msg, "stop")) return captures.pick(sessionOf(msg)).forEach(end);
      if (isControl(msg, "start")) return start(msg, sessionOf(msg));
      routeToTurns(turns, msg, "ui-voice");
    };

    const events = {
      // All handling happens here. What goes on to Dashboard is an empty msg: it stores nothing
      // and sends no audio to every dashboard over socket.io (the widget has its own socket).
      // (Not null: Dashboard reads properties of what beforeSend returns.)
      beforeSend: (msg: NodeMessage) => {
        handle(msg);
        return {};
      },
      onInput: () => {},
    };
    const props = { ...config, channelBase: page.url, sampleRate: PLAYBACK_RATE, mode, label: settings.label } as unknown as Record<string, unknown>;
    group.register(node, props, events);
    const widget = group.getBase?.()?.ui?.widgets?.get(node.id);
    if (widget && !widget.src) widget.src = { ...COMPONENT };
    rt.status.show({ fill: "grey", shape: "ring", text: "0 pages" });

    rt.onClose(() => {
      captures.pick().forEach((c) => c.drop());
      turns.close();
      return page.close();
    });
  }

  RED.nodes.registerType("ui-voice", UiVoiceNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
