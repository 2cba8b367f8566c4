/**
 * ui-voice: a Dashboard 2.0 widget (third-party, component resources/ui-voice.umd.js) that
 * makes the browser a voice satellite: a talk button that streams the page's microphone into
 * the flow (16 kHz frames like audio-in: one stream_id per capture, is_final at its end,
 * msg.voice_session naming the page), live captions (whisper-streamer partials and final),
 * the answer's text as it streams (llm-stream) and its audio (tts-streamer chunks) with stop
 * and volume, and the state (listening / thinking / speaking). Audio and microphone go over
 * the widget's own WebSocket (src/core/browser), not Dashboard's socket.io.
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Subscription } from "rxjs";
import { toFloat32 } from "../core/audio/pcm";
import { browserMicFrames } from "../core/browser/browser-mic";
import { VoiceTurns } from "../core/browser/voice-turns";
import { mountVoiceChannel, type MountedChannel } from "./shared/browser-page";
import { controlBrowserMic } from "./shared/browser-mic-control";
import { chunkMessage, streamIdOf, type NodeMessage } from "./shared/stream-msg";

interface UiVoiceNodeDef extends NodeDef {
  group?: string;
  width?: string | number;
  height?: string | number;
  order?: number;
  label?: string;
  mode?: "push-to-talk" | "always-on";
  playTo?: "session" | "all";
  frameMs?: string | number;
}

interface DashboardGroup {
  register(node: Node, config: Record<string, unknown>, events: Record<string, unknown>): void;
  getBase?(): { ui?: { widgets?: Map<string, { src?: unknown }> } };
}

type Send = (msg: NodeMessage | NodeMessage[]) => void;

const RATE = 16000;
const PLAYBACK_RATE = 24000;
/** Where Dashboard finds the component when it does not list this package (its name lacks "node-red-dashboard-2-"). */
const COMPONENT = { package: "node-red-contrib-voice-stream", name: "ui-voice", src: "ui-voice.umd.js", component: "UIVoice" };

interface Capture {
  id: string;
  session: string;
  subscription?: Subscription;
  base: NodeMessage;
  index: number;
  samples: number;
  ended: boolean;
}

function isControl(msg: NodeMessage, word: "start" | "stop"): boolean {
  return msg[word] === true || (typeof msg.payload === "string" && msg.payload.trim().toLowerCase() === word);
}

