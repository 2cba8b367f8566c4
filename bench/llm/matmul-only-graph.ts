/**
 * A decoder step's 4-bit MatMuls alone: the same rewritten graph the engine runs, with every node
 * removed but its MatMulNBits (and the constant nodes that build their weights, e.g. the fused
 * q/k/v stacks, which onnxruntime folds at load). Each MatMulNBits reads a graph input `x<K>` of
 * its width instead of the activation it had, and its product becomes a graph output, so a run
 * reads every 4-bit weight of the step exactly once with the same kernel, accuracy level and
 * prepacking. Timed beside the whole step it says how much of the step is that kernel (bench
 * part "kernel").
 */
import { onnx } from "onnx-proto";

export interface MatMulOnlyGraph {
  bytes: Uint8Array;
  /** The activation widths K, one graph input `x<K>` each ([1, 1, K] floats). */
  widths: number[];
  /** How many MatMulNBits the step has (= graph outputs). */
  matMuls: number;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function intAttribute(node: onnx.INodeProto, name: string): number {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  if (!a || a.i === undefined || a.i === null) throw new Error(`MatMulNBits ${node.name ?? ""} has no ${name} attribute`);
  return Number(a.i);
}

export function matMulNBitsOnly(modelBytes: Uint8Array): MatMulOnlyGraph {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new Error("the model has no graph");
  const constant = new Set((graph.initializer ?? []).map((t) => t.name ?? ""));
  const constantNodes: onnx.INodeProto[] = [];
  const matMuls: onnx.INodeProto[] = [];
  // Nodes are in topological order, so one pass finds every node fed by constants only.
  for (const node of graph.node ?? []) {
    if (node.opType === "MatMulNBits") matMuls.push(node);
    else if ((node.input ?? []).every((i) => i === "" || constant.has(i))) {
      constantNodes.push(node);
      for (const o of node.output ?? []) constant.add(o);
    }
  }
  if (matMuls.length === 0) throw new Error("the graph has no MatMulNBits (not a 4-bit model)");
  const widths = new Set<number>();
  for (const node of matMuls) {
    const k = intAttribute(node, "K");
    widths.add(k);
    node.input![0] = `x${k}`;
  }
  graph.node = [...constantNodes, ...matMuls];
  graph.input = [...widths].map((k) =>
    onnx.ValueInfoProto.create({ name: `x${k}`, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 1 }, { dimValue: k }] } } } }),
  );
  graph.output = matMuls.map((n) => onnx.ValueInfoProto.create({ name: n.output![0], type: { tensorType: { elemType: FLOAT } } }));
  graph.valueInfo = [];
  // Initializers only the removed nodes read (norm weights, shape constants) would make onnxruntime
  // log a warning for each; leave them out.
  const used = new Set([...graph.node.flatMap((n) => n.input ?? [])]);
  graph.initializer = (graph.initializer ?? []).filter((t) => used.has(t.name ?? ""));
  return { bytes: onnx.ModelProto.encode(model).finish(), widths: [...widths], matMuls: matMuls.length };
}
