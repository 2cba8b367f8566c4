/**
 * The server half of a browser voice page: one HTTP page (optional) with the shared
 * client scripts, and one WebSocket that carries audio both ways.
 *
 * - Playback (server → pages): float32 PCM binary frames after a `{type:"stream"}` text
 *   frame that names their stream; `text`, `end`, `stop`, `pause`, `resume` control frames.
 *   Streams may target some sessions only. A page that connects while a stream is open is
 *   sent that stream from its start (PlaybackBuffer), so a late listener loses nothing.
 * - Capture (pages → server): the server opens a capture on a session (`capture-start`);
 *   only then, and only from that session's socket, are binary frames taken as microphone
 *   audio (16 kHz mono float32), checked against MicLimits. Pages may ask to talk
 *   (`talk-start` / `talk-stop`); the owner decides by opening or closing a capture.
 * - Events: any JSON object can be sent to one session or all (captions, answer text, state).
 *
 * Nothing here knows Node-RED: the node mounts handleRequest under httpNode, handleUpgrade
 * on the server's upgrade event, and supplies `authorize` (httpNodeAuth/httpNodeMiddleware).
 */
import { randomUUID } from "crypto";
import * as fs from "fs";
import type { IncomingMessage, ServerResponse } from "http";
import * as path from "path";
import type { Duplex } from "stream";
import { Subject, type Observable } from "rxjs";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { DEFAULT_MIC_LIMITS, MIC_RATE, MicFrameError, MicRateGate, type MicLimits } from "./mic-limits";
import { PlaybackBuffer } from "./playback-buffer";

export type PageKind = "player" | "mic" | "none";

export interface VoiceChannelOptions {
  /** URL path of the page, e.g. /voice-stream/player/<node id> (httpNodeRoot included). */
  basePath: string;
  /** Which page GET basePath serves ("none": scripts and socket only, e.g. for a dashboard widget). */
  page?: PageKind;
  /** Shown as the page's heading (the node's name). */
  title?: string;
  /** Rate of the audio sent to pages. */
  sampleRate?: number;
  /** Decides whether a WebSocket upgrade may connect (same rules as the page's HTTP auth). */
  authorize?: (req: IncomingMessage) => Promise<boolean>;
  micLimits?: Partial<MicLimits>;
  /** Most seconds of one open stream kept for late listeners. */
  replaySeconds?: number;
  /** Refused frames in a row before the socket is closed. */
  maxRefusedFrames?: number;
}

export type ChannelEvent =
  | { type: "connected"; session: string; listeners: number }
  | { type: "disconnected"; session: string; listeners: number }
  | { type: "talk"; session: string; action: "start" | "stop" }
  | { type: "frame"; session: string; capture: string; samples: Float32Array }
  | { type: "capture-end"; session: string; capture: string; reason: "stopped" | "page" | "disconnected" }
  | { type: "refused"; session: string; error: Error }
  | { type: "message"; session: string; data: Record<string, unknown> };

interface Session {
  id: string;
  socket: WebSocket;
  capture?: { id: string; gate: MicRateGate };
  /** When the last capture closed: frames already on their way then are dropped quietly. */
  closedAt?: number;
  refused: number;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  "/player.js": { file: "voice-client.js", type: "text/javascript; charset=utf-8" },
  "/worklet.js": { file: "player-worklet.js", type: "text/javascript; charset=utf-8" },
  "/mic-worklet.js": { file: "mic-worklet.js", type: "text/javascript; charset=utf-8" },
};
/** Session ids remembered for pages that reconnect. */
const MAX_ISSUED = 1000;
/** How long after a capture closes frames still in flight are dropped without an error. */
const LATE_FRAME_MS = 2000;
const PAGES: Record<Exclude<PageKind, "none">, string> = { player: "player.html", mic: "mic.html" };

/** The folder with the page and client files (assets/browser in the package). */
export function browserAssetDir(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, "assets", "browser");
    if (fs.existsSync(path.join(candidate, "voice-client.js"))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`browser page files (assets/browser) not found above ${__dirname}`);
    dir = up;
  }
}

