/**
 * The messages a voice page shows or plays, routed to its VoiceTurns (src/core/browser):
 * whisper-streamer captions (partial / final), llm-stream text as it streams, tts-streamer
 * audio (with the text it speaks), a state (listening / thinking / speaking), or a plain text
 * shown as a whole answer. Each goes to the page of its turn (by stream_id) or msg.voice_session.
 */
import { toFloat32 } from "../../core/audio/pcm";
import type { VoiceTurns } from "../../core/browser/voice-turns";
import { sessionOf } from "./browser-mic-control";
import { hasStreamId, type NodeMessage } from "./stream-msg";

/** Rate assumed for audio without msg.sample_rate (the rate the TTS engines speak at). */
export const PLAYBACK_RATE = 24000;

const textOf = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Routes `msg` to `turns`; throws with what the node takes when it is none of those. */
export function routeToTurns(turns: VoiceTurns, msg: NodeMessage, node: string): void {
  const streamId = hasStreamId(msg) ? String(msg.stream_id) : undefined;
  const session = sessionOf(msg);
  if (typeof msg.state === "string") turns.state(msg.state, streamId, session);
  if (msg.kind === "partial" || msg.kind === "final") {
    return turns.caption(streamId, textOf(msg.text) ?? String(msg.payload ?? ""), msg.kind === "final", session);
  }
  if (msg.kind === "text") {
    const final = msg.is_final === true;
    const delta = textOf(msg.delta) ?? textOf(msg.payload) ?? "";
    return turns.answer(streamId, { delta, text: final ? textOf(msg.text) : undefined, final }, session);
  }
  const isAudio = msg.kind === "audio" || (msg.payload !== undefined && typeof msg.payload !== "string" && msg.sample_rate !== undefined);
  if (isAudio) {
    const rate = Number(msg.sample_rate ?? PLAYBACK_RATE);
    if (!Number.isInteger(rate) || rate < 1000 || rate > 384000) throw new Error(`${node}: msg.sample_rate must be a whole number of Hz, got ${JSON.stringify(msg.sample_rate)}`);
    const empty = msg.payload === undefined || msg.payload === null || (ArrayBuffer.isView(msg.payload) && (msg.payload as Float32Array).length === 0);
    const samples = empty ? undefined : toFloat32(msg.payload, "msg.payload");
    return turns.play(streamId ?? "default", samples, rate, { text: textOf(msg.text), final: msg.is_final === true, session });
  }
  // A plain text: shown as the answer (a whole one).
  if (typeof msg.payload === "string" && msg.state === undefined) return turns.answer(streamId, { text: msg.payload, final: true }, session);
  if (msg.state === undefined) throw new Error(`${node}: expected whisper-streamer captions, llm-stream text, tts-streamer audio, a state, or "start"/"stop"`);
}
