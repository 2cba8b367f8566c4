/**
 * Adds the k best logits of the last position to a decoder graph as extra outputs, so a
 * sampler that only looks at the k best (top-k sampling, greedy with k = 1) can fetch those
 * instead of the whole row.
 *
 * A whole row is a vocabulary of floats each step (Qwen3: 151936, 607 KB; a codec LM's speech
 * head: 65537, 262 KB). onnxruntime-node copies every fetched output into a fresh ArrayBuffer,
 * a worker hands it to the main thread, and the sampler scans it there: that steady stream of
 * large buffers made the main thread run full garbage collections every second or two, whose
 * marking threads took cores from the next step. Fetched as TopK, a step returns 2 × k numbers.
 *
 *   input  voice_stream_top_k       int64 [1]: k (fed on every run; 1 when the row is fetched instead)
 *   output voice_stream_top_values  float [batch, 1, k]: best first
 *   output voice_stream_top_ids     int64 [batch, 1, k]: their indices in the row
 *
 * TopK (opset 10+) orders equal values by the lower index first, as the sampler does, so the
 * candidates are exactly the sampler's own. The logits output stays: callers that need the whole
 * row (a repetition penalty, top-p without top-k) fetch it as before. Applies to float logits of
 * a graph with opset ≥ 10; otherwise the graph is left as it is.
 */
import { onnx } from "onnx-proto";
import { intAttributeProto } from "../node-attributes";

export const TOP_K_INPUT = "voice_stream_top_k";
export const TOP_VALUES_OUTPUT = "voice_stream_top_values";
export const TOP_IDS_OUTPUT = "voice_stream_top_ids";

/** Adds the TopK outputs after `logitsName`; false when the graph's form or opset does not allow it. */
export function addTopLogits(graph: onnx.IGraphProto, logitsName: string, opset: number): boolean {
  if (opset < 10) return false;
  const output = (graph.output ?? []).find((o) => o.name === logitsName);
  if (output?.type?.tensorType?.elemType !== onnx.TensorProto.DataType.FLOAT) return false;
  if ((graph.input ?? []).some((i) => i.name === TOP_K_INPUT)) return false;
  const dims = output.type.tensorType.shape?.dim ?? [];
  const tensorInfo = (name: string, elemType: number, shape?: onnx.TensorShapeProto.IDimension[]) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: shape ? { dim: shape } : undefined } } });
  // [batch, 1, k]: the graph's own leading dims, then k (no shape where the logits declare none).
  const topDims = dims.length > 0 ? [...dims.slice(0, -1), { dimParam: "voice_stream_k" }] : undefined;
  graph.input = [...(graph.input ?? []), tensorInfo(TOP_K_INPUT, onnx.TensorProto.DataType.INT64, [{ dimValue: 1 }])];
  graph.node = [
    ...(graph.node ?? []),
    onnx.NodeProto.create({
      name: "voice_stream_top_logits",
      opType: "TopK",
      input: [logitsName, TOP_K_INPUT],
      output: [TOP_VALUES_OUTPUT, TOP_IDS_OUTPUT],
      // Opset 10's TopK has neither attribute (largest, sorted were added in 11 and default to 1).
      attribute: opset >= 11 ? [intAttributeProto("axis", -1), intAttributeProto("largest", 1), intAttributeProto("sorted", 1)] : [intAttributeProto("axis", -1)],
    }),
  ];
  graph.output = [
    ...(graph.output ?? []),
    tensorInfo(TOP_VALUES_OUTPUT, onnx.TensorProto.DataType.FLOAT, topDims),
    tensorInfo(TOP_IDS_OUTPUT, onnx.TensorProto.DataType.INT64, topDims),
  ];
  return true;
}
