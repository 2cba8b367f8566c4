/**
 * Fuses a decoder graph's RMSNorms, spelled out by the exports as
 *
 *   x → Mul(x, x) | Pow(x, 2) → ReduceMean(last axis) → Add(ε) → Sqrt → Reciprocal → Mul(x, ·)
 *     (or Div(x, Sqrt(…))) → Mul(·, weight)
 *
 * into onnxruntime's SimplifiedLayerNormalization (x, weight; epsilon ε, axis -1, float32 stash),
 * one node instead of seven. A decode step runs a norm before attention and MLP in every layer
 * (and on q and k per head in Qwen3): ~50–110 norms, ~350–680 nodes of work too small to fill a
 * core. On the NeuTTS-shaped codec LM the engine's decode ran 1.02–1.05× the frames a second with
 * them fused (same process, interleaved). The same arithmetic; float32 rounding may differ in the
 * last bits (x / √(mean + ε) instead of x · 1/√(mean + ε)).
 *
 * A norm is fused only when every intermediate feeds the next step alone, ε is a constant scalar,
 * the mean is over the last axis (-1) with keepdims, and the weight is a 1-D initializer of more
 * than one value; anything else is left as it is.
 */
import { onnx } from "onnx-proto";
import { intAttribute, intAttributeProto } from "./node-attributes";

interface Graph {
  producer: Map<string, onnx.INodeProto>;
  consumers: Map<string, number>;
  initializers: Map<string, onnx.ITensorProto>;
}

function indexGraph(graph: onnx.IGraphProto): Graph {
  const producer = new Map<string, onnx.INodeProto>();
  const consumers = new Map<string, number>();
  for (const node of graph.node ?? []) {
    for (const out of node.output ?? []) producer.set(out, node);
    for (const input of node.input ?? []) consumers.set(input, (consumers.get(input) ?? 0) + 1);
  }
  // A graph output is one more reader.
  for (const out of graph.output ?? []) consumers.set(out.name ?? "", (consumers.get(out.name ?? "") ?? 0) + 1);
  return { producer, consumers, initializers: new Map((graph.initializer ?? []).map((t) => [t.name ?? "", t])) };
}

/** The float values of a float32 initializer (inline data only). */
function floats(tensor: onnx.ITensorProto | undefined): Float32Array | undefined {
  if (!tensor || tensor.dataType !== onnx.TensorProto.DataType.FLOAT) return undefined;
  if (tensor.floatData && tensor.floatData.length > 0) return Float32Array.from(tensor.floatData);
  if (tensor.rawData && tensor.rawData.length % 4 === 0 && tensor.rawData.length > 0) {
    const raw = tensor.rawData;
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  }
  return undefined;
}

/** The int64 values of an initializer (inline data only). */
function ints(tensor: onnx.ITensorProto | undefined): number[] | undefined {
  if (!tensor || tensor.dataType !== onnx.TensorProto.DataType.INT64) return undefined;
  if (tensor.int64Data && tensor.int64Data.length > 0) return tensor.int64Data.map(Number);
  if (tensor.rawData && tensor.rawData.length % 8 === 0 && tensor.rawData.length > 0) {
    const raw = tensor.rawData;
    return Array.from(new BigInt64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), Number);
  }
  return undefined;
}

/** The 1-D length of an initializer (its declared dims), or undefined. */
function length1d(tensor: onnx.ITensorProto | undefined): number | undefined {
  const dims = tensor?.dims ?? [];
  return dims.length === 1 ? Number(dims[0]) : undefined;
}

interface NormMatch {
  x: string;
  weight: string;
  epsilon: number;
  /** The nodes the fused node replaces; the last one's output is the norm's. */
  nodes: onnx.INodeProto[];
}