/** The asset paths under basePath that a node must route to handleRequest. */
export const CHANNEL_ASSET_PATHS = ["", ...Object.keys(ASSETS)];

export class VoiceChannel {
  readonly basePath: string;
  readonly sampleRate: number;
  readonly page: PageKind;
  title: string;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  private readonly authorize: (req: IncomingMessage) => Promise<boolean>;
  private readonly dir = browserAssetDir();
  private readonly sessions = new Map<string, Session>();
  private readonly buffer: PlaybackBuffer;
  private readonly limits: MicLimits;
  private readonly maxRefused: number;
  private readonly eventsSubject = new Subject<ChannelEvent>();
  /** Connections, talk requests, microphone frames and capture ends. */
  readonly events$: Observable<ChannelEvent> = this.eventsSubject.asObservable();
  /** The stream whose binary frames follow on every socket (per session). */
  private readonly current = new Map<string, string>();
  /** Session ids handed out (bounded), which a reconnecting page may take back. */
  private readonly issued = new Set<string>();
  private closed = false;

  constructor(options: VoiceChannelOptions) {
    this.basePath = options.basePath.replace(/\/+$/, "");
    if (!this.basePath.startsWith("/")) throw new Error(`browser page path must start with "/", got ${options.basePath}`);
    this.sampleRate = options.sampleRate ?? 24000;
    this.page = options.page ?? "player";
    this.title = options.title ?? "";
    this.authorize = options.authorize ?? (async () => true);
    this.buffer = new PlaybackBuffer(options.replaySeconds ?? 600);
    this.limits = { ...DEFAULT_MIC_LIMITS, ...options.micLimits };
    this.maxRefused = options.maxRefusedFrames ?? 50;
    this.wss.on("connection", (socket: WebSocket, req: IncomingMessage) => this.onConnection(socket, req));
  }

