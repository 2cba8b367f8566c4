/**
 * Fuses 4-bit MatMuls that read the same input into one: a decoder layer's q, k and v
 * projections, and its gate and up projections, become one com.microsoft MatMulNBits each over
 * their weights stacked along N, followed by a Split back into the original outputs.
 *
 * The stacking is a Concat of constant initializers (weights, scales, zero points), which
 * onnxruntime folds once at load, so nothing is copied per step and the file is not read here.
 * Each output column is computed exactly as before (same weights, same blocks, same kernel):
 * the logits are bit-identical. What it saves is per call: with int8 activations
 * (accuracy_level 4) each MatMulNBits quantizes its input row again, and every call is a
 * thread-pool dispatch. On the Qwen3-0.6B-shaped q4 model (int8 activations) the LLM engine
 * decoded 30.4 against 29.5 tokens/s (8 interleaved rounds, every one faster, the same greedy
 * ids); on the NeuTTS-shaped codec backbone (Qwen2 shape, q/k/v biases after the split) it is
 * within noise (42.9 against 43.3 and 40.1 against 41.3 frames/s in two runs).
 */
import { onnx } from "onnx-proto";
import { int64Tensor, intAttribute, intAttributeProto } from "../node-attributes";

const PREFIX = "voice_stream_fused";

/** The attributes that must agree for two MatMulNBits to share one node (all but N). */
function signature(node: onnx.INodeProto): string {
  return (node.attribute ?? [])
    .filter((a) => a.name !== "N")
    .map((a) => `${a.name}=${String(a.i ?? a.f ?? "")}`)
    .sort()
    .join(",");
}

/** Fuses every group of two or more such siblings; returns how many fused nodes there are now. */
export function fuseSiblingMatMuls(graph: onnx.IGraphProto): number {
  const nodes = graph.node ?? [];
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const isConstant = (name: string | undefined) => name !== undefined && initializers.has(name);
  const groups = new Map<string, onnx.INodeProto[]>();
  for (const node of nodes) {
    const inputs = node.input ?? [];
    // Weights, scales and optional zero points only (no g_idx, no bias), all constants.
    if (node.opType !== "MatMulNBits" || node.domain !== "com.microsoft" || inputs.length < 3 || inputs.length > 4) continue;
    if (!inputs.slice(1).every(isConstant) || intAttribute(node, "N") === undefined) continue;
    const zeroPointType = inputs[3] ? initializers.get(inputs[3])!.dataType : "none";
    const key = [inputs[0], signature(node), inputs.length, zeroPointType, initializers.get(inputs[2])!.dims?.length].join("|");
    groups.set(key, [...(groups.get(key) ?? []), node]);
  }

  const constants: onnx.INodeProto[] = [];
  const replaced = new Map<onnx.INodeProto, onnx.INodeProto[]>();
  const removed = new Set<onnx.INodeProto>();
  const added: onnx.TensorProto[] = [];
  let fused = 0;
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const name = `${PREFIX}_${fused++}`;
    const stack = (index: number, part: string): string => {
      const output = `${name}_${part}`;
      constants.push(
        onnx.NodeProto.create({
          name: output,
          opType: "Concat",
          input: members.map((m) => m.input![index]),
          output: [output],
          attribute: [intAttributeProto("axis", 0)],
        }),
      );
      return output;
    };
    const sizes = members.map((m) => intAttribute(m, "N")!);
    const first = members[0];
    const inputs = [first.input![0], stack(1, "weights"), stack(2, "scales")];
    if (first.input!.length === 4) inputs.push(stack(3, "zero_points"));
    const matMul = onnx.NodeProto.create({
      name,
      opType: "MatMulNBits",
      domain: "com.microsoft",
      input: inputs,
      output: [`${name}_out`],
      attribute: (first.attribute ?? []).map((a) =>
        a.name === "N" ? intAttributeProto("N", sizes.reduce((x, y) => x + y, 0)) : a,
      ),
    });
    added.push(int64Tensor(`${name}_sizes`, sizes));
    const split = onnx.NodeProto.create({
      name: `${name}_split`,
      opType: "Split",
      input: [`${name}_out`, `${name}_sizes`],
      output: members.map((m) => m.output![0]),
      attribute: [intAttributeProto("axis", -1)],
    });
    // The fused node takes the first member's place: every member reads the same input, so it is ready there.
    replaced.set(first, [matMul, split]);
    for (const m of members) removed.add(m);
  }
  if (fused === 0) return 0;
  graph.initializer = [...(graph.initializer ?? []), ...added];
  graph.node = [...constants, ...nodes.flatMap((node) => replaced.get(node) ?? (removed.has(node) ? [] : [node]))];
  return fused;
}
