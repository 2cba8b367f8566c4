/**
 * A local OpenAI-compatible server written from the public API reference, for the remote
 * engines' tests and the bench:
 *   GET  /v1/models                  {object: "list", data: [{id, object: "model"}]}
 *   POST /v1/chat/completions        stream: true → SSE chat.completion.chunk events, the first
 *                                    delta with only the role, a usage chunk (choices: []) when
 *                                    stream_options.include_usage, then [DONE]
 *   POST /v1/audio/speech            the input as 24 kHz s16le PCM (a tone per voice), written in
 *                                    odd-sized pieces
 *   POST /v1/audio/transcriptions    multipart with a WAV file → {text}, or SSE transcript.text.delta /
 *                                    transcript.text.done events with stream=true
 * Behaviours are picked by the request's model name (see MODELS), so one server plays every
 * kind of server and fault. Every request is recorded, including whether the client closed the
 * connection before the answer was complete (cancel tests).
 */
import * as http from "http";
import * as https from "https";
import type { AddressInfo, Socket } from "net";
import { decodeWav, wavHeader } from "../../src/core/audio/wav";

/** Model names and what the server does for them. */
export const MODELS = {
  llm: "test-llm",
  /** Never sends a usage chunk: the client counts tokens. */
  noUsage: "no-usage",
  /** 400 when stream_options is sent (older servers). */
  rejectStreamOptions: "reject-stream-options",
  /** 400 naming top_k when top_k is sent (OpenAI itself). */
  rejectTopK: "reject-top-k",
  /** reasoning_content deltas before the answer. */
  reasoning: "reasoning",
  /** A few deltas, then the socket is destroyed. */
  dieMidStream: "die-mid-stream",
  /** A few deltas, then an event whose data is not JSON. */
  malformed: "malformed",
  /** One delta, then silence with the connection open. */
  stall: "stall",
  /** Headers never come: silence from the start. */
  silent: "silent",
  /** 429 with a message. */
  rateLimited: "rate-limited",
  /** 503 with a message. */
  serverError: "server-error",
  /** Deltas every few ms for ever, whatever the client does (it only stops when the socket is gone). */
  ignoreCancel: "ignore-cancel",
  /** Deltas 30 ms apart (cancel mid-stream). */
  slow: "slow",
  /** Ignores stream: true and answers one JSON completion. */
  noStream: "no-stream",
  tts: "test-tts",
  /** Ignores response_format pcm and answers a WAV at 22050 Hz. */
  wavTts: "wav-tts",
  asr: "test-asr",
  /** Streams the transcript as SSE deltas when asked to. */
  streamingAsr: "streaming-asr",
} as const;

export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  json?: Record<string, unknown>;
  fields?: Record<string, string>;
  /** Samples of the uploaded WAV (transcriptions). */
  audioSamples?: number;
  /** The client closed the connection before the answer was complete. */
  closedByClient: boolean;
  /** Writes the server attempted after the client had gone (ignore-cancel). */
  writesAfterClose: number;
  /** performance.now() when the request arrived and when its answer was complete. */
  receivedAt: number;
  finishedAt?: number;
}

export interface OpenAiTestServerOptions {
  /** When set, every request needs "Authorization: Bearer <apiKey>" (else 401). */
  apiKey?: string;
  /** Serve https with this key and certificate (PEM). */
  tls?: { key: Buffer | string; cert: Buffer | string };
  /** Replaces the built-in answer: the content pieces of a chat completion. */
  chat?: (body: Record<string, unknown>, signal: AbortSignal) => AsyncIterable<string>;
  /** Pause between speech body pieces (ms); default 0 (setImmediate). */
  speechPieceDelayMs?: number;
  /** Pause between chat deltas (ms) for MODELS.llm; default 0. */
  tokenDelayMs?: number;
  /** Speech body piece size in bytes (default 1001: odd, so samples split across reads). */
  speechPieceBytes?: number;
  /** Called right after each content delta / speech piece is written (bench: the server side of a hop's latency). */
  trace?: (event: { path: string; index: number; bytesEnd: number; at: number }) => void;
}