  get listeners(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.socket.readyState === WebSocket.OPEN) n++;
    return n;
  }

  /** Session ids of the open pages, oldest first. */
  sessionIds(): string[] {
    return [...this.sessions.keys()];
  }

  get wsPath(): string {
    return this.basePath + "/ws";
  }

  // ---- HTTP ----------------------------------------------------------------------------

  /** Serves the page and its scripts; false when the request is for another path. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    // Under Express (httpNode mounted at httpNodeRoot) req.url lacks the mount path; originalUrl has it.
    const full = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? "/";
    const pathname = new URL(full, "http://x").pathname;
    if (!pathname.startsWith(this.basePath)) return false;
    const rest = pathname.slice(this.basePath.length).replace(/\/$/, "");
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    let file: string;
    let type: string;
    if (rest === "") {
      if (this.page === "none") return false;
      file = PAGES[this.page];
      type = "text/html; charset=utf-8";
    } else if (ASSETS[rest]) ({ file, type } = ASSETS[rest]);
    else return false;
    let body = fs.readFileSync(path.join(this.dir, file), "utf8");
    if (type.startsWith("text/html")) {
      body = body
        .replace(/\{\{BASE\}\}/g, escapeHtml(this.basePath))
        .replace(/\{\{RATE\}\}/g, String(this.sampleRate))
        .replace(/\{\{TITLE\}\}/g, escapeHtml(this.title || (this.page === "mic" ? "voice-stream microphone" : "voice-stream player")));
    }
    res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  }

  /** Takes a WebSocket upgrade for this path (checking `authorize`); false for other paths. */
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
          socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="Authorization Required"\r\nConnection: close\r\n\r\n');
          return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
      },
      () => socket.destroy(),
    );
    return true;
  }

  // ---- sessions ------------------------------------------------------------------------

  /**
   * A page that reconnects (network drop, reload) names the session it had (?resume=<id>) and
   * keeps it, so the answer to its turn still finds it. Only ids this channel issued, and
   * not connected now, are taken back.
   */
  private sessionIdFor(req: IncomingMessage | undefined): string {
    const resume = req?.url ? new URL(req.url, "http://x").searchParams.get("resume") : null;
    if (resume && this.issued.has(resume) && !this.sessions.has(resume)) return resume;
    const id = randomUUID();
    this.issued.add(id);
    if (this.issued.size > MAX_ISSUED) this.issued.delete(this.issued.values().next().value as string);
    return id;
  }

  private onConnection(socket: WebSocket, req?: IncomingMessage): void {
    const session: Session = { id: this.sessionIdFor(req), socket, refused: 0 };
    this.sessions.set(session.id, session);
    this.sendJson(session, { type: "hello", sampleRate: this.sampleRate, session: session.id, title: this.title, micRate: MIC_RATE });
    // A late listener: the open streams from their start, then live audio follows.
    for (const s of this.buffer.openStreams()) {
      if (s.target && !s.target.has(session.id)) continue;
      this.switchStream(session, s.id, s.sampleRate);
      for (const chunk of s.chunks) socket.send(chunk.buffer.byteLength === chunk.byteLength ? chunk : chunk.slice(), { binary: true });
      for (const t of s.texts) this.sendJson(session, { type: "text", stream: s.id, text: t.text, at: Math.max(0, t.at - s.trimmed / s.sampleRate) });
    }
    this.eventsSubject.next({ type: "connected", session: session.id, listeners: this.listeners });
    socket.on("message", (data: RawData, isBinary: boolean) => this.onMessage(session, data, isBinary));
    socket.on("close", () => this.dropSession(session));
    socket.on("error", () => socket.terminate());
  }

  private dropSession(session: Session): void {
    if (!this.sessions.delete(session.id)) return;
    this.current.delete(session.id);
    const capture = session.capture;
    session.capture = undefined;
    if (capture) this.eventsSubject.next({ type: "capture-end", session: session.id, capture: capture.id, reason: "disconnected" });
    this.eventsSubject.next({ type: "disconnected", session: session.id, listeners: this.listeners });
  }

  private onMessage(session: Session, data: RawData, isBinary: boolean): void {
    if (isBinary) return this.onFrame(session, toBuffer(data));
    let parsed: unknown;
    try {
      parsed = JSON.parse(toBuffer(data).toString("utf8"));
    } catch {
      return this.refuse(session, new MicFrameError("text frame is not JSON"));
    }
    if (!parsed || typeof parsed !== "object") return;
    const msg = parsed as Record<string, unknown>;
    if (msg.type === "talk-start" || msg.type === "talk-stop") {
      this.eventsSubject.next({ type: "talk", session: session.id, action: msg.type === "talk-start" ? "start" : "stop" });
    } else {
      this.eventsSubject.next({ type: "message", session: session.id, data: msg });
    }
  }

  private onFrame(session: Session, bytes: Buffer): void {
    const capture = session.capture;
    if (!capture && session.closedAt !== undefined && Date.now() - session.closedAt < LATE_FRAME_MS) return;
    if (!capture) return this.refuse(session, new MicFrameError("microphone audio refused: no capture is open for this page (the flow or the talk button opens one)"));
    let samples: Float32Array;
    try {
      samples = capture.gate.check(bytes);
    } catch (err) {
      return this.refuse(session, err as Error);
    }
    session.refused = 0;
    this.eventsSubject.next({ type: "frame", session: session.id, capture: capture.id, samples });
  }

  private refuse(session: Session, error: Error): void {
    session.refused++;
    this.sendJson(session, { type: "error", message: error.message });
    this.eventsSubject.next({ type: "refused", session: session.id, error });
    if (session.refused >= this.maxRefused) session.socket.close(1008, "too many refused frames");
  }

  // ---- capture -------------------------------------------------------------------------

  /**
   * Opens a capture on `session`: its page starts sending microphone frames, and only its
   * frames are taken. Returns the capture id, or undefined when there is no such page.
   */
  startCapture(sessionId: string, options: { id?: string; mode?: string } = {}): string | undefined {
    const session = this.sessions.get(sessionId);
    if (!session || session.socket.readyState !== WebSocket.OPEN) return undefined;
    if (session.capture) return session.capture.id;
    const id = options.id ?? randomUUID();
    session.capture = { id, gate: new MicRateGate(this.limits) };
    this.sendJson(session, { type: "capture-start", capture: id, mode: options.mode ?? "push-to-talk" });
    return id;
  }

  /** Closes the capture `captureId` (its page stops sending); true when one was open. */
  stopCapture(captureId: string, reason: "stopped" | "page" = "stopped"): boolean {
    for (const session of this.sessions.values()) {
      if (session.capture?.id !== captureId) continue;
      session.capture = undefined;
      session.closedAt = Date.now();
      this.sendJson(session, { type: "capture-stop", capture: captureId });
      this.eventsSubject.next({ type: "capture-end", session: session.id, capture: captureId, reason });
      return true;
    }
    return false;
  }

  captureOf(sessionId: string): string | undefined {
    return this.sessions.get(sessionId)?.capture?.id;
  }

  // ---- playback ------------------------------------------------------------------------

  private targets(target?: ReadonlySet<string>): Session[] {
    const all = [...this.sessions.values()].filter((s) => s.socket.readyState === WebSocket.OPEN);
    return target ? all.filter((s) => target.has(s.id)) : all;
  }

  private switchStream(session: Session, streamId: string, sampleRate: number): void {
    if (this.current.get(session.id) === streamId) return;
    this.current.set(session.id, streamId);
    this.sendJson(session, { type: "stream", stream: streamId, sampleRate });
  }

  /**
   * Samples of `streamId` at the channel's rate, to every page or to `target` sessions.
   * Kept for late listeners until endStream/stop.
   */
  play(samples: Float32Array, streamId: string, target?: ReadonlySet<string>): void {
    if (samples.length === 0) return;
    // A copy the buffer owns (the caller's view may share a larger buffer or be reused).
    const copy = samples.slice();
    this.buffer.append(streamId, copy, this.sampleRate, target);
    for (const session of this.targets(this.buffer.get(streamId)?.target)) {
      this.switchStream(session, streamId, this.sampleRate);
      session.socket.send(copy, { binary: true });
    }
  }

  /** The text the audio of `streamId` speaks from `at` seconds into the stream. */
  annotate(streamId: string, text: string, at: number, target?: ReadonlySet<string>): void {
    this.buffer.addText(streamId, text, at, this.sampleRate, target);
    for (const session of this.targets(this.buffer.get(streamId)?.target)) {
      this.sendJson(session, { type: "text", stream: streamId, text, at });
    }
  }

  /** All of `streamId` has been sent: pages may finish it; a later page no longer needs it. */
  endStream(streamId: string): void {
    const target = this.buffer.get(streamId)?.target;
    this.buffer.end(streamId);
    for (const session of this.targets(target)) this.sendJson(session, { type: "end", stream: streamId });
  }

  /** Silences every page (or one stream) at once and forgets the buffered audio. */
  stop(streamId?: string): void {
    if (streamId === undefined) this.buffer.clear();
    else this.buffer.end(streamId);
    this.broadcast(streamId === undefined ? { type: "stop" } : { type: "stop", stream: streamId });
  }

  pause(): void {
    this.broadcast({ type: "pause" });
  }

  resume(): void {
    this.broadcast({ type: "resume" });
  }

  /** A JSON event to every page, or to `target` sessions. */
  broadcast(event: Record<string, unknown>, target?: ReadonlySet<string>): void {
    for (const session of this.targets(target)) this.sendJson(session, event);
  }

  private sendJson(session: Session, event: Record<string, unknown>): void {
    if (session.socket.readyState === WebSocket.OPEN) session.socket.send(JSON.stringify(event));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const session of [...this.sessions.values()]) {
      session.socket.terminate();
      this.dropSession(session);
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.eventsSubject.complete();
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data as ArrayBuffer);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
