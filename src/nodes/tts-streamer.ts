/**
 * tts-streamer: speaks text as it arrives (PROTOCOL §2). Text comes whole (a msg without
 * `is_final`) or as deltas of an open stream (`is_final: false`, then `is_final: true` to finish),
 * so llm-stream's output can be wired straight in. Each audio chunk goes out as one msg
 * (payload = Float32Array, or a Buffer of s16le), the stream's final chunk last.
 * `msg.flush` speaks the buffered fragment now; `msg.cancel === true` or a cancelled chunk
 * (`msg.kind === "cancelled"`) stops the stream and discards pending audio.
 */
import type { Node, NodeAPI } from "node-red";
import type { Subscription } from "rxjs";
import type { TtsEngine, TtsStreamChunk, TtsStreamConfig, TtsStreamer } from "../core/types";
import { floatToS16LE } from "../core/audio/pcm";
import { startModelNode, type Done, type ModelNodeDef, type Send } from "./shared/node-runtime";
import { readSettings } from "./shared/settings";
import { chunkMessage, isCancel, ownedCopy, streamIdOf, without, type ChunkLike, type NodeMessage } from "./shared/stream-msg";
import { TTS_SETTINGS, type TtsNodeSettings as Settings } from "./tts-settings";

interface OpenStream {
  id: string;
  streamer: TtsStreamer;
  subscription?: Subscription;
  /** The msg that opened the stream: its properties (topic, ...) ride on every output. */
  input: NodeMessage;
  index: number;
  audioSeconds: number;
  /** done() of the msg that finished the stream: called when the final chunk is out. */
  waiting: Done[];
  stop(): void;
  cancel(): void;
}

/** Fields an upstream llm-stream chunk brings that must not masquerade as this node's chunk fields. */
const UPSTREAM_CHUNK_FIELDS = [
  "kind", "delta", "index", "token_ids", "is_final", "text", "finish_reason", "time_to_first_token", "total_seconds",
  "prompt_tokens", "cached_prompt_tokens", "token_counts", "generated_tokens", "tokens_per_second",
];

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Buffer.isBuffer(value)) return "a Buffer";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

module.exports = function register(RED: NodeAPI) {
  function TtsStreamerNode(this: Node, config: ModelNodeDef) {
    const node = this;
    const { rt, handle } = startModelNode<OpenStream, TtsEngine>(RED, this, config, "tts");

    const payloadOf = (chunk: TtsStreamChunk, format: Settings["format"]): Float32Array | Buffer => {
      const audio = chunk.kind === "audio" ? ownedCopy(chunk.audio) : new Float32Array(0);
      return format === "s16le" ? floatToS16LE(audio) : audio;
    };

    const ended = (stream: OpenStream, chunk: TtsStreamChunk) => {
      rt.streams.end(stream);
      if (chunk.kind === "cancelled") rt.status.show({ fill: "yellow", shape: "ring", text: "cancelled" });
      else if (rt.streams.size === 0) rt.status.show({ fill: "green", shape: "dot", text: `done · ${stream.audioSeconds.toFixed(1)} s` });
      for (const done of stream.waiting.splice(0)) done();
    };

    const open = (id: string, msg: NodeMessage, engine: TtsEngine, send: Send): OpenStream => {
      const { format, ...settings } = readSettings<Settings>(TTS_SETTINGS, config, msg);
      const streamer = engine.openStreamer(settings);
      const stream: OpenStream = {
        id, streamer, input: without(msg, UPSTREAM_CHUNK_FIELDS), index: 0, audioSeconds: 0, waiting: [],
        stop: () => stream.subscription?.unsubscribe(),
        cancel: () => streamer.cancel(),
      };
      rt.streams.add(stream);
      stream.subscription = streamer.output$.subscribe({
        next: (chunk) => {
          const out = chunkMessage(stream.input, chunk as unknown as ChunkLike, id, stream.index++, payloadOf(chunk, format));
          if (format === "s16le") out.encoding = "s16le";
          if (chunk.kind === "audio" && chunk.audio.length > 0) stream.audioSeconds += chunk.audio.length / chunk.sample_rate;
          send(out);
          if (chunk.is_final) return ended(stream, chunk);
          const more = rt.streams.size > 1 ? ` ×${rt.streams.size}` : "";
          rt.status.progress(() => ({ fill: "blue", shape: "dot", text: `speaking${more} · ${stream.audioSeconds.toFixed(1)} s` }));
        },
        error: (err: Error) => {
          rt.streams.end(stream);
          const waiting = stream.waiting.splice(0);
          if (waiting.length === 0) rt.fail(err, undefined, stream.input);
          for (const done of waiting) rt.fail(err, done);
        },
      });
      return stream;
    };

    rt.onInput(async (msg, send, done) => {
      if (isCancel(msg)) {
        // Each stream emits its one cancelled chunk (sent downstream so audio-out stops too).
        rt.cancel(msg);
        return done();
      }
      const flush = msg.flush === true;
      const payload = msg.payload;
      // Only a flush or an end-of-stream may come without text (an LLM's final chunk has payload "").
      const textOptional = flush || msg.is_final === true;
      if (typeof payload !== "string" && !(textOptional && (payload === undefined || payload === null))) {
        return rt.fail(new Error(`msg.payload must be the text to speak (a string), got ${describe(payload)}`), done);
      }
      const text = typeof payload === "string" ? payload : "";
      const id = streamIdOf(msg);
      // No is_final field: one whole text (unless it is a flush); is_final true: the end of the stream.
      const finishes = msg.is_final === true || (msg.is_final === undefined && !flush);
      let stream = rt.streams.get(id);
      // A control for a stream that is finishing or over never reopens it: no second final.
      if (!stream && text === "" && rt.streams.isLate(id)) {
        node.warn(`stream '${id}' has already finished; its late ${finishes ? "is_final" : "flush"} was ignored`);
        return done();
      }
      // A bare flush for a stream that is not open has nothing to speak.
      if (!stream && text === "" && flush && !finishes) return done();
      // A stream whose model failed had its one error; the rest of its input is dropped until its end.
      if (!stream && rt.streams.hasFailed(id)) {
        if (finishes) rt.streams.clearFailed(id);
        return done();
      }
      if (!stream) {
        let engine: TtsEngine;
        try {
          engine = await handle.get();
        } catch (err) {
          if (!finishes) rt.streams.markFailed(id);
          return rt.fail(err, done);
        }
        if (rt.closed) return done();
        stream = open(id, msg, engine, send);
      }
      if (text !== "") stream.streamer.send(text);
      if (flush) stream.streamer.flush();
      if (!finishes) return done();
      // Text for this id from now on opens a new stream; this one speaks its rest.
      rt.streams.finish(stream);
      stream.waiting.push(done);
      stream.streamer.finish();
    }, true);
  }

  RED.nodes.registerType("tts-streamer", TtsStreamerNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
