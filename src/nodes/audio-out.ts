/**
 * audio-out: plays audio chunks as they arrive (PROTOCOL §2) through a sink: the speaker
 * (a system player process), WAV files, browsers (a page under httpNode) or nothing (paced,
 * discarded). `msg.is_final === true` plays what is queued, then sends {event: "drained"};
 * `msg.cancel === true` or a cancelled chunk silences at once ({event: "stopped"});
 * `msg.pause` / `msg.resume` hold and continue. Output: {event, stream_id} messages for
 * started / drained / stopped / underrun.
 */
import type { IncomingMessage, ServerResponse } from "http";
import * as path from "path";
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Duplex } from "stream";
import type { Subscription } from "rxjs";
import { upgradeAuthorizer, type HttpNodeSecurity } from "../core/audio/http-auth";
import { hasNonFinite, toFloat32 } from "../core/audio/pcm";
import { DEFAULT_LEAD_MS, Player, type PlayerEvent } from "../core/audio/player";
import type { AudioSink } from "../core/audio/sink";
import { BrowserSink } from "../core/audio/sinks/browser-sink";
import { FileSink } from "../core/audio/sinks/file-sink";
import { NullSink } from "../core/audio/sinks/null-sink";
import { SpeakerSink } from "../core/audio/sinks/speaker-sink";
import { ReferenceTapSink } from "../core/audio/sinks/reference-tap";
import { referenceChannel } from "../core/audio/reference-bus";
import type { NodeMessage } from "./shared/stream-msg";

interface AudioOutNodeDef extends NodeDef {
  sink?: "speaker" | "file" | "browser" | "null";
  player?: string;
  device?: string;
  path?: string;
  sampleRate?: string | number;
  bufferMs?: string | number;
  volume?: string | number;
  /** Reference channel the played audio is offered on (vad / wake-word own-voice guard); "" = none. */
  reference?: string;
}

type Send = (msg: NodeMessage | NodeMessage[]) => void;
type Done = (err?: Error) => void;

/** Rate assumed for a chunk without msg.sample_rate (the rate audio-in and Whisper use). */
const DEFAULT_INPUT_RATE = 16000;
const STATUS_INTERVAL_MS = 250;
/** Used when no stream_id comes with the audio: such chunks form one stream. */
const DEFAULT_STREAM = "default";

function numberSetting(value: string | number | undefined, fallback: number, name: string, check: (n: number) => boolean): number {
  if (value === undefined || value === null || String(value).trim() === "") return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new Error(`audio-out: ${name} "${value}" is not valid`);
  return n;
}

/** Express-style route removal (Node-RED keeps no API for it; the http-in node does the same). */
function removeRoutes(app: unknown, paths: string[]): void {
  const router = (app as { _router?: { stack: { route?: { path?: string } }[] } })._router;
  if (!router) return;
  router.stack = router.stack.filter((layer) => !(layer.route && paths.includes(layer.route.path ?? "")));
}

