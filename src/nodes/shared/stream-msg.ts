/**
 * Turning core chunks into Node-RED messages, the same way for every node (PROTOCOL §2):
 * chunk fields copied onto msg as-is, `payload` the primary content, `stream_id` on every
 * output of a stream, and `parts` so the core join node can reassemble it.
 */
import { randomUUID } from "crypto";

export type NodeMessage = Record<string, unknown> & { _msgid?: string };

/** Control flags of an input: they must not travel on, or the next node would act on them again. */
export const CONTROL_FIELDS = ["cancel", "flush", "finish", "pause", "resume", "parts"] as const;

/** Whether the msg names a stream (a non-empty string or a finite number). */
export function hasStreamId(msg: NodeMessage): boolean {
  const id = msg.stream_id;
  return (typeof id === "string" && id !== "") || (typeof id === "number" && Number.isFinite(id));
}

/** The msg's stream_id when it has a usable one, else a new id. */
export function streamIdOf(msg: NodeMessage): string {
  return hasStreamId(msg) ? String(msg.stream_id) : randomUUID();
}

/** `msg.cancel === true`, or the cancelled final of an upstream stream. */
export function isCancel(msg: NodeMessage): boolean {
  return msg.cancel === true || msg.kind === "cancelled";
}

/** A copy of `msg` without `fields` (what describes the input, not the outputs). */
export function without(msg: NodeMessage, fields: readonly string[]): NodeMessage {
  const out: NodeMessage = { ...msg };
  for (const field of fields) delete out[field];
  return out;
}

export interface ChunkLike {
  is_final: boolean;
  [field: string]: unknown;
}

/**
 * The outgoing msg for `chunk`: the input msg's own properties (topic etc.) minus the
 * control flags, then every chunk field, then payload/stream_id/parts.
 * `index` is the chunk's position in the stream; on the final chunk `parts.count` is set.
 */
export function chunkMessage(input: NodeMessage, chunk: ChunkLike, streamId: string, index: number, payload: unknown): NodeMessage {
  const msg = without(input, CONTROL_FIELDS);
  Object.assign(msg, chunk);
  msg.payload = payload;
  msg.stream_id = streamId;
  msg.parts = chunk.is_final ? { id: streamId, index, count: index + 1 } : { id: streamId, index };
  return msg;
}

/** A copy that owns its samples: Node-RED deep-clones on fan-out and must not share a larger buffer. */
export function ownedCopy(samples: Float32Array): Float32Array {
  return samples.byteOffset === 0 && samples.byteLength === samples.buffer.byteLength ? samples : samples.slice();
}

/** A "start" / "stop" command: msg.start === true (msg.stop), or msg.payload "start" ("stop"). */
export function isControl(msg: NodeMessage, word: "start" | "stop"): boolean {
  return msg[word] === true || (typeof msg.payload === "string" && msg.payload.trim().toLowerCase() === word);
}
