/**
 * One process-wide built-in Silero VAD, loaded on first use, for features that need pause
 * detection without a VAD model of their own (whisper-streamer's "auto flush at pauses").
 * Each stream still gets its own detector state.
 */
import { EmptyModelSource } from "../../../hub/local-source";
import { createLoadContext } from "../../../onnx/load-context";
import { loadVad } from "./loader";
import type { SileroVadEngine } from "./silero-engine";

let shared: Promise<SileroVadEngine> | undefined;

export function builtinVad(): Promise<SileroVadEngine> {
  // One thread: a 32 ms window is far too small to split, and callers run beside a decoder.
  shared ??= loadVad(createLoadContext({ enginesPath: "silero" }, new EmptyModelSource("silero"), { intraOpNumThreads: 1 })).catch((err) => {
    shared = undefined;
    throw err;
  });
  return shared;
}
