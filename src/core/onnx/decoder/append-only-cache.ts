/**
 * Rewrites a decoder graph's KV cache so the generation loop can keep the cache itself and
 * only append to it.
 *
 * Hub exports return `present.N.key|value` — the whole cache, past plus new — from every step.
 * onnxruntime-node copies every output into a fresh JavaScript ArrayBuffer, so a step hands
 * Node the entire cache again (28 layers × 2 × context × 4 KB for Qwen3-0.6B: 15 MB at 64
 * positions, 130 MB at 570), and that churn of external memory drives V8 into a scavenge
 * and a mark-compact every few steps.
 *
 * After this rewrite:
 *   inputs   past_key_values.N.key|value  [batch, past, kv_heads, head_dim]   (position-major)
 *   outputs  voice_stream_new.N.key|value [batch, new, kv_heads, head_dim]    (this step's rows only)
 * and the present outputs are gone. Position-major means the cache for `past + new` positions
 * is the cache for `past` with rows appended, so the loop keeps one growing buffer per layer
 * and feeds a prefix view of it: no copy and no allocation in JavaScript per step. Inside the
 * graph a Transpose restores the original [batch, kv_heads, past, head_dim] layout for the
 * attention, so the computation is the file's own.
 *
 * Heads-major layout (`layout: "heads"`, for graphs that take position_ids and attention_mask):
 *   inputs   past_key_values.N.key|value  [batch, kv_heads, capacity, head_dim] (the file's layout)
 *   outputs  voice_stream_new_heads.N.key|value [batch, kv_heads, new, head_dim]
 * with no Transpose in the graph at all: the loop keeps each input as one buffer whose heads are
 * `capacity` positions apart, feeds it whole, and masks the positions not yet written with
 * attention_mask zeros (their keys get the masked score, so they weigh nothing). The past's
 * Transpose copied the whole cache every step (Qwen3-0.6B: 229 KB a position, ~7 ms of a 49 ms
 * step at 512 positions); the masked slack costs a little attention instead (kv-cache-decoder.ts
 * keeps it to a few dozen positions). The positions themselves come from position_ids, which is
 * why that input must exist: a graph that derived them from the past's length would see the
 * capacity.
 *
 * Applies only when every cache input is float32 and feeds a Concat on the sequence axis whose
 * result is the matching present output (the plain export form); fused attention ops
 * (com.microsoft GroupQueryAttention, which take past/present themselves) are left alone.
 */
import { onnx } from "onnx-proto";
import { intAttribute } from "../node-attributes";

export const NEW_CACHE_PREFIX = "voice_stream_new.";
/** Outputs of the heads-major layout: this step's rows as [batch, kv_heads, new, head_dim]. */
export const NEW_HEADS_PREFIX = "voice_stream_new_heads.";

export type AppendOnlyLayout = "positions" | "heads";
const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

const perm0213 = () => onnx.AttributeProto.create({ name: "perm", type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 1, 3] });

/**
 * Rewrites `graph` in place; returns the layout it took ("heads" falls back to "positions" when
 * the graph lacks position_ids or attention_mask), or false (nothing changed) when its cache is
 * not the plain Concat form.
 */
export function appendOnlyCache(graph: onnx.IGraphProto, wanted: AppendOnlyLayout = "positions"): AppendOnlyLayout | false {
  const nodes = graph.node ?? [];
  const inputs = (graph.input ?? []).filter((i) => PAST.test(i.name ?? ""));
  if (inputs.length === 0) return false;
  const outputs = graph.output ?? [];

  interface Plan {
    input: onnx.IValueInfoProto;
    concat: onnx.INodeProto;
    present: string;
    newName: string;
  }
  const plans: Plan[] = [];
  for (const input of inputs) {
    const name = input.name!;
    const tensorType = input.type?.tensorType;
    const dims = tensorType?.shape?.dim;
    if (tensorType?.elemType !== onnx.TensorProto.DataType.FLOAT || !dims || dims.length !== 4) return false;
    const concats = nodes.filter((n) => n.opType === "Concat" && (n.input ?? [])[0] === name);
    if (concats.length !== 1) return false;
    const concat = concats[0];
    const axis = intAttribute(concat, "axis");
    if ((axis !== 2 && axis !== -2) || (concat.input ?? []).length !== 2) return false;
    const present = concat.output![0];
    const [, layer, kind] = PAST.exec(name)!;
    if (present !== `present.${layer}.${kind}` || !outputs.some((o) => o.name === present)) return false;
    plans.push({ input, concat, present, newName: `${NEW_CACHE_PREFIX}${layer}.${kind}` });
  }

  const graphInputs = new Set((graph.input ?? []).map((i) => i.name));
  const layout: AppendOnlyLayout = wanted === "heads" && graphInputs.has("position_ids") && graphInputs.has("attention_mask") ? "heads" : "positions";
  const head: onnx.INodeProto[] = [];
  const tail: onnx.INodeProto[] = [];
  const newOutputs: onnx.IValueInfoProto[] = [];
  for (const { input, concat, present, newName: positionsName } of plans) {
    const name = input.name!;
    const [batch, heads, positions, headDim] = input.type!.tensorType!.shape!.dim!;
    if (layout === "heads") {
      const newName = positionsName.replace(NEW_CACHE_PREFIX, NEW_HEADS_PREFIX);
      tail.push(onnx.NodeProto.create({ name: `${newName}__rows`, opType: "Identity", input: [concat.input![1]], output: [newName] }));
      newOutputs.push(cacheRowsOutput(newName, [batch, heads, newPositions(), headDim]));
      graph.output = (graph.output ?? []).filter((o) => o.name !== present);
      continue;
    }
    const newName = positionsName;
    const standard = `${name}__standard_layout`;
    // Every consumer (the Concat, and e.g. a Shape reading the past length) sees the original layout.
    for (const node of nodes) node.input = (node.input ?? []).map((i) => (i === name ? standard : i));
    head.push(onnx.NodeProto.create({ name: `${name}__to_standard`, opType: "Transpose", input: [name], output: [standard], attribute: [perm0213()] }));

    input.type!.tensorType!.shape!.dim = [batch, positions, heads, headDim];

    tail.push(onnx.NodeProto.create({ name: `${newName}__rows`, opType: "Transpose", input: [concat.input![1]], output: [newName], attribute: [perm0213()] }));
    newOutputs.push(cacheRowsOutput(newName, [batch, newPositions(), heads, headDim]));
    graph.output = (graph.output ?? []).filter((o) => o.name !== present);
  }
  graph.node = [...head, ...nodes, ...tail];
  graph.output = [...(graph.output ?? []), ...newOutputs];
  return layout;
}

const newPositions = () => onnx.TensorShapeProto.Dimension.create({ dimParam: "voice_stream_new_positions" });

function cacheRowsOutput(name: string, dim: onnx.TensorShapeProto.IDimension[]): onnx.IValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({ elemType: onnx.TensorProto.DataType.FLOAT, shape: onnx.TensorShapeProto.create({ dim }) }),
    }),
  });
}
