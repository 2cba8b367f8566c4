/**
 * tts-streamer: speaks text as it arrives (PROTOCOL §2). Text comes whole (a msg without
 * `is_final`) or as deltas of an open stream (`is_final: false`, then `is_final: true` to finish),
 * so llm-stream's output can be wired straight in. Each audio chunk goes out as one msg
 * (payload = Float32Array, or a Buffer of s16le), the stream's final chunk last.
 * `msg.flush` speaks the buffered fragment now; `msg.cancel === true` or a cancelled chunk
 * (`msg.kind === "cancelled"`) stops the stream and discards pending audio.
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Subscription } from "rxjs";
import type { TtsEngine, TtsStreamChunk, TtsStreamConfig, TtsStreamer } from "../core/types";
import { floatToS16LE } from "../core/audio/pcm";
import { attachModel } from "./shared/model-client";
import { chunkMessage, ownedCopy, streamIdOf, type ChunkLike, type NodeMessage } from "./shared/stream-msg";

interface TtsStreamerNodeDef extends NodeDef {
  model?: string;
  voice?: string;
  framesPerChunk?: string | number;
  firstFramesPerChunk?: string | number;
  lookforward?: string | number;
  lookback?: string | number;
  overlapFrames?: string | number;
  sampleRateOut?: string | number;
  firstSpanWords?: string | number;
  outputFormat?: "float32" | "s16le";
}

type Send = (msg: NodeMessage | NodeMessage[]) => void;
type Done = (err?: Error) => void;

interface OpenStream {
  id: string;
  streamer: TtsStreamer;
  subscription: Subscription;
  /** The msg that opened the stream: its properties (topic, ...) ride on every output. */
  input: NodeMessage;
  index: number;
  audioSeconds: number;
  /** done() of the msg that finished the stream: called when the final chunk is out. */
  finishDone?: Done;
  finished: boolean;
}

const STATUS_INTERVAL_MS = 250;

