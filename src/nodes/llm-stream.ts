/**
 * llm-stream: streams an LLM's answer token by token (PROTOCOL §2).
 * Output 1: one msg per chunk (payload = delta, chunk fields, stream_id, parts), the final
 * chunk last. Output 2: one msg with the whole text and the metrics when the stream ends.
 * `msg.cancel === true` cancels `msg.stream_id` (every stream when absent).
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import { Subject, type Subscription } from "rxjs";
import type { ChatMessage, LlmEngine, LlmRequest, LlmStreamChunk } from "../core/types";
import { attachModel } from "./shared/model-client";
import { chunkMessage, streamIdOf, type ChunkLike, type NodeMessage } from "./shared/stream-msg";

interface LlmStreamNodeDef extends NodeDef {
  model?: string;
  system?: string;
  maxNewTokens?: string | number;
  temperature?: string | number;
  topK?: string | number;
  topP?: string | number;
  seed?: string | number;
  stop?: string;
  thinking?: boolean;
}

type Send = (msg: NodeMessage | (NodeMessage | null)[]) => void;
type Done = (err?: Error) => void;

interface ActiveStream {
  id: string;
  cancel$: Subject<void>;
  subscription?: Subscription;
  done: Done;
  startedAt: number;
  tokens: number;
}

/** Fields of the final chunk that travel on output 2 (no delta/index/parts: it is one whole text). */
const SUMMARY_FIELDS = [
  "text",
  "finish_reason",
  "time_to_first_token",
  "total_seconds",
  "prompt_tokens",
  "generated_tokens",
  "tokens_per_second",
] as const;

const STATUS_INTERVAL_MS = 500;

/** LLM chunks are plain records of wire fields. */
const asChunk = (chunk: LlmStreamChunk) => chunk as unknown as ChunkLike;

