/**
 * Opens a Whisper encoder so that it reads a window shorter than its 30 s (whisper.cpp's
 * `audio_ctx`): the encoder's self-attention is quadratic in its 1500 positions and its layers
 * linear, so a 5 s window costs about a tenth of the full one.
 *
 * Hub exports (onnx-community / Optimum) add the positional embeddings as one
 * [max_source_positions, d_model] initializer, which pins the graph to 3000 mel frames. This
 * rewrite slices that initializer to the length of the tensor it is added to (a Slice fed by
 * that tensor's Shape) and makes the input's frame axis and the output's position axis
 * symbolic. The weights stay in the original file; with the full 3000 frames the rewritten
 * graph computes what the file does (to float rounding: with symbolic shapes onnxruntime may
 * choose kernels that sum in another order, ~1e-7 apart).
 *
 * When the graph has no such Add (or more than one), the caller gets `undefined`.
 */
import * as path from "path";
import { onnx } from "onnx-proto";
import type { RewrittenModel } from "../../../types";
import { readGraphOnly } from "../../../onnx/graph-file";
import { int64Tensor } from "../../../onnx/node-attributes";

const PREFIX = "voice_stream_window";

/** Whether `tensor` is the positional table: [positions, dModel] or [1, positions, dModel]. */
function isPositionTable(tensor: onnx.ITensorProto, positions: number, dModel: number): boolean {
  const dims = (tensor.dims ?? []).map(Number);
  const tail = dims.length === 3 && dims[0] === 1 ? dims.slice(1) : dims;
  return tail.length === 2 && tail[0] === positions && tail[1] === dModel;
}

/** Names the axis `index` of a graph input or output `value` symbolically (it was a fixed size). */
function symbolicAxis(value: onnx.IValueInfoProto | undefined, index: number, name: string): void {
  const dims = value?.type?.tensorType?.shape?.dim;
  if (dims && dims.length > index) dims[index] = onnx.TensorShapeProto.Dimension.create({ dimParam: name });
}

/**
 * The encoder at `file` rewritten to take any even number of mel frames up to 2 · `positions`,
 * or undefined when its positional embeddings are not one Add of a [positions, dModel] table.
 */
export function windowedEncoderModel(file: string, positions: number, dModel: number): RewrittenModel | undefined {
  const model = readGraphOnly(file);
  const graph = model.graph!;
  const tables = new Map((graph.initializer ?? []).filter((t) => isPositionTable(t, positions, dModel)).map((t) => [t.name!, t]));
  const adds = (graph.node ?? []).flatMap((node) => {
    if (node.opType !== "Add" || (node.domain ?? "") !== "") return [];
    const slot = (node.input ?? []).findIndex((name) => tables.has(name));
    return slot >= 0 && node.input!.length === 2 ? [{ node, slot }] : [];
  });
  if (adds.length !== 1) return undefined;
  const { node, slot } = adds[0];
  const table = tables.get(node.input![slot])!;
  const sequence = node.input![1 - slot];
  // The sequence is [batch, T, d]; the table's position axis is its second-to-last.
  const positionAxis = BigInt((table.dims ?? []).length - 2);

  graph.initializer = [
    ...(graph.initializer ?? []),
    int64Tensor(`${PREFIX}_zero`, [0]),
    int64Tensor(`${PREFIX}_one`, [1]),
    int64Tensor(`${PREFIX}_two`, [2]),
    int64Tensor(`${PREFIX}_axis`, [positionAxis]),
  ];
  const shape = onnx.NodeProto.create({ name: `${PREFIX}_shape`, opType: "Shape", input: [sequence], output: [`${PREFIX}_sequence_shape`] });
  const length = onnx.NodeProto.create({
    name: `${PREFIX}_length`,
    opType: "Slice",
    input: [`${PREFIX}_sequence_shape`, `${PREFIX}_one`, `${PREFIX}_two`, `${PREFIX}_zero`],
    output: [`${PREFIX}_length`],
  });
  const sliced = onnx.NodeProto.create({
    name: `${PREFIX}_positions`,
    opType: "Slice",
    input: [table.name!, `${PREFIX}_zero`, `${PREFIX}_length`, `${PREFIX}_axis`],
    output: [`${PREFIX}_positions`],
  });
  node.input![slot] = `${PREFIX}_positions`;
  const nodes = graph.node ?? [];
  const at = nodes.indexOf(node);
  graph.node = [...nodes.slice(0, at), shape, length, sliced, ...nodes.slice(at)];

  // Shapes recorded at export time say 3000 frames and 1500 positions: name those axes instead,
  // and drop the intermediate shapes (optional in ONNX) rather than contradict them.
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  symbolicAxis((graph.input ?? []).find((input) => !initializers.has(input.name)), 2, "encoder_frames");
  for (const output of graph.output ?? []) symbolicAxis(output, 1, "encoder_positions");
  graph.valueInfo = [];
  return { bytes: onnx.ModelProto.encode(model).finish(), externalDataFolder: path.dirname(path.resolve(file)) };
}
