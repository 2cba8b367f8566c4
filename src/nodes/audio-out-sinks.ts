/**
 * audio-out's sinks, built from the node's settings: the speaker (a system player process),
 * WAV files under the user directory, browsers (a page and WebSocket under httpNode) or
 * nothing (paced, discarded). Routes and listeners a sink adds are undone by `cleanups`.
 */
import type { IncomingMessage, ServerResponse } from "http";
import * as path from "path";
import type { Node, NodeAPI } from "node-red";
import type { Duplex } from "stream";
import { upgradeAuthorizer, type HttpNodeSecurity } from "../core/audio/http-auth";
import type { AudioSink } from "../core/audio/sink";
import { BrowserSink } from "../core/audio/sinks/browser-sink";
import { FileSink } from "../core/audio/sinks/file-sink";
import { NullSink } from "../core/audio/sinks/null-sink";
import { SpeakerSink } from "../core/audio/sinks/speaker-sink";

export interface SinkSettings {
  sink: "speaker" | "file" | "browser" | "null";
  player: string;
  device?: string;
  path?: string;
  sampleRate: number;
}

/** Express-style route removal (Node-RED keeps no API for it; the http-in node does the same). */
function removeRoutes(app: unknown, paths: string[]): void {
  const router = (app as { _router?: { stack: { route?: { path?: string } }[] } })._router;
  if (!router) return;
  router.stack = router.stack.filter((layer) => !(layer.route && paths.includes(layer.route.path ?? "")));
}

/** What the idle status says for `sink`. */
export function idleText(sink: AudioSink): string {
  return sink instanceof BrowserSink ? `${sink.listeners} listener${sink.listeners === 1 ? "" : "s"}` : "ready";
}

/** The sink `settings` choose; a browser sink's routes and listeners are undone by `cleanups`. */
export function makeSink(RED: NodeAPI, node: Node, settings: SinkSettings, cleanups: (() => void)[], onListeners: (sink: BrowserSink) => void): AudioSink {
  switch (settings.sink) {
    case "speaker":
      return new SpeakerSink({ player: settings.player || "auto", device: settings.device, sampleRate: settings.sampleRate });
    case "file":
      return new FileSink(fileTemplate(RED, settings.path ?? ""));
    case "null":
      return new NullSink();
    case "browser":
      return browserSink(RED, node, settings.sampleRate, cleanups, onListeners);
  }
}

// A relative path would otherwise land wherever Node-RED was started from (often / under
// systemd): anchor it to the user directory, as the voice-model cache is.
function fileTemplate(RED: NodeAPI, template: string): string {
  const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
  return template.trim() === "" || path.isAbsolute(template) || !userDir ? template : path.join(userDir, template);
}

function browserSink(RED: NodeAPI, node: Node, rate: number, cleanups: (() => void)[], onListeners: (sink: BrowserSink) => void): BrowserSink {
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
  const listenerSub = sink.listeners$.subscribe(() => onListeners(sink));
  cleanups.push(() => listenerSub.unsubscribe());
  return sink;
}