module.exports = function register(RED: NodeAPI) {
  function AudioOutNode(this: Node, config: AudioOutNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    let player: Player | undefined;
    let startupError: Error | undefined;
    let subscription: Subscription | undefined;
    const cleanups: (() => void)[] = [];
    let statusTimer: NodeJS.Timeout | undefined;
    let lastStreamId = DEFAULT_STREAM;
    let closed = false;
    /** Streams a stop() in progress reported as stopped. */
    let stoppedNow: Set<string> | undefined;

    const fail = (err: Error, done: Done) => {
      node.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
      done(err);
    };

    const idleText = (sink: AudioSink) => (sink instanceof BrowserSink ? `${sink.listeners} listener${sink.listeners === 1 ? "" : "s"}` : "ready");

    const showPlaying = () => {
      if (!player) return;
      const buffered = player.bufferedSeconds();
      if (buffered <= 0) return;
      const what = player.paused ? "paused" : "playing";
      node.status({ fill: player.paused ? "yellow" : "blue", shape: "dot", text: `${what} · ${buffered.toFixed(1)} s buffered` });
    };

    // A relative path would otherwise land wherever Node-RED was started from (often / under
    // systemd): anchor it to the user directory, as the voice-model cache is.
    const fileTemplate = (template: string): string => {
      const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
      return template.trim() === "" || path.isAbsolute(template) || !userDir ? template : path.join(userDir, template);
    };

    const makeSink = (): AudioSink => {
      const kind = config.sink ?? "speaker";
      const rate = numberSetting(config.sampleRate, 24000, "sample rate", (n) => Number.isInteger(n) && n >= 8000 && n <= 192000);
      switch (kind) {
        case "speaker":
          return new SpeakerSink({ player: config.player || "auto", device: config.device, sampleRate: rate });
        case "file":
          return new FileSink(fileTemplate(config.path ?? ""));
        case "null":
          return new NullSink();
        case "browser":
          return browserSink(rate);
        default:
          throw new Error(`audio-out: unknown sink "${kind}"; choose speaker, file, browser or null`);
      }
    };

    const browserSink = (rate: number): BrowserSink => {
      const settings = RED.settings as unknown as { httpNodeRoot?: string | false } & HttpNodeSecurity;
      if (settings.httpNodeRoot === false) throw new Error("audio-out: the browser sink needs httpNode (settings.httpNodeRoot is false)");
      const root = (settings.httpNodeRoot || "/").replace(/\/+$/, "");
      const route = `/voice-stream/player/${node.id}`;
      const sink = new BrowserSink({ basePath: root + route, sampleRate: rate, authorize: upgradeAuthorizer(settings) });
      // httpNodeAuth already guards all of httpNode; httpNodeMiddleware is per route (as the http-in node applies it).
      const extra = settings.httpNodeMiddleware;
      const middleware = typeof extra === "function" ? [extra] : Array.isArray(extra) ? extra : [];
      const handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
        if (!sink.handleRequest(req, res)) next();
      };
      const paths = [route, `${route}/player.js`, `${route}/worklet.js`];
      for (const p of paths) (RED.httpNode as unknown as { get(...a: unknown[]): void }).get(p, ...middleware, handler);
      cleanups.push(() => removeRoutes(RED.httpNode, paths));
      const server = RED.server as unknown as { on?: Function; removeListener?: Function } | undefined;
      if (server?.on) {
        const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => sink.handleUpgrade(req, socket, head);
        server.on("upgrade", onUpgrade);
        cleanups.push(() => server.removeListener?.("upgrade", onUpgrade));
      } else {
        node.warn("audio-out: no HTTP server to take WebSocket connections; the browser player page cannot connect");
      }
      const listenerSub = sink.listeners$.subscribe(() => {
        if (player && player.bufferedSeconds() === 0) node.status({ fill: "green", shape: "dot", text: idleText(sink) });
      });
      cleanups.push(() => listenerSub.unsubscribe());
      return sink;
    };

    const onEvent = (send: Send) => (event: PlayerEvent) => {
      if (event.type === "error") {
        node.status({ fill: "red", shape: "ring", text: event.error.message.slice(0, 60) });
        node.error(event.error, { stream_id: lastStreamId, payload: event.error.message });
        return;
      }
      if (event.type === "drained") node.status({ fill: "green", shape: "dot", text: "drained" });
      else if (event.type === "stopped") node.status({ fill: "yellow", shape: "ring", text: "stopped" });
      else if (event.type === "underrun") node.status({ fill: "yellow", shape: "ring", text: "underrun · waiting for audio" });
      if (event.type === "stopped") stoppedNow?.add(event.streamId);
      send({ event: event.type, stream_id: event.streamId, payload: event.type });
    };

    try {
      const made = makeSink();
      // Offer what is played as the reference for the own-voice guard (hands-free flows).
      const reference = config.reference === undefined ? "default" : config.reference.trim();
      const sink = reference ? new ReferenceTapSink(made, referenceChannel(reference)) : made;
      player = new Player(sink, {
        leadMs: numberSetting(config.bufferMs, DEFAULT_LEAD_MS, "buffer", (n) => n >= 20 && n <= 10000),
        volume: numberSetting(config.volume, 1, "volume", (n) => n >= 0 && n <= 4),
      });
      subscription = player.events$.subscribe(onEvent((msg) => node.send(msg as never)));
      node.status({ fill: "green", shape: "dot", text: idleText(made) });
      statusTimer = setInterval(showPlaying, STATUS_INTERVAL_MS);
    } catch (err) {
      startupError = err as Error;
      node.status({ fill: "red", shape: "ring", text: startupError.message.slice(0, 60) });
      node.error(startupError);
    }

    node.on("input", (msg: NodeMessage, _send: Send, done: Done) => {
      if (!player) return fail(startupError ?? new Error("audio-out is not ready"), done);
      const id = msg.stream_id === undefined || msg.stream_id === null || msg.stream_id === "" ? DEFAULT_STREAM : String(msg.stream_id);
      if (msg.cancel === true || msg.kind === "cancelled") {
        stoppedNow = new Set();
        player.stop();
        const stopped = stoppedNow;
        stoppedNow = undefined;
        // A cancel always answers with a stopped event for its stream, even when nothing of it was queued.
        if (!stopped.has(id)) {
          node.status({ fill: "yellow", shape: "ring", text: "stopped" });
          node.send({ event: "stopped", stream_id: id, payload: "stopped" } as never);
        }
        return done();
      }
      if (msg.pause === true) {
        player.pause();
        showPlaying();
        return done();
      }
      if (msg.resume === true) {
        player.resume();
        return done();
      }
      const final = msg.is_final === true;
      let samples: Float32Array | undefined;
      if (!(final && (msg.payload === undefined || msg.payload === null))) {
        try {
          samples = toFloat32(msg.payload, "msg.payload");
        } catch (err) {
          return fail(err as Error, done);
        }
        if (hasNonFinite(samples)) return fail(new Error("msg.payload holds NaN or infinite samples; the audio is broken upstream"), done);
      }
      const rawRate = msg.sample_rate ?? DEFAULT_INPUT_RATE;
      const rate = Number(rawRate);
      if (!Number.isInteger(rate) || rate < 1000 || rate > 384000) {
        return fail(new Error(`msg.sample_rate must be a whole number of Hz (e.g. 16000 or 24000), got ${JSON.stringify(rawRate)}`), done);
      }
      lastStreamId = id;
      try {
        if (samples && samples.length > 0) player.enqueue(samples, rate, id);
      } catch (err) {
        return fail(err as Error, done);
      }
      showPlaying();
      if (!final) return done();
      // The msg completes once its stream has played out (or was stopped).
      player.drain(id).then(() => done());
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      if (closed) return done();
      closed = true;
      if (statusTimer) clearInterval(statusTimer);
      subscription?.unsubscribe(); // no stopped events from a node being closed
      for (const cleanup of cleanups) cleanup();
      const closing = player?.close() ?? Promise.resolve();
      closing.then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType("audio-out", AudioOutNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
