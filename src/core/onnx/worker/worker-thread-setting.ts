import { configFlag } from "../config-flag";

/**
 * config `worker_thread` of a local ONNX model (default true), for every family that runs its
 * sessions in a model worker (Whisper, the LLM, the codec TTS): onnxruntime-node runs sessions
 * synchronously on the calling thread, so a model in the main thread stalls the event loop for
 * every run and the VAD, TTS, audio pacing and flows fall behind (issue #20). false keeps the
 * sessions in the main thread. `owner` starts a bad value's message ("the config of model x").
 */
export function workerThreadSetting(config: Record<string, unknown> | undefined, owner: string): boolean {
  return configFlag(config, "worker_thread", owner) ?? true;
}
