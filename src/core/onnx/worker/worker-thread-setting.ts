/**
 * config `worker_thread` of a local ONNX model (default true), for every family that runs its
 * sessions in a model worker (Whisper, the LLM, the codec TTS): onnxruntime-node runs sessions
 * synchronously on the calling thread, so a model in the main thread stalls the event loop for
 * every run and the VAD, TTS, audio pacing and flows fall behind (issue #20). false keeps the
 * sessions in the main thread. `owner` starts a bad value's message ("the config of model x").
 */
export function workerThreadSetting(config: Record<string, unknown> | undefined, owner: string): boolean {
  const value = config?.worker_thread;
  if (value === undefined || value === null || value === "") return true;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new Error(`${owner}: worker_thread must be true or false, got ${JSON.stringify(value)}`);
}