export interface OpenAiTestServer {
  /** API base, ending in /v1. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** The next `count` chat requests wait for each other: none answers until all are open (proves concurrency). */
  holdChatsUntilOpen(count: number): void;
  /** Resolves once a request to `path` was closed by the client before its end. */
  clientClosed(path: string): Promise<RecordedRequest>;
  close(): Promise<void>;
}

/** The built-in answer to a chat: "You said: <last user message>." word by word, then the reply's word count. */
export function builtInReply(body: Record<string, unknown>): string[] {
  const messages = (body.messages ?? []) as { role: string; content: string }[];
  const user = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
  const system = messages.find((m) => m.role === "system")?.content;
  const words = `${system ? `[${system}] ` : ""}You said: ${user}.`.split(/(?<= )/);
  const max = typeof body.max_tokens === "number" ? body.max_tokens : Infinity;
  return words.slice(0, max);
}

/** 24 kHz samples the server speaks for `input` with `voice`: 10 ms of tone per character. */
export function builtInSpeech(input: string, voice: string): Int16Array {
  const rate = 24000;
  const n = input.length * 240;
  const freq = 200 + (hash(voice) % 400);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

/** The built-in transcript of an upload: its length, so a test knows which audio a request carried. */
export function builtInTranscript(samples: number, rate: number): string {
  return `heard ${(samples / rate).toFixed(2)} seconds`;
}

function hash(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

function parseMultipart(body: Buffer, contentType: string): { fields: Record<string, string>; file?: Buffer } {
  const boundary = /boundary=([^;]+)/.exec(contentType)?.[1];
  if (!boundary) throw new Error("no multipart boundary");
  const fields: Record<string, string> = {};
  let file: Buffer | undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const headerEnd = body.indexOf("\r\n\r\n", start);
    const next = body.indexOf(delimiter, headerEnd);
    if (headerEnd < 0 || next < 0) break;
    const headers = body.subarray(start, headerEnd).toString();
    const content = body.subarray(headerEnd + 4, next - 2);
    const name = /name="([^"]+)"/.exec(headers)?.[1] ?? "";
    if (/filename=/.test(headers)) file = Buffer.from(content);
    else fields[name] = content.toString();
    at = next;
  }
  return { fields, file };
}

