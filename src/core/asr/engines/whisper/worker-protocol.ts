/**
 * What the Whisper worker (whisper-worker.ts) and its main-thread stand-in
 * (worker-whisper-model.ts) exchange on top of the shared model-worker messages
 * (onnx/worker/model-worker-protocol.ts): a call is one decode. The worker owns the onnxruntime
 * sessions, so their synchronous runs block the worker's thread instead of Node-RED's event loop;
 * it reads the model's files through the main thread's ModelSource (which may download from the
 * hub), so paths, variants and errors are the same as an in-process load.
 */
import type { DecodeOptions, DecodeResult } from "./whisper-model";
import type { WhisperSettings } from "./whisper-config";

/** A decode request: DecodeOptions without the signal (the shared "cancel" message stands for it). */
export type WorkerDecodeOptions = Omit<DecodeOptions, "signal">;

export interface WhisperCall {
  audio: Float32Array;
  options: WorkerDecodeOptions;
}

export type WhisperReply = DecodeResult;

/** What the worker reports once loaded: what the engine and the streamers read synchronously. */
export interface WhisperInfo {
  settings: WhisperSettings;
  sampleRate: number;
  windowSeconds: number;
}
