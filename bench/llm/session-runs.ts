/**
 * Opening a rewritten graph as a CPU session and timing its runs: what the bench parts that time
 * a session alone (kernel, prefill) share.
 */
import * as ort from "onnxruntime-node";
import { sessionOptions } from "../../src/core/onnx/session-factory";

/** A CPU session with the engine's options over graph bytes whose weights may lie in `folder` (external data). */
export async function openBenchSession(bytes: Uint8Array, folder?: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    ...sessionOptions(["cpu"], {}),
    ...(folder ? { extra: { session: { model_external_initializers_file_folder_path: folder } } } : {}),
  });
}

/** `count` timed runs (ms) after one untimed run, which takes what a switch from another session costs. */
export async function timeRuns(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, count: number): Promise<number[]> {
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  return times;
}
