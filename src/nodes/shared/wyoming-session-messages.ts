/**
 * One Wyoming session as flow messages that share its `stream_id` (PROTOCOL §7):
 *   transcribe + audio → audio frames (Float32Array + sample_rate), then `finish: true`;
 *   synthesize → one whole text; synthesize-start/-chunk/-stop → deltas (`is_final: false`,
 *   then `is_final: true`); detect + audio → frames. A client that goes away sends `cancel: true`.
 */
import type { WyomingSession } from "../../core/wyoming/session";
import type { NodeMessage } from "./stream-msg";

/** After a detect's audio-stop, how long the flow may still report a detection before not-detected goes out. */
const DETECT_SETTLE_MS = 500;

/** Sends the session's messages with `out`; `closing()` true means the node is going away (no cancel messages then). */
export function forwardSession(session: WyomingSession, out: (msg: NodeMessage) => void, closing: () => boolean): void {
  const request = session.request;
  const wyoming: Record<string, unknown> =
    request.type === "transcribe"
      ? { type: "transcribe", language: request.language, name: request.name, client: session.options.remote }
      : request.type === "synthesize"
        ? { type: "synthesize", voice: request.voice, streaming: request.streaming, client: session.options.remote }
        : { type: "detect", names: request.names, client: session.options.remote };
  const base = (): NodeMessage => ({ stream_id: session.id, topic: request.type, wyoming: { ...wyoming } });
  session.input$.subscribe((input) => {
    switch (input.kind) {
      case "audio":
        return out({ ...base(), payload: input.samples, sample_rate: input.rate });
      case "text": {
        const msg: NodeMessage = { ...base(), payload: input.text };
        if (request.type === "synthesize" && request.voice?.name) msg.voice = request.voice.name;
        // A plain synthesize is one whole text (no is_final); a streamed chunk is a delta.
        if (request.type === "synthesize" && request.streaming) msg.is_final = false;
        return out(msg);
      }
      case "end":
        if (request.type === "synthesize") {
          if (request.streaming) out({ ...base(), payload: "", is_final: true, ...(request.voice?.name ? { voice: request.voice.name } : {}) });
        } else {
          out({ ...base(), finish: true });
          if (request.type === "detect") setTimeout(() => session.detectEnd(), DETECT_SETTLE_MS).unref();
        }
        return;
      case "cancel":
        // The flow stops working on it: whisper-streamer and tts-streamer take cancel with the stream_id.
        if (!closing()) out({ ...base(), cancel: true, reason: input.reason });
        return;
    }
  });
}