/** The RMSNorm ending at `last` (the weight's Mul), if it has the form above. */
function matchNorm(g: Graph, last: onnx.INodeProto): NormMatch | undefined {
  if (last.opType !== "Mul" || (last.domain ?? "") !== "") return undefined;
  const only = (name: string) => g.consumers.get(name) === 1;
  for (const [scaledName, weight] of [[last.input?.[0], last.input?.[1]], [last.input?.[1], last.input?.[0]]] as const) {
    if (!scaledName || !weight) continue;
    const w = g.initializers.get(weight);
    if (!w || w.dataType !== onnx.TensorProto.DataType.FLOAT || (length1d(w) ?? 0) < 2) continue;
    const scaled = g.producer.get(scaledName);
    if (!scaled || !only(scaledName)) continue;
    // x · 1/√(…) (Reciprocal) or x / √(…)
    let x: string | undefined;
    let sqrtName: string | undefined;
    const chain: onnx.INodeProto[] = [];
    if (scaled.opType === "Div") {
      [x, sqrtName] = [scaled.input?.[0], scaled.input?.[1]];
    } else if (scaled.opType === "Mul") {
      for (const [a, b] of [[scaled.input?.[0], scaled.input?.[1]], [scaled.input?.[1], scaled.input?.[0]]] as const) {
        const reciprocal = b ? g.producer.get(b) : undefined;
        if (a && b && reciprocal?.opType === "Reciprocal" && only(b)) {
          x = a;
          sqrtName = reciprocal.input?.[0];
          chain.push(reciprocal);
          break;
        }
      }
    }
    if (!x || !sqrtName || !only(sqrtName)) continue;
    const sqrt = g.producer.get(sqrtName);
    if (sqrt?.opType !== "Sqrt") continue;
    const add = g.producer.get(sqrt.input?.[0] ?? "");
    if (add?.opType !== "Add" || !only(add.output![0])) continue;
    const [meanName, epsName] = g.producer.get(add.input?.[0] ?? "")?.opType === "ReduceMean" ? [add.input![0], add.input![1]] : [add.input?.[1], add.input?.[0]];
    const eps = floats(g.initializers.get(epsName ?? ""));
    if (!eps || eps.length !== 1 || !meanName || !only(meanName)) continue;
    const mean = g.producer.get(meanName);
    if (mean?.opType !== "ReduceMean" || intAttribute(mean, "keepdims") === 0) continue;
    const axes = mean.input?.[1] ? ints(g.initializers.get(mean.input[1])) : (mean.attribute ?? []).find((a) => a.name === "axes")?.ints?.map(Number);
    if (!axes || axes.length !== 1 || axes[0] !== -1) continue;
    const squareName = mean.input?.[0];
    const square = g.producer.get(squareName ?? "");
    if (!square || !squareName || !only(squareName)) continue;
    const isSquare =
      (square.opType === "Mul" && square.input?.[0] === x && square.input?.[1] === x) ||
      (square.opType === "Pow" && square.input?.[0] === x && floats(g.initializers.get(square.input?.[1] ?? ""))?.join() === "2");
    if (!isSquare) continue;
    return { x, weight, epsilon: eps[0], nodes: [square, mean, add, sqrt, ...chain, scaled, last] };
  }
  return undefined;
}

/** Fuses the graph's RMSNorms (see above); returns how many. */
export function fuseRmsNorms(graph: onnx.IGraphProto): number {
  const g = indexGraph(graph);
  const replaced = new Map<onnx.INodeProto, onnx.INodeProto>();
  const removed = new Set<onnx.INodeProto>();
  for (const node of graph.node ?? []) {
    const norm = matchNorm(g, node);
    if (!norm || norm.nodes.some((n) => removed.has(n))) continue;
    for (const n of norm.nodes) removed.add(n);
    replaced.set(
      node,
      onnx.NodeProto.create({
        name: `voice_stream_rms_norm_${replaced.size}`,
        opType: "SimplifiedLayerNormalization",
        input: [norm.x, norm.weight],
        output: [node.output![0]],
        attribute: [
          onnx.AttributeProto.create({ name: "epsilon", type: onnx.AttributeProto.AttributeType.FLOAT, f: norm.epsilon }),
          intAttributeProto("axis", -1),
          intAttributeProto("stash_type", 1),
        ],
      }),
    );
  }
  if (replaced.size === 0) return 0;
  // The fused node takes the weight Mul's place (after x and the weight exist, before every reader).
  graph.node = (graph.node ?? []).flatMap((n) => (replaced.has(n) ? [replaced.get(n)!] : removed.has(n) ? [] : [n]));
  // The ε (and exponent, axes) constants nothing reads any more: onnxruntime would warn about each.
  const read = new Set((graph.node ?? []).flatMap((n) => n.input ?? []));
  const orphans = new Set([...removed].flatMap((n) => n.input ?? []).filter((name) => !read.has(name) && g.initializers.has(name)));
  graph.initializer = (graph.initializer ?? []).filter((t) => !orphans.has(t.name ?? ""));
  return replaced.size;
}
