/**
 * wyoming-out: sends the flow's answer back on the Wyoming session of `msg.stream_id`
 * (PROTOCOL §7), like http response. whisper-streamer partials → transcript-chunk, its
 * final → transcript; tts-streamer chunks → audio-start, audio-chunk (s16le), audio-stop
 * (+ synthesize-stopped for a streaming session); wake-word events → detection; a cancelled
 * chunk or a Catch node's msg.error → an error event for the client. A msg for a stream with
 * no open session: one warning per stream, then dropped.
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import { toFloat32 } from "../core/audio/pcm";
import type { WyomingSession } from "../core/wyoming/session";
import { findSession, firstWarning } from "./shared/wyoming-sessions";
import type { NodeMessage } from "./shared/stream-msg";

type Done = (err?: Error) => void;

function messageOf(error: unknown): string {
  if (error && typeof error === "object" && typeof (error as { message?: unknown }).message === "string") return (error as { message: string }).message;
  return String(error);
}

module.exports = function register(RED: NodeAPI) {
  function WyomingOutNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let answered = 0;

    const warnOnce = (streamId: string, text: string) => {
      if (firstWarning(`${node.id}:${streamId}`)) node.warn(text);
    };

    /** Answers `session` from `msg`; returns a sentence when the msg does not fit the session. */
    const answer = (session: WyomingSession, msg: NodeMessage): string | undefined => {
      if (msg.error !== undefined) {
        session.fail(`the flow failed: ${messageOf(msg.error)}`, "flow-error");
        return undefined;
      }
      if (msg.kind === "cancelled") {
        session.fail("the flow cancelled this request", "cancelled");
        return undefined;
      }
      const type = session.request.type;
      if (type === "transcribe") {
        if (msg.kind === "partial") {
          session.transcriptChunk(typeof msg.delta === "string" ? msg.delta : "");
          return undefined;
        }
        if (msg.kind === "final" || (msg.kind === undefined && typeof msg.payload === "string")) {
          const text = typeof msg.text === "string" ? msg.text : String(msg.payload ?? "");
          session.transcript(text, typeof msg.language === "string" && msg.language ? msg.language : undefined);
          return undefined;
        }
        return `a transcribe session takes whisper-streamer output (kind partial or final), not kind ${String(msg.kind)}`;
      }
      if (type === "synthesize") {
        if (msg.kind !== "audio" && msg.kind !== undefined) return `a synthesize session takes tts-streamer audio (kind audio), not kind ${String(msg.kind)}`;
        const rate = Number(msg.sample_rate);
        if (!Number.isInteger(rate) || rate <= 0) return "audio for a synthesize session needs msg.sample_rate (a whole number of Hz)";
        if (msg.payload !== undefined && msg.payload !== null) {
          const samples = toFloat32(msg.payload, "msg.payload");
          if (samples.length > 0) session.audio(samples, rate);
        }
        if (msg.is_final === true) session.audioEnd(rate);
        return undefined;
      }
      if (msg.kind === "wake") {
        const seconds = Number(msg.audio_seconds);
        session.detection(String(msg.name ?? msg.payload ?? ""), Number.isFinite(seconds) ? seconds * 1000 : undefined);
        return undefined;
      }
      return `a detect session takes wake-word events (kind wake), not kind ${String(msg.kind)}`;
    };

    node.on("input", (msg: NodeMessage, _send: unknown, done: Done) => {
      const streamId = msg.stream_id === undefined ? "" : String(msg.stream_id);
      const session = findSession(msg.stream_id);
      if (!session) {
        // A cancelled final after the client left is the expected echo of its own cancel.
        if (msg.kind !== "cancelled" && msg.cancel !== true) {
          warnOnce(streamId, streamId ? `no open Wyoming session for stream_id '${streamId}' (the client left, or it was answered already); message dropped` : "msg.stream_id is missing: wyoming out answers the session of the stream_id that wyoming in gave; message dropped");
        }
        return done();
      }
      let mismatch: string | undefined;
      try {
        mismatch = answer(session, msg);
      } catch (err) {
        session.fail(`the flow's answer could not be sent: ${(err as Error).message}`, "flow-error");
        node.status({ fill: "red", shape: "ring", text: (err as Error).message.slice(0, 60) });
        return done(err as Error);
      }
      if (mismatch) warnOnce(streamId, `${mismatch}; message dropped`);
      if (session.closed) {
        answered += 1;
        node.status({ fill: "green", shape: "dot", text: `answered ${answered}` });
      }
      done();
    });
  }

  RED.nodes.registerType("wyoming-out", WyomingOutNode);
};
