/**
 * Restricts a decoder's lm_head to the vocabulary rows its caller can ever sample.
 *
 * A codec TTS's speech LM samples only its speech tokens and one end token (NeuTTS: 65537 of
 * 217472 ids), yet the file's lm_head computes every row: on a Qwen2.5-0.5B-sized backbone that
 * head is a third of the weights a decode step reads. This rewrite puts a Gather of the kept rows
 * in front of the head's weights (for MatMulNBits also its scales, zero points and bias), all of
 * them constants, so onnxruntime folds them into smaller initializers once at load; the step then
 * reads only those rows and returns logits in the order of `rows` (logits[i] is the score of id
 * rows[i]). The numbers of the kept rows are the file's; nothing on disk changes.
 *
 * Understood heads: MatMul on an initializer [hidden, vocab] or on Transpose(an initializer
 * [vocab, hidden]) (a tied embedding), and com.microsoft MatMulNBits without g_idx. Anything else
 * is left alone (the caller then gets every row).
 */
import { onnx } from "onnx-proto";
import { int64Tensor, intAttributeProto } from "../node-attributes";

const PREFIX = "voice_stream_logit_rows";

function elements(tensor: onnx.ITensorProto): number {
  return (tensor.dims ?? []).reduce((n: number, d) => n * Number(d), 1);
}

/**
 * Rewrites `head` (the node computing the logits, found by the caller) to compute only `rows`;
 * false when the head is not of a form above or a row is out of range (nothing changed then).
 */
export function keepLogitRows(graph: onnx.IGraphProto, head: onnx.INodeProto, rows: readonly number[], logitsName: string): boolean {
  if (rows.length === 0) return false;
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const nodes = graph.node ?? [];
  const consumers = (name: string) => nodes.filter((n) => (n.input ?? []).includes(name)).length;
  const added: onnx.INodeProto[] = [];
  const extra: onnx.TensorProto[] = [int64Tensor(`${PREFIX}_ids`, rows)];
  const inRange = (size: number) => rows.every((r) => Number.isInteger(r) && r >= 0 && r < size);
  /** Gather(input, ids, axis) → a new name; onnxruntime folds it, its inputs being constants. */
  const gather = (input: string, axis: number, tag: string): string => {
    const output = `${PREFIX}_${tag}`;
    added.push(
      onnx.NodeProto.create({
        name: output,
        opType: "Gather",
        input: [input, `${PREFIX}_ids`],
        output: [output],
        attribute: [intAttributeProto("axis", axis)],
      }),
    );
    return output;
  };
  /** The rows of a tensor stored flat as [vocab · perRow]: reshape to [vocab, perRow], gather, flatten. */
  const gatherFlatRows = (tensor: onnx.ITensorProto, vocab: number, tag: string): string | undefined => {
    const total = elements(tensor);
    if (total % vocab !== 0) return undefined;
    extra.push(int64Tensor(`${PREFIX}_${tag}_2d`, [vocab, total / vocab]), int64Tensor(`${PREFIX}_${tag}_flat`, [-1]));
    const shaped = `${PREFIX}_${tag}_rows`;
    added.push(onnx.NodeProto.create({ name: shaped, opType: "Reshape", input: [tensor.name!, `${PREFIX}_${tag}_2d`], output: [shaped] }));
    const picked = gather(shaped, 0, `${tag}_picked`);
    const flat = `${PREFIX}_${tag}`;
    added.push(onnx.NodeProto.create({ name: flat, opType: "Reshape", input: [picked, `${PREFIX}_${tag}_flat`], output: [flat] }));
    return flat;
  };

  if (head.opType === "MatMulNBits") {
    const inputs = head.input ?? [];
    const n = (head.attribute ?? []).find((a) => a.name === "N");
    const vocab = Number(n?.i ?? 0);
    // g_idx (input 4) reorders blocks per column: not handled.
    if (!n || !inRange(vocab) || (inputs[4] ?? "") !== "") return false;
    const weights = initializers.get(inputs[1] ?? "");
    const scales = initializers.get(inputs[2] ?? "");
    if (!weights || !scales || Number(weights.dims?.[0]) !== vocab) return false;
    const zeroPoints = inputs[3] ? initializers.get(inputs[3]) : undefined;
    const bias = inputs[5] ? initializers.get(inputs[5]) : undefined;
    if ((inputs[3] && !zeroPoints) || (inputs[5] && !bias)) return false;
    const newScales = gatherFlatRows(scales, vocab, "scales");
    const newZeroPoints = zeroPoints ? gatherFlatRows(zeroPoints, vocab, "zero_points") : "";
    if (newScales === undefined || newZeroPoints === undefined) return false;
    const newInputs = [...inputs];
    newInputs[1] = gather(weights.name!, 0, "weights");
    newInputs[2] = newScales;
    if (zeroPoints) newInputs[3] = newZeroPoints;
    if (bias) newInputs[5] = gather(bias.name!, 0, "bias");
    head.input = newInputs;
    n.i = rows.length;
  } else if (head.opType === "MatMul") {
    const weightName = head.input?.[1] ?? "";
    const weights = initializers.get(weightName);
    const transpose = weights ? undefined : nodes.find((node) => (node.output ?? []).includes(weightName));
    if (weights) {
      // [hidden, vocab]: the vocabulary is the columns.
      if (weights.dims?.length !== 2 || !inRange(Number(weights.dims[1]))) return false;
      head.input![1] = gather(weightName, 1, "weights");
    } else if (transpose?.opType === "Transpose" && consumers(weightName) === 1) {
      // Transpose(embedding [vocab, hidden]) with perm [1, 0]: gather the embedding's rows first.
      const table = initializers.get(transpose.input?.[0] ?? "");
      const perm = (transpose.attribute ?? []).find((a) => a.name === "perm")?.ints?.map(Number);
      if (!table || table.dims?.length !== 2 || (perm && perm.join() !== "1,0") || !inRange(Number(table.dims[0]))) return false;
      transpose.input![0] = gather(table.name!, 0, "table");
    } else {
      return false;
    }
  } else {
    return false;
  }

  graph.initializer = [...(graph.initializer ?? []), ...extra];
  graph.node = [...added, ...nodes];
  const dims = (graph.output ?? []).find((o) => o.name === logitsName)?.type?.tensorType?.shape?.dim;
  if (dims && dims.length > 0) dims[dims.length - 1] = onnx.TensorShapeProto.Dimension.create({ dimValue: rows.length });
  return true;
}
