/**
 * Plays in web browsers: a page at `basePath` (plus its script and AudioWorklet) and a
 * WebSocket at `basePath + "/ws"` that carries the PCM (float32 little-endian, binary
 * frames) to every connected listener. Control goes as JSON text frames (stop, pause,
 * resume). The sink knows nothing of Node-RED: the node mounts `handleRequest` on its
 * HTTP app and `handleUpgrade` on the server's upgrade event, and supplies `authorize`.
 */
import * as fs from "fs";
import type { IncomingMessage, ServerResponse } from "http";
import * as path from "path";
import type { Duplex } from "stream";
import { Subject } from "rxjs";
import { WebSocketServer, WebSocket } from "ws";
import type { AudioSink } from "../sink";

export interface BrowserSinkOptions {
  /** URL path of the page, e.g. /voice-stream/player/<node id> (httpNodeRoot included). */
  basePath: string;
  sampleRate?: number;
  /** Decides whether a WebSocket upgrade may connect (same rules as the page's HTTP auth). */
  authorize?: (req: IncomingMessage) => Promise<boolean>;
}

/** The folder with player.html, player.js and worklet.js (assets/player in the package). */
function assetDir(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, "assets", "player");
    if (fs.existsSync(path.join(candidate, "worklet.js"))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`browser player files (assets/player) not found above ${__dirname}`);
    dir = up;
  }
}

const ASSETS: Record<string, { file: string; type: string }> = {
  "": { file: "player.html", type: "text/html; charset=utf-8" },
  "/player.js": { file: "player.js", type: "text/javascript; charset=utf-8" },
  "/worklet.js": { file: "worklet.js", type: "text/javascript; charset=utf-8" },
};

export class BrowserSink implements AudioSink {
  readonly name = "browser";
  readonly sampleRate: number;
  readonly basePath: string;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly authorize: (req: IncomingMessage) => Promise<boolean>;
  private readonly dir = assetDir();
  private readonly listenersSubject = new Subject<number>();
  /** Number of connected listeners, on every change. */
  readonly listeners$ = this.listenersSubject.asObservable();
  private closed = false;

  constructor(options: BrowserSinkOptions) {
    this.basePath = options.basePath.replace(/\/+$/, "");
    if (!this.basePath.startsWith("/")) throw new Error(`browser player path must start with "/", got ${options.basePath}`);
    this.sampleRate = options.sampleRate ?? 24000;
    this.authorize = options.authorize ?? (async () => true);
    this.wss.on("connection", (socket) => {
      socket.send(JSON.stringify({ type: "hello", sampleRate: this.sampleRate }));
      this.listenersSubject.next(this.listeners);
      socket.on("close", () => this.listenersSubject.next(this.listeners));
      socket.on("error", () => socket.terminate());
    });
  }

  get listeners(): number {
    let n = 0;
    for (const c of this.wss.clients) if (c.readyState === WebSocket.OPEN) n++;
    return n;
  }

  get wsPath(): string {
    return this.basePath + "/ws";
  }

  /** Serves the page and its scripts; false when the request is for another path. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    // Under Express (httpNode mounted at httpNodeRoot) req.url lacks the mount path; originalUrl has it.
    const full = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? "/";
    const pathname = new URL(full, "http://x").pathname;
    if (!pathname.startsWith(this.basePath)) return false;
    const asset = ASSETS[pathname.slice(this.basePath.length).replace(/\/$/, "")];
    if (!asset || (req.method !== "GET" && req.method !== "HEAD")) return false;
    let body = fs.readFileSync(path.join(this.dir, asset.file), "utf8");
    if (asset.file === "player.html") {
      body = body.replace(/\{\{BASE\}\}/g, escapeHtml(this.basePath)).replace(/\{\{RATE\}\}/g, String(this.sampleRate));
    }
    res.writeHead(200, { "Content-Type": asset.type, "Cache-Control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  }

  /** Takes a WebSocket upgrade for this player's path (checking `authorize`); false for other paths. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const pathname = new URL(req.url ?? "/", "http://x").pathname;
    if (pathname !== this.wsPath) return false;
    if (this.closed) {
      socket.destroy();
      return true;
    }
    this.authorize(req).then(
      (ok) => {
        if (!ok) {
          socket.end("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"Authorization Required\"\r\nConnection: close\r\n\r\n");
          return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
      },
      () => socket.destroy(),
    );
    return true;
  }

  write(samples: Float32Array): void {
    if (samples.length === 0) return;
    // Little-endian float32 in a buffer of its own (the caller's view may share a larger one).
    const bytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
    const copy = Buffer.from(bytes);
    for (const client of this.wss.clients) if (client.readyState === WebSocket.OPEN) client.send(copy, { binary: true });
  }

  private control(type: "stop" | "pause" | "resume"): void {
    const text = JSON.stringify({ type });
    for (const client of this.wss.clients) if (client.readyState === WebSocket.OPEN) client.send(text);
  }

  stop(): void {
    this.control("stop");
  }

  pause(): void {
    this.control("pause");
  }

  resume(): void {
    this.control("resume");
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.listenersSubject.complete();
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
