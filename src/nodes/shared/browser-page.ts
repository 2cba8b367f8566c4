/**
 * Mounts a VoiceChannel (src/core/browser) in Node-RED: its page and scripts as httpNode
 * routes (behind httpNodeAuth, which guards all of httpNode, and httpNodeMiddleware, per
 * route as the http-in node applies it) and its WebSocket on the server's upgrade event,
 * checked by the same rules. Used by audio-out (player page), audio-in (microphone page)
 * and ui-voice (dashboard widget).
 */
import type { IncomingMessage, ServerResponse } from "http";
import type { Node, NodeAPI } from "node-red";
import type { Duplex } from "stream";
import { upgradeAuthorizer, type HttpNodeSecurity, type SocketMiddleware } from "../../core/audio/http-auth";
import { CHANNEL_ASSET_PATHS, VoiceChannel, type VoiceChannelOptions } from "../../core/browser/voice-channel";

type Middleware = (req: unknown, res: unknown, next: (err?: unknown) => void) => void;

export interface MountedChannel {
  channel: VoiceChannel;
  /** The page's path with httpNodeRoot, e.g. /voice-stream/mic/<id>. */
  url: string;
  close(): Promise<void>;
}

/** Express-style route removal (Node-RED keeps no API for it; the http-in node does the same). */
function removeRoutes(app: unknown, paths: string[]): void {
  const router = (app as { _router?: { stack: { route?: { path?: string } }[] } })._router;
  if (!router) return;
  router.stack = router.stack.filter((layer) => !(layer.route && paths.includes(layer.route.path ?? "")));
}

function asList(m: Middleware | Middleware[] | undefined): Middleware[] {
  return typeof m === "function" ? [m] : Array.isArray(m) ? m : [];
}

/**
 * `route` is under httpNodeRoot (e.g. /voice-stream/mic/<node id>). `extraMiddleware` adds
 * checks to both page and socket, `socketMiddleware` to the socket only (ui-voice passes
 * Dashboard's own `dashboard.middleware` and `dashboard.ioMiddleware`).
 */
export function mountVoiceChannel(
  RED: NodeAPI,
  node: Node,
  route: string,
  options: Omit<VoiceChannelOptions, "basePath" | "authorize">,
  extraMiddleware: Middleware[] = [],
  socketMiddleware: SocketMiddleware[] = [],
): MountedChannel {
  const settings = RED.settings as unknown as { httpNodeRoot?: string | false } & HttpNodeSecurity;
  if (settings.httpNodeRoot === false) throw new Error(`${node.type}: a browser page needs httpNode (settings.httpNodeRoot is false)`);
  const root = (settings.httpNodeRoot || "/").replace(/\/+$/, "");
  const middleware = [...asList(settings.httpNodeMiddleware as Middleware | Middleware[] | undefined), ...extraMiddleware];
  const authorize = upgradeAuthorizer({ httpNodeAuth: settings.httpNodeAuth, httpNodeMiddleware: middleware.length > 0 ? middleware : undefined, socketMiddleware });
  const channel = new VoiceChannel({ ...options, basePath: root + route, authorize });
  const handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    if (!channel.handleRequest(req, res)) next();
  };
  const paths = CHANNEL_ASSET_PATHS.map((p) => route + p);
  const app = RED.httpNode as unknown as { get(...a: unknown[]): void };
  for (const p of paths) app.get(p, ...middleware, handler);
  const server = RED.server as unknown as { on?: Function; removeListener?: Function } | undefined;
  let onUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined;
  if (server?.on) {
    onUpgrade = (req, socket, head) => {
      channel.handleUpgrade(req, socket, head);
    };
    server.on("upgrade", onUpgrade);
  } else {
    node.warn(`${node.type}: no HTTP server to take WebSocket connections; the browser page cannot connect`);
  }
  return {
    channel,
    url: root + route,
    close: async () => {
      removeRoutes(RED.httpNode, paths);
      if (onUpgrade) server?.removeListener?.("upgrade", onUpgrade);
      await channel.close();
    },
  };
}