export async function startOpenAiTestServer(options: OpenAiTestServerOptions = {}): Promise<OpenAiTestServer> {
  const requests: RecordedRequest[] = [];
  const closeWaiters: { path: string; resolve: (r: RecordedRequest) => void }[] = [];
  const sockets = new Set<Socket>();
  const modelIds = Object.values(MODELS);
  let barrier: { count: number; waiting: (() => void)[] } | undefined;

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? "").split("?")[0];
    const record: RecordedRequest = { method: req.method ?? "", path, authorization: req.headers.authorization, closedByClient: false, writesAfterClose: 0, receivedAt: performance.now() };
    requests.push(record);
    res.on("finish", () => (record.finishedAt = performance.now()));
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) {
        record.closedByClient = true;
        abort.abort();
        for (const w of closeWaiters.filter((x) => x.path === path)) {
          closeWaiters.splice(closeWaiters.indexOf(w), 1);
          w.resolve(record);
        }
      }
    });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    const error = (status: number, message: string, type = "invalid_request_error") => json(status, { error: { message, type, code: null } });
    const body = await readBody(req);

    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return error(401, "Incorrect API key provided.", "invalid_api_key");
    }
    if (req.method === "GET" && path === "/v1/models") {
      return json(200, { object: "list", data: modelIds.map((id) => ({ id, object: "model", created: 0, owned_by: "test" })) });
    }
    if (req.method !== "POST") return error(404, `no route ${req.method} ${path}`);

    if (path === "/v1/audio/transcriptions") {
      const { fields, file } = parseMultipart(body, String(req.headers["content-type"] ?? ""));
      record.fields = fields;
      if (!file) return error(400, "no file uploaded");
      const { samples: audio, sampleRate: rate } = decodeWav(file);
      const samples = audio.length;
      record.audioSamples = samples;
      const model = fields.model ?? MODELS.asr;
      if (model === MODELS.serverError) return error(503, "transcriber overloaded", "server_error");
      if (!modelIds.includes(model as never)) return error(404, `The model '${model}' does not exist`, "model_not_found");
      const text = builtInTranscript(samples, rate);
      if (model === MODELS.streamingAsr && fields.stream === "true") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        for (const piece of text.split(/(?<= )/)) {
          res.write(`data: ${JSON.stringify({ type: "transcript.text.delta", delta: piece })}\n\n`);
          await sleep(1);
        }
        res.end(`data: ${JSON.stringify({ type: "transcript.text.done", text })}\n\n`);
        return;
      }
      return json(200, { text });
    }

    let request: Record<string, unknown>;
    try {
      request = JSON.parse(body.toString()) as Record<string, unknown>;
    } catch {
      return error(400, "body is not JSON");
    }
    record.json = request;
    const model = String(request.model ?? "");
    if (!modelIds.includes(model as never)) return error(404, `The model '${model}' does not exist`, "model_not_found");
    if (model === MODELS.rateLimited) return error(429, "Rate limit reached for requests; try again in 20s", "rate_limit_exceeded");
    if (model === MODELS.serverError) return error(503, "The engine is currently overloaded", "server_error");
    if (model === MODELS.silent) return; // never answers

    if (path === "/v1/audio/speech") return speech(request, model, res, record);
    if (path !== "/v1/chat/completions") return error(404, `no route POST ${path}`);
    if (model === MODELS.rejectStreamOptions && request.stream_options !== undefined) {
      return error(400, "Unrecognized request argument supplied: stream_options");
    }
    if (model === MODELS.rejectTopK && request.top_k !== undefined) return error(400, "Unrecognized request argument supplied: top_k");
    const pieces: AsyncIterable<string> = options.chat ? options.chat(request, abort.signal) : fromArray(builtInReply(request));
    if (model === MODELS.noStream) {
      let text = "";
      for await (const p of pieces) text += p;
      return json(200, {
        id: "cmpl-1", object: "chat.completion", model,
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
        usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
      });
    }
    return chat(request, model, pieces, res, record);
  };

  async function* fromArray(items: string[]): AsyncGenerator<string> {
    for (const item of items) yield item;
  }

  const chat = async (request: Record<string, unknown>, model: string, pieces: AsyncIterable<string>, res: http.ServerResponse, record: RecordedRequest) => {
    if (barrier) {
      const held = barrier;
      await new Promise<void>((resolve) => {
        held.waiting.push(resolve);
        if (held.waiting.length >= held.count) {
          if (barrier === held) barrier = undefined;
          for (const release of held.waiting) release();
        }
      });
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const base = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 0, model };
    const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
    const write = (text: string) => {
      if (res.destroyed) record.writesAfterClose++;
      else res.write(text);
    };
    write(": keep-alive\n\n");
    write(event({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }));
    if (model === MODELS.reasoning) {
      for (const thought of ["Let me ", "think."]) write(event({ ...base, choices: [{ index: 0, delta: { reasoning_content: thought }, finish_reason: null }] }));
    }
    if (model === MODELS.ignoreCancel) {
      for (let i = 0; i < 2000 && record.writesAfterClose < 20; i++) {
        write(event({ ...base, choices: [{ index: 0, delta: { content: `w${i} ` }, finish_reason: null }] }));
        await sleep(5);
      }
      return res.destroyed ? undefined : res.end();
    }
    let count = 0;
    let completion = 0;
    for await (const piece of pieces) {
      if (res.destroyed) return;
      if (model === MODELS.dieMidStream && count === 3) {
        // FIN, not RST: what was written reaches the client, then the body ends short of its last chunk.
        return res.socket?.end();
      }
      if (model === MODELS.malformed && count === 2) {
        write("data: {\"choices\": [{\"delta\": {\"content\": \"oops\"\n\n");
        await sleep(20);
        return res.end();
      }
      if (model === MODELS.stall && count === 1) return; // connection stays open, nothing more comes
      write(event({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] }));
      options.trace?.({ path: "/v1/chat/completions", index: count, bytesEnd: 0, at: performance.now() });
      count++;
      completion++;
      const delay = model === MODELS.slow ? 30 : (options.tokenDelayMs ?? 0);
      if (delay > 0) await sleep(delay);
    }
    const limited = typeof request.max_tokens === "number" && completion >= request.max_tokens;
    write(event({ ...base, choices: [{ index: 0, delta: {}, finish_reason: limited ? "length" : "stop" }] }));
    const wantsUsage = (request.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    if (wantsUsage && model !== MODELS.noUsage) {
      const messages = (request.messages ?? []) as { content: string }[];
      const prompt = messages.reduce((n, m) => n + m.content.split(/\s+/).filter(Boolean).length, 0);
      write(event({ ...base, choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } }));
    }
    write("data: [DONE]\n\n");
    res.end();
  };

  const speech = async (request: Record<string, unknown>, model: string, res: http.ServerResponse, record: RecordedRequest) => {
    const input = String(request.input ?? "");
    const voice = String(request.voice ?? "");
    if (!input) return void (res.writeHead(400, { "content-type": "application/json" }), res.end(JSON.stringify({ error: { message: "input is empty" } })));
    if (voice === "nobody") return void (res.writeHead(400, { "content-type": "application/json" }), res.end(JSON.stringify({ error: { message: "Voice 'nobody' not found" } })));
    const pcm = builtInSpeech(input, voice);
    let bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    if (model === MODELS.wavTts) {
      // 22050 Hz WAV: every 24000 Hz sample mapped by nearest index (a plain tone either way).
      const n = Math.floor((pcm.length * 22050) / 24000);
      const resampled = new Int16Array(n);
      for (let i = 0; i < n; i++) resampled[i] = pcm[Math.min(pcm.length - 1, Math.round((i * 24000) / 22050))];
      bytes = Buffer.concat([wavHeader(resampled.byteLength, 22050), Buffer.from(resampled.buffer)]);
      res.writeHead(200, { "content-type": "audio/wav" });
    } else {
      res.writeHead(200, { "content-type": "audio/pcm" });
    }
    // Odd-sized pieces: samples split across reads.
    const piece = options.speechPieceBytes ?? 1001;
    for (let at = 0; at < bytes.length; at += piece) {
      if (res.destroyed) {
        record.writesAfterClose++;
        return;
      }
      if (model === MODELS.dieMidStream && at >= bytes.length / 2) return res.socket?.end();
      if (model === MODELS.stall && at > 0) return;
      res.write(bytes.subarray(at, at + piece));
      options.trace?.({ path: "/v1/audio/speech", index: at / piece, bytesEnd: Math.min(bytes.length, at + piece), at: performance.now() });
      await (options.speechPieceDelayMs ? sleep(options.speechPieceDelayMs) : new Promise((r) => setImmediate(r)));
    }
    res.end();
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handler(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `test server: ${err.message}` } }));
    });
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, onRequest) : http.createServer(onRequest);
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}/v1`,
    port,
    requests,
    holdChatsUntilOpen: (count) => {
      barrier = { count, waiting: [] };
    },
    clientClosed: (path) => {
      const done = requests.find((r) => r.path === path && r.closedByClient);
      if (done) return Promise.resolve(done);
      return new Promise((resolve) => closeWaiters.push({ path, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