/** An editor number field: "" means "the guide's default". */
function setting(value: string | number | undefined): number | undefined {
  if (value === undefined || value === null || String(value).trim() === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : NaN;
}

/** Fields an upstream llm-stream chunk brings that must not masquerade as this node's chunk fields. */
const UPSTREAM_CHUNK_FIELDS = [
  "kind", "delta", "index", "token_ids", "is_final", "text", "finish_reason", "time_to_first_token", "total_seconds",
  "prompt_tokens", "generated_tokens", "tokens_per_second",
];

/** The opening msg minus upstream chunk fields: its own properties (topic, ...) travel on. */
function baseMessage(msg: NodeMessage): NodeMessage {
  const base: NodeMessage = { ...msg };
  for (const field of UPSTREAM_CHUNK_FIELDS) delete base[field];
  return base;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Buffer.isBuffer(value)) return "a Buffer";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

module.exports = function register(RED: NodeAPI) {
  function TtsStreamerNode(this: Node, config: TtsStreamerNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const handle = attachModel<TtsEngine>(RED, node, config.model, "tts");
    const settings: Partial<TtsStreamConfig> = {
      frames_per_chunk: setting(config.framesPerChunk),
      first_frames_per_chunk: setting(config.firstFramesPerChunk),
      lookforward: setting(config.lookforward),
      lookback: setting(config.lookback),
      overlap_frames: setting(config.overlapFrames),
      sample_rate_out: setting(config.sampleRateOut),
      first_span_words: setting(config.firstSpanWords),
      voice: config.voice ? String(config.voice) : undefined,
    };
    const format = config.outputFormat === "s16le" ? "s16le" : "float32";
    /** Streams still taking text, by id. */
    const streams = new Map<string, OpenStream>();
    /** Every stream not yet ended (finished ones keep speaking their rest). */
    const active = new Set<OpenStream>();
    let queue: Promise<void> = Promise.resolve();
    let closed = false;
    let lastStatus = 0;

    const fail = (err: Error, done: Done) => {
      node.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
      done(err);
    };

    const showSpeaking = (stream: OpenStream) => {
      const now = Date.now();
      if (now - lastStatus < STATUS_INTERVAL_MS) return;
      lastStatus = now;
      const more = active.size > 1 ? ` ×${active.size}` : "";
      node.status({ fill: "blue", shape: "dot", text: `speaking${more} · ${stream.audioSeconds.toFixed(1)} s` });
    };

    const payloadOf = (chunk: TtsStreamChunk): Float32Array | Buffer => {
      const audio = chunk.kind === "audio" ? ownedCopy(chunk.audio) : new Float32Array(0);
      return format === "s16le" ? floatToS16LE(audio) : audio;
    };

    const forget = (stream: OpenStream) => {
      if (streams.get(stream.id) === stream) streams.delete(stream.id);
      active.delete(stream);
    };

    const open = (id: string, msg: NodeMessage, engine: TtsEngine, send: Send): OpenStream => {
      const voice = typeof msg.voice === "string" && msg.voice !== "" ? msg.voice : settings.voice;
      const seed = typeof msg.seed === "number" && Number.isFinite(msg.seed) ? msg.seed : undefined;
      // msg.first_span_words (on the msg that opens the stream) overrides the node's setting.
      const firstSpanWords = typeof msg.first_span_words === "number" ? msg.first_span_words : settings.first_span_words;
      const streamer = engine.openStreamer({ ...settings, voice, seed, first_span_words: firstSpanWords });
      const stream = { id, streamer, input: baseMessage(msg), index: 0, audioSeconds: 0, finished: false } as OpenStream;
      streams.set(id, stream);
      active.add(stream);
      stream.subscription = streamer.output$.subscribe({
        next: (chunk) => {
          const out = chunkMessage(stream.input, chunk as unknown as ChunkLike, id, stream.index++, payloadOf(chunk));
          if (format === "s16le") out.encoding = "s16le";
          if (chunk.kind === "audio" && chunk.audio.length > 0) stream.audioSeconds += chunk.audio.length / chunk.sample_rate;
          send(out);
          if (!chunk.is_final) return showSpeaking(stream);
          forget(stream);
          if (chunk.kind === "cancelled") node.status({ fill: "yellow", shape: "ring", text: "cancelled" });
          else if (active.size === 0) node.status({ fill: "green", shape: "dot", text: `done · ${stream.audioSeconds.toFixed(1)} s` });
          stream.finishDone?.();
          stream.finishDone = undefined;
        },
        error: (err: Error) => {
          forget(stream);
          if (stream.finishDone) fail(err, stream.finishDone);
          else {
            node.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
            node.error(err, stream.input);
          }
          stream.finishDone = undefined;
        },
      });
      return stream;
    };

    const cancel = (msg: NodeMessage) => {
      const hasId = (typeof msg.stream_id === "string" && msg.stream_id !== "") || typeof msg.stream_id === "number";
      const targets = [...active].filter((s) => !hasId || s.id === String(msg.stream_id));
      // The stream emits its one cancelled chunk (sent downstream so audio-out stops too).
      for (const stream of targets) stream.streamer.cancel();
    };

    /** The stream `id`, opened on first use (the model may still be loading). */
    const streamFor = async (id: string, msg: NodeMessage, send: Send): Promise<OpenStream | undefined> => {
      const existing = streams.get(id);
      if (existing) return existing;
      const engine = await handle.get();
      if (closed) return undefined;
      return streams.get(id) ?? open(id, msg, engine, send);
    };

    const handleInput = async (msg: NodeMessage, send: Send, done: Done) => {
      if (msg.cancel === true || msg.kind === "cancelled") {
        cancel(msg);
        return done();
      }
      const flush = msg.flush === true;
      const payload = msg.payload;
      // Only a flush or an end-of-stream may come without text (an LLM's final chunk has payload "").
      const textOptional = flush || msg.is_final === true;
      if (typeof payload !== "string" && !(textOptional && (payload === undefined || payload === null))) {
        return fail(new Error(`msg.payload must be the text to speak (a string), got ${describe(payload)}`), done);
      }
      const text = typeof payload === "string" ? payload : "";
      const id = streamIdOf(msg);
      // A bare flush for a stream that is not open has nothing to speak.
      if (flush && text === "" && msg.is_final !== true && !streams.has(id)) return done();
      let stream: OpenStream | undefined;
      try {
        stream = await streamFor(id, msg, send);
      } catch (err) {
        return fail(err as Error, done);
      }
      if (!stream) return done();
      if (text !== "") stream.streamer.send(text);
      if (flush) stream.streamer.flush();
      // No is_final field: one whole text (unless it is a flush); is_final true: the end of the stream.
      const finishes = msg.is_final === true || (msg.is_final === undefined && !flush);
      if (!finishes) return done();
      stream.finished = true;
      // Text for this id from now on opens a new stream; this one speaks its rest.
      if (streams.get(id) === stream) streams.delete(id);
      stream.finishDone = done;
      stream.streamer.finish();
    };

    node.on("input", (msg: NodeMessage, send: Send, done: Done) => {
      // One input at a time, in arrival order: a delta never overtakes the one before it while the model loads.
      queue = queue.then(() => handleInput(msg, send, done)).catch((err: Error) => fail(err, done));
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true;
      for (const stream of active) {
        // Unsubscribe first: the cancelled chunk must not go out from a node being closed.
        stream.subscription.unsubscribe();
        stream.streamer.cancel();
        stream.finishDone?.();
      }
      streams.clear();
      active.clear();
      handle.detach().then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType("tts-streamer", TtsStreamerNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
