/**
 * llm-stream: streams an LLM's answer token by token (PROTOCOL §2).
 * Output 1: one msg per chunk (payload = delta, chunk fields, stream_id, parts), the final
 * chunk last. Output 2: one msg with the whole text and the metrics when the stream ends.
 * `msg.cancel === true` cancels `msg.stream_id` (every stream when absent). A prompt with
 * the id of a stream still running is refused: one stream_id, one answer.
 */
import type { Node, NodeAPI } from "node-red";
import { Subject, type Subscription } from "rxjs";
import type { ChatMessage, LlmEngine, LlmRequest, LlmStreamChunk } from "../core/types";
import { LLM_NUMBER_CHECKS, numberHint } from "../core/llm/llm-request";
import { startModelNode, type Done, type ModelNodeDef, type Send } from "./shared/node-runtime";
import { readSettings, type Setting } from "./shared/settings";
import { CONTROL_FIELDS, chunkMessage, streamIdOf, without, type ChunkLike, type NodeMessage } from "./shared/stream-msg";

interface ActiveStream {
  id: string;
  cancel$: Subject<void>;
  subscription?: Subscription;
  waiting: Done[];
  startedAt: number;
  tokens: number;
  stop(): void;
  cancel(): void;
}

/** The node's settings; each msg property of the same name overrides it for one prompt. */
// Ranges are checked by the core (llm-request.ts); a value that is no number at all is caught here, worded the same.
const SETTINGS: readonly Setting[] = [
  { key: "system", editor: "system", msg: "system", type: "text" },
  { key: "max_new_tokens", editor: "maxNewTokens", msg: "max_new_tokens", type: "number", expects: numberHint(LLM_NUMBER_CHECKS.max_new_tokens) },
  { key: "temperature", editor: "temperature", msg: "temperature", type: "number", expects: numberHint(LLM_NUMBER_CHECKS.temperature) },
  { key: "top_k", editor: "topK", msg: "top_k", type: "number", expects: numberHint(LLM_NUMBER_CHECKS.top_k) },
  { key: "top_p", editor: "topP", msg: "top_p", type: "number", expects: numberHint(LLM_NUMBER_CHECKS.top_p) },
  { key: "seed", editor: "seed", msg: "seed", type: "number", expects: numberHint(LLM_NUMBER_CHECKS.seed) },
  { key: "repetition_penalty", msg: "repetition_penalty", type: "number", expects: numberHint(LLM_NUMBER_CHECKS.repetition_penalty) },
  { key: "stop_sequences", editor: "stop", msg: "stop_sequences", type: "lines" },
  { key: "enable_thinking", editor: "thinking", msg: "enable_thinking", type: "boolean" },
  { key: "raw", msg: "raw", type: "boolean" },
];

/** Fields of the final chunk that travel on output 2 (no delta/index/parts: it is one whole text). */
const SUMMARY_FIELDS = ["text", "finish_reason", "time_to_first_token", "total_seconds", "prompt_tokens", "generated_tokens", "tokens_per_second"] as const;

/** LLM chunks are plain records of wire fields. */
const asChunk = (chunk: LlmStreamChunk) => chunk as unknown as ChunkLike;

/** The request for `msg`: the payload is the prompt; msg fields override the node's settings. */
function requestFromMsg(msg: NodeMessage, config: object): LlmRequest {
  const payload = msg.payload;
  let prompt: string | ChatMessage[];
  if (typeof payload === "string") prompt = payload;
  else if (Array.isArray(payload)) prompt = payload as ChatMessage[];
  else {
    const got = payload === null ? "null" : payload === undefined ? "nothing" : typeof payload;
    throw new Error(`msg.payload must be the prompt text or an array of {role, content} messages, got ${got}`);
  }
  return { prompt, ...readSettings<Omit<LlmRequest, "prompt">>(SETTINGS, config, msg) };
}

module.exports = function register(RED: NodeAPI) {
  function LlmStreamNode(this: Node, config: ModelNodeDef) {
    const { rt, handle } = startModelNode<ActiveStream, LlmEngine>(RED, this, config, "llm", { statusIntervalMs: 500 });

    const ended = (stream: ActiveStream, err?: Error) => {
      rt.streams.end(stream);
      for (const done of stream.waiting.splice(0)) (err ? rt.fail(err, done) : done());
    };

    const finish = (stream: ActiveStream, input: NodeMessage, chunk: LlmStreamChunk, send: Send) => {
      const summary = without(input, CONTROL_FIELDS);
      for (const field of SUMMARY_FIELDS) if (chunk[field] !== undefined) summary[field] = chunk[field];
      summary.payload = chunk.text ?? "";
      summary.stream_id = stream.id;
      send([chunkMessage(input, asChunk(chunk), stream.id, chunk.index ?? 0, chunk.delta ?? ""), summary]);
      rt.streams.end(stream);
      if (chunk.kind === "cancelled") {
        rt.status.show({ fill: "yellow", shape: "ring", text: `cancelled · ${chunk.generated_tokens ?? 0} tokens` });
      } else if (rt.streams.size === 0) {
        rt.status.show({ fill: "green", shape: "dot", text: `done · ${chunk.generated_tokens ?? 0} tokens` });
      }
      ended(stream);
    };

    const progress = (stream: ActiveStream) => () => {
      const seconds = (Date.now() - stream.startedAt) / 1000;
      const rate = seconds > 0 ? Math.round(stream.tokens / seconds) : 0;
      const count = rt.streams.size;
      return { fill: "blue" as const, shape: "dot" as const, text: `streaming${count > 1 ? ` ×${count}` : ""} · ${rate} tok/s` };
    };

    const start = async (msg: NodeMessage, send: Send, done: Done) => {
      const request = requestFromMsg(msg, config);
      const id = streamIdOf(msg);
      if (rt.streams.get(id)) throw new Error(`stream '${id}' is still running; cancel it first (msg.cancel) or give the prompt another stream_id`);
      const stream: ActiveStream = {
        id, cancel$: new Subject<void>(), waiting: [done], startedAt: Date.now(), tokens: 0,
        stop: () => stream.subscription?.unsubscribe(),
        // Still waiting for the model: it ends here with nothing generated.
        cancel: () => (stream.subscription ? stream.cancel$.next() : ended(stream)),
      };
      rt.streams.add(stream);
      let engine: LlmEngine;
      try {
        engine = await handle.get();
      } catch (err) {
        return ended(stream, err as Error);
      }
      // Cancelled or redeployed while the model was still loading: its input is already complete.
      if (rt.closed || rt.streams.get(id) !== stream) return;
      stream.subscription = engine.generate(request, { cancel$: stream.cancel$ }).subscribe({
        next: (chunk) => {
          if (chunk.is_final) return finish(stream, msg, chunk, send);
          stream.tokens += chunk.token_ids?.length ?? 0;
          send([chunkMessage(msg, asChunk(chunk), stream.id, chunk.index, chunk.delta), null]);
          rt.status.progress(progress(stream));
        },
        error: (err: Error) => ended(stream, err),
      });
    };

    rt.onInput((msg, send, done) => {
      if (msg.cancel !== true) return start(msg, send, done);
      rt.cancel(msg);
      done();
    });
  }

  RED.nodes.registerType("llm-stream", LlmStreamNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
