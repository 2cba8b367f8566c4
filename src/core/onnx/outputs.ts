/** Reading a session's results: the named output (else the first) copied out, every output tensor freed. */
import type * as ort from "onnxruntime-node";

export function takeFloat32(outputs: ort.InferenceSession.ReturnType, name: string, session: ort.InferenceSession): Float32Array {
  const tensor = outputs[name] ?? outputs[session.outputNames[0]];
  const samples = (tensor.data as Float32Array).slice();
  for (const output of Object.values(outputs)) output.dispose();
  return samples;
}
