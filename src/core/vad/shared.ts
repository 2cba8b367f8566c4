/**
 * One process-wide built-in Silero VAD session, loaded on first use, for features that need
 * pause detection without a VAD model of their own (whisper-streamer's "auto flush at pauses").
 * Each stream still gets its own detector state.
 */
import * as ort from "onnxruntime-node";
import { builtinVadPath } from "./builtin";
import { SileroVadEngine } from "./silero-engine";

let shared: Promise<SileroVadEngine> | undefined;

export function builtinVad(): Promise<SileroVadEngine> {
  shared ??= (async () => {
    const file = builtinVadPath();
    const session = await ort.InferenceSession.create(file, { executionProviders: ["cpu"], intraOpNumThreads: 1 });
    return new SileroVadEngine(session, file);
  })().catch((err) => {
    shared = undefined;
    throw err;
  });
  return shared;
}