module.exports = function register(RED: NodeAPI) {
  function UiVoiceNode(this: Node, config: UiVoiceNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const mode = config.mode === "always-on" ? "always-on" : "push-to-talk";
    const frameMs = config.frameMs === undefined || String(config.frameMs).trim() === "" ? 20 : Number(config.frameMs);
    const group = config.group ? (RED.nodes.getNode(config.group) as unknown as DashboardGroup | null) : null;
    if (!group || typeof group.register !== "function") {
      const err = new Error(`ui-voice: no Dashboard 2.0 group ${config.group ? `"${config.group}" ` : ""}found; install @flowfuse/node-red-dashboard and choose a group`);
      node.status({ fill: "red", shape: "ring", text: "no dashboard group" });
      node.error(err.message);
      return;
    }
    if (!Number.isFinite(frameMs) || frameMs < 5 || frameMs > 1000) {
      node.status({ fill: "red", shape: "ring", text: "bad frame size" });
      node.error(new Error(`ui-voice: frame size must be 5 to 1000 ms, got "${config.frameMs}"`));
      return;
    }
    const frameSize = Math.round((frameMs * RATE) / 1000);
    let page: MountedChannel;
    try {
      const dashboard = (RED.settings as unknown as { dashboard?: { middleware?: unknown } }).dashboard;
      const dm = dashboard?.middleware;
      const extra = (typeof dm === "function" ? [dm] : Array.isArray(dm) ? dm : []) as Parameters<typeof mountVoiceChannel>[4];
      page = mountVoiceChannel(RED, node, `/voice-stream/ui-voice/${node.id}`, { page: "none", title: config.name || "", sampleRate: PLAYBACK_RATE }, extra);
    } catch (err) {
      node.status({ fill: "red", shape: "ring", text: "no HTTP for the page" });
      node.error((err as Error).message);
      return;
    }
    const turns = new VoiceTurns(page.channel, config.playTo === "all" ? "all" : "session");
    let capture: Capture | undefined;
    const send: Send = (m) => node.send(m as never);

    const end = (c: Capture) => {
      if (c.ended) return;
      c.ended = true;
      if (capture === c) capture = undefined;
      c.subscription?.unsubscribe();
      send(chunkMessage(c.base, { is_final: true, sample_rate: RATE, audio_seconds: c.samples / RATE }, c.id, c.index++, new Float32Array(0)));
      node.status({ fill: "grey", shape: "dot", text: `heard ${(c.samples / RATE).toFixed(1)} s` });
    };

    /** Opens a capture on `session` (or the newest page); throws when there is none. */
    const start = (msg: NodeMessage, session?: string) => {
      if (capture) return;
      const id = streamIdOf(msg);
      const frames$ = browserMicFrames(page.channel, { frameSize, session, captureId: id, mode, pageUrl: "the dashboard" });
      const base: NodeMessage = { ...msg };
      for (const f of ["payload", "start", "stop", "is_final", "sample_rate", "kind"]) delete base[f];
      const c: Capture = { id, session: "", base, index: 0, samples: 0, ended: false };
      let failed: Error | undefined;
      capture = c;
      c.subscription = frames$.subscribe({
        next: (frame) => {
          c.samples += frame.length;
          send(chunkMessage(c.base, { is_final: false, sample_rate: RATE }, c.id, c.index++, frame));
        },
        complete: () => end(c),
        error: (err: Error) => {
          failed = err;
          c.ended = true;
          if (capture === c) capture = undefined;
        },
      });
      if (failed) throw failed;
      // The capture is open: find its page, so the answer goes back there.
      for (const s of page.channel.sessionIds()) if (page.channel.captureOf(s) === id) c.session = s;
      c.base.voice_session = c.session;
      turns.own(id, c.session);
      node.status({ fill: "blue", shape: "dot", text: "listening" });
    };

    controlBrowserMic(node, page, mode, {
      start: (session) => {
        try {
          start({}, session);
        } catch (err) {
          node.error(err);
        }
      },
      stop: (session) => {
        if (capture && capture.session === session) end(capture);
      },
      capturing: () => capture !== undefined,
    });

    /** Handles one msg into the widget; throws with a clear message on bad input. */
    const handle = (msg: NodeMessage) => {
      const streamId = msg.stream_id === undefined || msg.stream_id === null || msg.stream_id === "" ? undefined : String(msg.stream_id);
      const session = typeof msg.voice_session === "string" && msg.voice_session !== "" ? msg.voice_session : undefined;
      if (msg.cancel === true || msg.kind === "cancelled") return turns.cancel(streamId);
      if (isControl(msg, "stop")) return capture && end(capture);
      if (isControl(msg, "start")) return start(msg, session);
      if (typeof msg.state === "string") turns.state(msg.state, streamId, session);
      if (msg.kind === "partial" || msg.kind === "final") {
        return turns.caption(streamId, typeof msg.text === "string" ? msg.text : String(msg.payload ?? ""), msg.kind === "final", session);
      }
      if (msg.kind === "text") {
        const final = msg.is_final === true;
        return turns.answer(streamId, { delta: typeof msg.delta === "string" ? msg.delta : typeof msg.payload === "string" ? msg.payload : "", text: final && typeof msg.text === "string" ? msg.text : undefined, final }, session);
      }
      const isAudio = msg.kind === "audio" || (msg.payload !== undefined && typeof msg.payload !== "string" && msg.sample_rate !== undefined);
      if (isAudio) {
        const rate = Number(msg.sample_rate ?? PLAYBACK_RATE);
        if (!Number.isInteger(rate) || rate < 1000 || rate > 384000) throw new Error(`ui-voice: msg.sample_rate must be a whole number of Hz, got ${JSON.stringify(msg.sample_rate)}`);
        const empty = msg.payload === undefined || msg.payload === null || (ArrayBuffer.isView(msg.payload) && (msg.payload as Float32Array).length === 0);
        const samples = empty ? undefined : toFloat32(msg.payload, "msg.payload");
        turns.play(streamId ?? "default", samples, rate, { text: typeof msg.text === "string" ? msg.text : undefined, final: msg.is_final === true, session });
        return;
      }
      if (typeof msg.payload === "string" && msg.state === undefined) {
        // A plain text: shown as the answer (a whole one).
        return turns.answer(streamId, { text: msg.payload, final: true }, session);
      }
      if (msg.state === undefined) throw new Error("ui-voice: expected whisper-streamer captions, llm-stream text, tts-streamer audio, a state, or \"start\"/\"stop\"");
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
    const props = { ...config, channelBase: page.url, sampleRate: PLAYBACK_RATE, mode, label: config.label || "Hold to talk" } as unknown as Record<string, unknown>;
    group.register(node, props, events);
    const widget = group.getBase?.()?.ui?.widgets?.get(node.id);
    if (widget && !widget.src) widget.src = { ...COMPONENT };
    node.status({ fill: "grey", shape: "ring", text: "0 pages" });

    node.on("close", (_removed: boolean, done: () => void) => {
      if (capture) {
        capture.ended = true;
        capture.subscription?.unsubscribe();
        capture = undefined;
      }
      turns.close();
      page.close().then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType("ui-voice", UiVoiceNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
