/**
 * Rewrites a decoder graph's attention so that a step reads the KV cache where it lies instead of
 * copying it.
 *
 * The exports build each layer's keys and values as Concat(past, new) and attend over that: every
 * step copies the whole cache once more (Qwen3-0.6B: 229 KB a position, 117 MB a step at 512
 * positions; the append-only cache already removed the other copy, the past's Transpose). The
 * same attention, split at the past's end, needs no copy:
 *
 *   scores = Concat(q·K_pastᵀ, q·K_newᵀ)         (the scores' layout is the Concat's: past, then new)
 *   probs  = the graph's own scale / mask / Softmax over those scores
 *   out    = probs[:, :past]·V_past + probs[:, past:]·V_new
 *
 * Only the scores (heads × new × (past + new) floats) are concatenated. The sums are the same
 * products added in another order (float32 differences of a few ulp).
 *
 * Applies to a layer when its key and value Concats (axis 2 of [batch, kv_heads, positions,
 * head_dim]) feed nothing but the attention, through Reshapes with constant shapes and
 * Transposes, into the QK MatMul's second input and the ·V MatMul's second input; i.e. after
 * append-only-cache.ts has taken the present outputs away. A graph with a layer of another form is
 * left as it is.
 */
import { onnx } from "onnx-proto";
import { int64Tensor, intAttribute, intAttributeProto as intAttr } from "../node-attributes";

const PREFIX = "voice_stream_past_in_place";
/** [2]: the positions axis of a [batch, kv_heads, positions, head_dim] cache tensor. */
const AXIS_2 = `${PREFIX}_axis_2`;
const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

interface Graph {
  nodes: onnx.INodeProto[];
  producer: Map<string, onnx.INodeProto>;
  consumers: Map<string, onnx.INodeProto[]>;
  constants: Set<string>;
  outputs: Set<string>;
}

interface Side {
  concat: onnx.INodeProto;
  /** Reshape / Transpose nodes from the Concat's output to the MatMul, in order. */
  chain: onnx.INodeProto[];
  matMul: onnx.INodeProto;
}

function indexGraph(graph: onnx.IGraphProto): Graph {
  const nodes = graph.node ?? [];
  const producer = new Map<string, onnx.INodeProto>();
  const consumers = new Map<string, onnx.INodeProto[]>();
  const constants = new Set((graph.initializer ?? []).map((t) => t.name ?? ""));
  for (const node of nodes) {
    for (const out of node.output ?? []) producer.set(out, node);
    for (const input of node.input ?? []) {
      const readers = consumers.get(input);
      if (readers) readers.push(node);
      else consumers.set(input, [node]);
    }
    if (node.opType === "Constant") for (const out of node.output ?? []) constants.add(out);
  }
  return { nodes, producer, consumers, constants, outputs: new Set((graph.output ?? []).map((o) => o.name ?? "")) };
}

/** The past Concat fed (directly or through a Transpose) by `past_key_values.<layer>.<kind>`. */
function pastConcat(g: Graph, layer: number, kind: string): onnx.INodeProto | undefined {
  const input = `past_key_values.${layer}.${kind}`;
  const readers = g.consumers.get(input) ?? [];
  const direct = readers.filter((n) => n.opType === "Concat");
  const viaTranspose = readers.filter((n) => n.opType === "Transpose").flatMap((t) => (g.consumers.get(t.output![0]) ?? []).filter((n) => n.opType === "Concat"));
  const found = [...direct, ...viaTranspose];
  if (found.length !== 1) return undefined;
  const concat = found[0];
  const axis = intAttribute(concat, "axis") ?? 0;
  return (axis === 2 || axis === -2) && concat.input!.length === 2 ? concat : undefined;
}

/** Follows the Concat's output through single-consumer Reshapes (constant shape) and Transposes to a MatMul reading it as input 1. */
function attentionSide(g: Graph, concat: onnx.INodeProto): Side | undefined {
  const chain: onnx.INodeProto[] = [];
  let tensor = concat.output![0];
  for (;;) {
    if (g.outputs.has(tensor)) return undefined;
    const readers = g.consumers.get(tensor) ?? [];
    if (readers.length !== 1) return undefined;
    const next = readers[0];
    if (next.opType === "MatMul" && next.input![1] === tensor && next.input![0] !== tensor) return { concat, chain, matMul: next };
    if (next.opType === "Transpose" || (next.opType === "Reshape" && g.constants.has(next.input![1]))) {
      chain.push(next);
      tensor = next.output![0];
      continue;
    }
    return undefined;
  }
}

function node(opType: string, input: string[], output: string[], attribute: onnx.IAttributeProto[] = []): onnx.INodeProto {
  return onnx.NodeProto.create({ name: `${PREFIX}_${output[0]}`, opType, input, output, attribute });
}

