/**
 * Turning core chunks into Node-RED messages, the same way for every node (PROTOCOL §2):
 * chunk fields copied onto msg as-is, `payload` the primary content, `stream_id` on every
 * output of a stream, and `parts` so the core join node can reassemble it.
 */
import { randomUUID } from "crypto";

export type NodeMessage = Record<string, unknown> & { _msgid?: string };

/** The msg's stream_id when it has a usable one, else a new id. */
export function streamIdOf(msg: NodeMessage): string {
  const id = msg.stream_id;
  if (typeof id === "string" && id !== "") return id;
  if (typeof id === "number" && Number.isFinite(id)) return String(id);
  return randomUUID();
}

export interface ChunkLike {
  is_final: boolean;
  [field: string]: unknown;
}

/**
 * The outgoing msg for `chunk`: the input msg's own properties (topic etc.) minus those
 * that would confuse downstream nodes, then every chunk field, then payload/stream_id/parts.
 * `index` is the chunk's position in the stream; on the final chunk `parts.count` is set.
 */
export function chunkMessage(
  input: NodeMessage,
  chunk: ChunkLike,
  streamId: string,
  index: number,
  payload: unknown,
): NodeMessage {
  const msg: NodeMessage = { ...input };
  // Control flags of the input must not travel on, or the next node would act on them again.
  for (const control of ["cancel", "flush", "finish", "pause", "resume", "parts"]) delete msg[control];
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
