/**
 * Worker-thread entry that owns one Whisper model (see worker-protocol.ts for why). The shared
 * serveModel does the plumbing; this loads the model exactly as the in-process loader does and
 * answers decode calls one at a time in the order they came (as the in-process model does for one
 * streamer); a cancel aborts that decode between decoder steps.
 */
import { serveModel } from "../../../onnx/worker/serve-model";
import { loadWhisperModel } from "./load-whisper";
import type { WhisperModel } from "./whisper-model";
import type { WhisperCall, WhisperInfo, WhisperReply } from "./worker-protocol";

serveModel<WhisperModel, WhisperCall, WhisperReply, never, WhisperInfo>({
  name: "the Whisper worker",
  load: (ctx) => loadWhisperModel(ctx),
  info: (model) => ({ settings: model.settings, sampleRate: model.sampleRate, windowSeconds: model.windowSeconds }),
  answer: async (model, { audio, options }, signal) => {
    // A decode cancelled while it waited never starts (the encoder alone is a long run).
    if (signal.aborted) throw new Error("the decode was aborted");
    return { value: await model.decode(audio, { ...options, signal }) };
  },
  release: (model) => model.release(),
});