/** The chain's nodes again, reading `from` instead of the Concat's output; returns the nodes and the tensor they end in. */
function cloneChain(chain: onnx.INodeProto[], from: string, tag: string): { nodes: onnx.INodeProto[]; end: string } {
  const nodes: onnx.INodeProto[] = [];
  let tensor = from;
  chain.forEach((original, i) => {
    const out = `${PREFIX}_${tag}_${i}`;
    nodes.push(onnx.NodeProto.create({ ...original, name: `${PREFIX}_${tag}_${i}`, input: [tensor, ...original.input!.slice(1)], output: [out] }));
    tensor = out;
  });
  return { nodes, end: tensor };
}

/**
 * Rewrites `graph` in place; returns how many layers now attend over the past in place (0: the
 * graph was left exactly as it was).
 */
export function pastInPlaceAttention(graph: onnx.IGraphProto, opset: number): number {
  // Split with its sizes as an input needs opset 13.
  if (opset < 13) return 0;
  const layers = [...new Set((graph.input ?? []).map((i) => PAST.exec(i.name ?? "")).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])))];
  if (layers.length === 0) return 0;
  const g = indexGraph(graph);
  const plans: { layer: number; key: Side; value: Side }[] = [];
  for (const layer of layers.sort((a, b) => a - b)) {
    const keyConcat = pastConcat(g, layer, "key");
    const valueConcat = pastConcat(g, layer, "value");
    const key = keyConcat && attentionSide(g, keyConcat);
    const value = valueConcat && attentionSide(g, valueConcat);
    if (!key || !value || key.matMul === value.matMul) return 0;
    plans.push({ layer, key, value });
  }

  const before = new Map<onnx.INodeProto, onnx.INodeProto[]>();
  const removed = new Set<onnx.INodeProto>();
  for (const { layer, key, value } of plans) {
    const [pastK, newK] = key.concat.input!;
    const [pastV, newV] = value.concat.input!;
    const tag = (s: string) => `${PREFIX}_${layer}_${s}`;
    const kPast = cloneChain(key.chain, pastK, `${layer}_k_past`);
    const kNew = cloneChain(key.chain, newK, `${layer}_k_new`);
    const vPast = cloneChain(value.chain, pastV, `${layer}_v_past`);
    const vNew = cloneChain(value.chain, newV, `${layer}_v_new`);
    const q = key.matMul.input![0];
    const scores: onnx.INodeProto[] = [
      ...kPast.nodes,
      ...kNew.nodes,
      node("MatMul", [q, kPast.end], [tag("scores_past")]),
      node("MatMul", [q, kNew.end], [tag("scores_new")]),
      node("Concat", [tag("scores_past"), tag("scores_new")], [key.matMul.output![0]], [intAttr("axis", -1)]),
    ];
    const probs = value.matMul.input![0];
    // The split sizes: the past's and the new rows' lengths (axis 2 of the Concat's inputs).
    // (Shape → Gather rather than Shape's start/end, which need opset 15.)
    const weighted: onnx.INodeProto[] = [
      node("Shape", [pastV], [tag("past_shape")]),
      node("Gather", [tag("past_shape"), AXIS_2], [tag("past_length")], [intAttr("axis", 0)]),
      node("Shape", [newV], [tag("new_shape")]),
      node("Gather", [tag("new_shape"), AXIS_2], [tag("new_length")], [intAttr("axis", 0)]),
      node("Concat", [tag("past_length"), tag("new_length")], [tag("split")], [intAttr("axis", 0)]),
      node("Split", [probs, tag("split")], [tag("probs_past"), tag("probs_new")], [intAttr("axis", -1)]),
      ...vPast.nodes,
      ...vNew.nodes,
      node("MatMul", [tag("probs_past"), vPast.end], [tag("out_past")]),
      node("MatMul", [tag("probs_new"), vNew.end], [tag("out_new")]),
      node("Add", [tag("out_past"), tag("out_new")], [value.matMul.output![0]]),
    ];
    before.set(key.matMul, scores);
    before.set(value.matMul, weighted);
    for (const n of [key.concat, ...key.chain, key.matMul, value.concat, ...value.chain, value.matMul]) removed.add(n);
  }
  const nodes: onnx.INodeProto[] = [];
  for (const n of g.nodes) {
    nodes.push(...(before.get(n) ?? []));
    if (!removed.has(n)) nodes.push(n);
  }
  graph.node = nodes;
  graph.initializer = [
    ...(graph.initializer ?? []),
    int64Tensor(AXIS_2, [2]),
  ];
  return plans.length;
}