/** An editor field: "" means "the model's default". */
function setting(value: string | number | undefined): number | undefined {
  if (value === undefined || value === null || String(value).trim() === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : NaN;
}

/** One stop sequence per line; "\n" and "\t" written out stand for the characters. */
function parseStopSequences(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .split(/\r?\n/)
    .filter((line) => line !== "")
    .map((line) => line.replace(/\\n/g, "\n").replace(/\\t/g, "\t"));
}

type NumericField = "max_new_tokens" | "temperature" | "top_k" | "top_p" | "seed" | "repetition_penalty";

/** The request for `msg`: the payload is the prompt; msg fields override the node's settings. */
function requestFromMsg(msg: NodeMessage, defaults: Omit<LlmRequest, "prompt">): LlmRequest {
  const payload = msg.payload;
  let prompt: string | ChatMessage[];
  if (typeof payload === "string") prompt = payload;
  else if (Array.isArray(payload)) prompt = payload as ChatMessage[];
  else {
    const got = payload === null ? "null" : payload === undefined ? "nothing" : typeof payload;
    throw new Error(`msg.payload must be the prompt text or an array of {role, content} messages, got ${got}`);
  }
  const override = <K extends keyof LlmRequest>(key: K): LlmRequest[K] =>
    msg[key] !== undefined && msg[key] !== null ? (msg[key] as LlmRequest[K]) : (defaults[key as keyof typeof defaults] as LlmRequest[K]);
  // Numbers typed into a change node arrive as strings: "0.7" is accepted, "hot" is left for the engine to reject.
  const numeric = <K extends NumericField>(key: K): number | undefined => {
    const value = override(key) as unknown;
    return typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : (value as number | undefined);
  };
  return {
    prompt,
    system: override("system"),
    max_new_tokens: numeric("max_new_tokens"),
    temperature: numeric("temperature"),
    top_k: numeric("top_k"),
    top_p: numeric("top_p"),
    seed: numeric("seed"),
    stop_sequences: override("stop_sequences"),
    enable_thinking: override("enable_thinking"),
    repetition_penalty: numeric("repetition_penalty"),
    raw: override("raw"),
  };
}

module.exports = function register(RED: NodeAPI) {
  function LlmStreamNode(this: Node, config: LlmStreamNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const handle = attachModel<LlmEngine>(RED, node, config.model, "llm");
    const streams = new Map<string, Set<ActiveStream>>();
    const defaults: Omit<LlmRequest, "prompt"> = {
      system: config.system || undefined,
      max_new_tokens: setting(config.maxNewTokens),
      temperature: setting(config.temperature),
      top_k: setting(config.topK),
      top_p: setting(config.topP),
      seed: setting(config.seed),
      stop_sequences: parseStopSequences(config.stop),
      enable_thinking: config.thinking === true,
    };
    let lastStatus = 0;
    let closed = false;

    const all = () => [...streams.values()].flatMap((set) => [...set]);
    const forget = (stream: ActiveStream) => {
      const set = streams.get(stream.id);
      set?.delete(stream);
      if (set && set.size === 0) streams.delete(stream.id);
    };
    const fail = (err: Error, done: Done) => {
      node.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
      done(err);
    };

    const showProgress = (stream: ActiveStream) => {
      const now = Date.now();
      if (now - lastStatus < STATUS_INTERVAL_MS) return;
      lastStatus = now;
      const seconds = (now - stream.startedAt) / 1000;
      const rate = seconds > 0 ? Math.round(stream.tokens / seconds) : 0;
      const count = all().length;
      node.status({ fill: "blue", shape: "dot", text: `streaming${count > 1 ? ` ×${count}` : ""} · ${rate} tok/s` });
    };

    const finish = (stream: ActiveStream, input: NodeMessage, chunk: LlmStreamChunk, send: Send) => {
      const summary: NodeMessage = { ...input };
      for (const control of ["cancel", "flush", "finish", "pause", "resume", "parts"]) delete summary[control];
      for (const field of SUMMARY_FIELDS) if (chunk[field] !== undefined) summary[field] = chunk[field];
      summary.payload = chunk.text ?? "";
      summary.stream_id = stream.id;
      send([chunkMessage(input, asChunk(chunk), stream.id, chunk.index ?? 0, chunk.delta ?? ""), summary]);
      forget(stream);
      if (chunk.kind === "cancelled") {
        node.status({ fill: "yellow", shape: "ring", text: `cancelled · ${chunk.generated_tokens ?? 0} tokens` });
      } else if (all().length === 0) {
        node.status({ fill: "green", shape: "dot", text: `done · ${chunk.generated_tokens ?? 0} tokens` });
      }
      stream.done();
    };

    const start = async (msg: NodeMessage, send: Send, done: Done) => {
      let request: LlmRequest;
      try {
        request = requestFromMsg(msg, defaults);
      } catch (err) {
        return fail(err as Error, done);
      }
      const stream: ActiveStream = { id: streamIdOf(msg), cancel$: new Subject<void>(), done, startedAt: Date.now(), tokens: 0 };
      if (!streams.has(stream.id)) streams.set(stream.id, new Set());
      streams.get(stream.id)!.add(stream);

      let engine: LlmEngine;
      try {
        engine = await handle.get();
      } catch (err) {
        forget(stream);
        return fail(err as Error, done);
      }
      // Cancelled or redeployed while the model was still loading: nothing was generated.
      if (closed || !streams.get(stream.id)?.has(stream)) return done();

      stream.subscription = engine.generate(request, { cancel$: stream.cancel$ }).subscribe({
        next: (chunk) => {
          if (chunk.is_final) return finish(stream, msg, chunk, send);
          stream.tokens += chunk.token_ids?.length ?? 0;
          send([chunkMessage(msg, asChunk(chunk), stream.id, chunk.index, chunk.delta), null]);
          showProgress(stream);
        },
        error: (err: Error) => {
          forget(stream);
          fail(err, done);
        },
      });
    };

    node.on("input", (msg: NodeMessage, send: Send, done: Done) => {
      if (msg.cancel === true) {
        const hasId = (typeof msg.stream_id === "string" && msg.stream_id !== "") || typeof msg.stream_id === "number";
        const targets = hasId ? [...(streams.get(String(msg.stream_id)) ?? [])] : all();
        for (const stream of targets) {
          if (stream.subscription) stream.cancel$.next();
          else {
            // Still waiting for the model: end it here with nothing generated.
            forget(stream);
            stream.done();
          }
        }
        return done();
      }
      void start(msg, send, done);
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true;
      // Unsubscribing stops each generation within one decode step; no message goes out after close.
      for (const stream of all()) {
        stream.subscription?.unsubscribe();
        stream.done();
      }
      streams.clear();
      handle.detach().then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType("llm-stream", LlmStreamNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
