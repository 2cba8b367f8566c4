/**
 * Fuses each RMSNorm that an export spells out op by op into one SimplifiedLayerNormalization
 * (onnxruntime's RMSNorm kernel, in the default domain; CPU and CUDA).
 *
 * A PyTorch export writes `weight * (x * rsqrt(mean(x²) + eps))` as seven nodes: Pow(x, 2) or
 * Mul(x, x), ReduceMean over the last axis, Add eps, Sqrt, Reciprocal then Mul by x (or Div of x),
 * Mul by the weight. A Qwen3 decoder has 113 of them (two a layer, q_norm and k_norm, the final
 * norm): about a third of its nodes, each a tiny op a decode step pays a dispatch for. One kernel
 * per norm computes the same function to float rounding (onnxruntime's own SimplifiedLayerNormFusion
 * only matches the Div form, after a Pow).
 *
 * Only exact matches are fused: every intermediate has one consumer, the reduction is over the
 * last axis with keepdims, eps is a scalar constant, the weight a 1-D initializer. Anything else
 * stays as it is.
 */
import { onnx } from "onnx-proto";

const FLOAT = onnx.TensorProto.DataType.FLOAT;

type Node = onnx.INodeProto;

/** The float scalar in an initializer or Constant node named `name`, or undefined. */
function scalarConstant(graph: onnx.IGraphProto, producer: Map<string, Node>, name: string): number | undefined {
  const tensor =
    (graph.initializer ?? []).find((t) => t.name === name) ??
    (producer.get(name)?.opType === "Constant" ? (producer.get(name)!.attribute ?? []).find((a) => a.name === "value")?.t ?? undefined : undefined);
  if (!tensor || (tensor.dataType ?? FLOAT) !== FLOAT || (tensor.dims ?? []).some((d) => Number(d) !== 1)) return undefined;
  if (tensor.rawData && tensor.rawData.length === 4) return Buffer.from(tensor.rawData).readFloatLE(0);
  if (tensor.floatData && tensor.floatData.length === 1) return tensor.floatData[0];
  return undefined;
}

/** Whether ReduceMean `node` averages the last axis only, keeping it (axes as attribute, or as a constant input from opset 18). */
function meansLastAxis(graph: onnx.IGraphProto, node: Node): boolean {
  const attr = (name: string) => (node.attribute ?? []).find((a) => a.name === name);
  if (Number(attr("keepdims")?.i ?? 1) !== 1) return false;
  let axes = (attr("axes")?.ints ?? []).map(Number);
  if (node.input!.length > 1) {
    const init = (graph.initializer ?? []).find((t) => t.name === node.input![1]);
    if (!init?.rawData || init.dataType !== onnx.TensorProto.DataType.INT64) return false;
    axes = Array.from(new BigInt64Array(Uint8Array.from(init.rawData).buffer), Number);
  }
  return axes.length === 1 && axes[0] === -1;
}

/** Fuses every RMSNorm it recognises; returns how many. */
export function fuseRmsNorms(graph: onnx.IGraphProto): number {
  const nodes = graph.node ?? [];
  const producer = new Map<string, Node>();
  const consumers = new Map<string, Node[]>();
  for (const node of nodes) {
    for (const out of node.output ?? []) producer.set(out, node);
    for (const input of node.input ?? []) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name));
  /** The one node reading `name`, when it is of `types` and `name` is not also a graph output. */
  const soleConsumer = (name: string, types: string[]): Node | undefined => {
    const readers = consumers.get(name) ?? [];
    return readers.length === 1 && types.includes(readers[0].opType ?? "") && !graphOutputs.has(name) ? readers[0] : undefined;
  };
  const weights = new Map((graph.initializer ?? []).map((t) => [t.name, t]));
  const fused = new Map<Node, Node>();
  const removed = new Set<Node>();
  const constantsOfChains = new Set<string>();
  let count = 0;

  for (const mean of nodes) {
    if (mean.opType !== "ReduceMean" || (mean.domain ?? "") !== "" || !meansLastAxis(graph, mean)) continue;
    const square = producer.get(mean.input![0]);
    if (!square || soleConsumer(square.output![0], ["ReduceMean"]) !== mean) continue;
    const x = square.input![0];
    const isSquare =
      (square.opType === "Mul" && square.input![1] === x) || (square.opType === "Pow" && scalarConstant(graph, producer, square.input![1]) === 2);
    if (!isSquare) continue;
    const add = soleConsumer(mean.output![0], ["Add"]);
    const epsName = add?.input!.find((name) => name !== mean.output![0]);
    const epsilon = epsName === undefined ? undefined : scalarConstant(graph, producer, epsName);
    if (!add || epsilon === undefined) continue;
    const sqrt = soleConsumer(add.output![0], ["Sqrt"]);
    if (!sqrt) continue;
    // x · (1 / sqrt) or x / sqrt.
    let scaled: Node | undefined;
    const after = soleConsumer(sqrt.output![0], ["Reciprocal", "Div"]);
    if (after?.opType === "Div") scaled = after.input![0] === x && after.input![1] === sqrt.output![0] ? after : undefined;
    else if (after?.opType === "Reciprocal") {
      const mul = soleConsumer(after.output![0], ["Mul"]);
      scaled = mul && mul.input!.includes(x) && mul.input!.includes(after.output![0]) ? mul : undefined;
    }
    if (!scaled) continue;
    const scale = soleConsumer(scaled.output![0], ["Mul"]);
    const weightName = scale?.input!.find((name) => name !== scaled!.output![0]);
    const weight = weightName === undefined ? undefined : weights.get(weightName);
    if (!scale || !weight || (weight.dims ?? []).length !== 1 || (weight.dataType ?? FLOAT) !== FLOAT) continue;

    const chain = [square, mean, add, sqrt, ...(after!.opType === "Reciprocal" ? [after!] : []), scaled, scale];
    constantsOfChains.add(epsName!);
    if (square.opType === "Pow") constantsOfChains.add(square.input![1]);
    for (const node of chain) removed.add(node);
    fused.set(
      scale,
      onnx.NodeProto.create({
        name: `voice_stream_rms_norm_${count}`,
        opType: "SimplifiedLayerNormalization",
        input: [x, weightName!],
        output: [scale.output![0]],
        attribute: [
          onnx.AttributeProto.create({ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: -1 }),
          onnx.AttributeProto.create({ name: "epsilon", type: onnx.AttributeProto.AttributeType.FLOAT, f: epsilon }),
          onnx.AttributeProto.create({ name: "stash_type", type: onnx.AttributeProto.AttributeType.INT, i: 1 }),
        ],
      }),
    );
    count++;
  }
  // Each fused node takes the place of its chain's last Mul, so the order stays topological.
  graph.node = nodes.flatMap((node) => (fused.has(node) ? [fused.get(node)!] : removed.has(node) ? [] : [node]));
  // The eps constants (and Pow exponents) read by nobody now: dropped, or onnxruntime warns about each.
  const read = inputsRead(graph);
  graph.initializer = (graph.initializer ?? []).filter((t) => !constantsOfChains.has(t.name!) || read.has(t.name!) || graphOutputs.has(t.name!));
  return count;
}

/** Every value name a node of `graph` or of its subgraphs (If / Loop branches) reads. */
function inputsRead(graph: onnx.IGraphProto, into = new Set<string>()): Set<string> {
  for (const node of graph.node ?? []) {
    for (const input of node.input ?? []) into.add(input);
    for (const attr of node.attribute ?? []) for (const sub of [...(attr.g ? [attr.g] : []), ...(attr.graphs ?? [])]) inputsRead(sub, into);
  }
  return into;
}
