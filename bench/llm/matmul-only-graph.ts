/**
 * A decoder run's MatMuls of one kernel alone: the same rewritten graph the engine runs, with
 * every node removed but its MatMuls of that kind (and the constant nodes that build their
 * weights, e.g. the fused q/k/v stacks, which onnxruntime folds at load). Each MatMul reads a
 * graph input `x<K>` ([1, rows, K] floats) instead of the activation it had, and its product
 * becomes a graph output, so a run reads every weight of those MatMuls once with the same kernel,
 * accuracy level and prepacking. Timed beside the whole run it says how much of the run is that
 * kernel: a decode step's 4-bit MatMulNBits (bench part "kernel"), a prefill's int8
 * DynamicQuantizeMatMul (bench part "prefill").
 */
import { onnx } from "onnx-proto";
import { int64Tensor, intAttribute } from "../../src/core/onnx/node-attributes";

export type MatMulKernel = "MatMulNBits" | "DynamicQuantizeMatMul";

export interface MatMulOnlyGraph {
  bytes: Uint8Array;
  /** The activation widths K, one graph input `x<K>` each ([1, rows, K] floats). */
  widths: number[];
  /** How many MatMuls the run has (= graph outputs). */
  matMuls: number;
  /** Multiply-adds a row of activations costs in them: the sum of K × N. */
  multiplyAddsPerRow: number;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

/** A MatMulNBits attribute it cannot do without. */
function requiredInt(node: onnx.INodeProto, name: string): number {
  const value = intAttribute(node, name);
  if (value === undefined) throw new Error(`MatMulNBits ${node.name ?? ""} has no ${name} attribute`);
  return value;
}

/** [K, N] of a MatMul: MatMulNBits says them; DynamicQuantizeMatMul's are its int8 weight's dims. */
function matMulShape(node: onnx.INodeProto, initializers: Map<string, onnx.ITensorProto>): [number, number] {
  if (node.opType === "MatMulNBits") return [requiredInt(node, "K"), requiredInt(node, "N")];
  const dims = initializers.get(node.input?.[1] ?? "")?.dims?.map(Number);
  if (!dims || dims.length !== 2) throw new Error(`DynamicQuantizeMatMul ${node.name ?? ""} has no constant [K, N] weight`);
  return [dims[0], dims[1]];
}

export interface MatMulsOnlyOptions {
  /** Activation rows a run feeds (1: a decode step). */
  rows?: number;
  /**
   * Output only each product's first value (a Slice after it): a prefill's products are hundreds
   * of MB, and copying them out to JavaScript every run would cost more than computing them.
   */
  firstValuesOnly?: boolean;
}

export function matMulsOnly(modelBytes: Uint8Array, kernel: MatMulKernel, options: MatMulsOnlyOptions = {}): MatMulOnlyGraph {
  const rows = options.rows ?? 1;
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new Error("the model has no graph");
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? "", t]));
  const constant = new Set(initializers.keys());
  const constantNodes: onnx.INodeProto[] = [];
  const matMuls: onnx.INodeProto[] = [];
  // Nodes are in topological order, so one pass finds every node fed by constants only.
  for (const node of graph.node ?? []) {
    if (node.opType === kernel) matMuls.push(node);
    else if ((node.input ?? []).every((i) => i === "" || constant.has(i))) {
      constantNodes.push(node);
      for (const o of node.output ?? []) constant.add(o);
    }
  }
  if (matMuls.length === 0) throw new Error(`the graph has no ${kernel}`);
  const widths = new Set<number>();
  let multiplyAddsPerRow = 0;
  for (const node of matMuls) {
    const [k, n] = matMulShape(node, initializers);
    widths.add(k);
    multiplyAddsPerRow += k * n;
    node.input![0] = `x${k}`;
  }
  const outputs = matMuls.map((n) => n.output![0]);
  const slices: onnx.INodeProto[] = [];
  if (options.firstValuesOnly) {
    graph.initializer = [...(graph.initializer ?? []), int64Tensor("first_starts", [0, 0]), int64Tensor("first_ends", [1, 1]), int64Tensor("first_axes", [1, 2])];
    outputs.forEach((name, i) => {
      outputs[i] = `${name}_first`;
      slices.push(onnx.NodeProto.create({ opType: "Slice", input: [name, "first_starts", "first_ends", "first_axes"], output: [outputs[i]] }));
    });
  }
  graph.node = [...constantNodes, ...matMuls, ...slices];
  graph.input = [...widths].map((k) =>
    onnx.ValueInfoProto.create({ name: `x${k}`, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: rows }, { dimValue: k }] } } } }),
  );
  graph.output = outputs.map((name) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: FLOAT } } }));
  graph.valueInfo = [];
  // Initializers only the removed nodes read (norm weights, shape constants) would make onnxruntime
  // log a warning for each; leave them out.
  const used = new Set([...graph.node.flatMap((n) => n.input ?? [])]);
  graph.initializer = (graph.initializer ?? []).filter((t) => used.has(t.name ?? ""));
  return { bytes: onnx.ModelProto.encode(model).finish(), widths: [...widths], matMuls: matMuls.length, multiplyAddsPerRow };
}

/** A decode step's 4-bit MatMuls alone (one row). */
export function matMulNBitsOnly(modelBytes: Uint8Array): MatMulOnlyGraph {
  return matMulsOnly(modelBytes, "MatMulNBits");
}
