/**
 * 8-bit dynamic quantization of MatMul weights, the way onnxruntime's `quantize_dynamic`
 * writes the hub's `model_quantized.onnx` (transformers.js dtype "q8"): the weight is stored
 * as int8 with one symmetric per-tensor scale; at run time the activation is quantized to
 * uint8 (DynamicQuantizeLinear), multiplied in integers (MatMulInteger) and scaled back.
 */
import { GraphBuilder } from "./graph";

export type WeightPrecision = "fp32" | "q8";

/** x [.., k] · W [k, n] → [.., n], with W stored per `precision`. */
export function matMulWeight(g: GraphBuilder, x: string, weight: Float32Array, k: number, n: number, precision: WeightPrecision, hint = "w"): string {
  if (weight.length !== k * n) throw new Error(`matMulWeight ${hint}: ${weight.length} values for [${k}, ${n}]`);
  if (precision === "fp32") return g.op("MatMul", [x, g.constFloat(weight, [k, n], hint)]);
  let max = 0;
  for (const v of weight) max = Math.max(max, Math.abs(v));
  const scale = max > 0 ? max / 127 : 1;
  const q = new Int8Array(weight.length);
  for (let i = 0; i < weight.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(weight[i] / scale)));
  const wq = g.initializer(g.fresh(`${hint}_q8`), q, [k, n]);
  const wZero = g.initializer(g.fresh(`${hint}_zp`), new Int8Array(1), []);
  const [xq, xScale, xZero] = g.node("DynamicQuantizeLinear", [x], {}, { outputs: 3 });
  const product = g.op("MatMulInteger", [xq, wq, xZero, wZero]);
  const scaleBoth = g.op("Mul", [xScale, g.constFloat([scale], [], `${hint}_scale`)]);
  return g.op("Mul", [g.op("Cast", [product], { to: 1 }), scaleBoth]);
}
