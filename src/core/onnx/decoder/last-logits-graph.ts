/**
 * Opens a decoder-only ONNX model so that it computes logits for the last position only.
 *
 * Hub exports (onnx-community / optimum) return logits for every input position, so a
 * 512-token prefill spends a vocabulary-sized MatMul on 511 rows nobody reads (for Qwen3-0.6B
 * ~160 GFLOP and a 311 MB output, a quarter of the prefill) — our loop samples only from the
 * last row. This module reads the model's graph (the weights are not read: every initializer
 * becomes external data pointing back into the original files at its own offset), inserts a
 * Slice of the last position in front of the lm_head MatMul, and hands onnxruntime the small
 * rewritten graph. The weights, the numbers and the file on disk stay exactly as they are.
 *
 * When the graph does not have the expected shape (logits = MatMul/MatMulNBits/Gemm of a
 * [batch, sequence, hidden] tensor, possibly through a Cast), the caller gets `undefined` and
 * loads the file as it is.
 */
import * as path from "path";
import { onnx } from "onnx-proto";
import { appendOnlyCache, type AppendOnlyLayout } from "./append-only-cache";
import { fuseSiblingMatMuls } from "./fuse-sibling-matmuls";
import { pastInPlaceAttention } from "./past-in-place-attention";
import { initializerReader, readGraphOnly } from "../graph-file";
import { int8MatMuls } from "./int8-prefill-graph";
import { keepLogitRows } from "./logit-rows-graph";
import { int64Tensor, intAttributeProto } from "../node-attributes";
import { addTopLogits } from "./top-logits-graph";

export interface LastLogitsModel {
  /** The rewritten model (graph only; weights referenced as external data). */
  bytes: Uint8Array;
  /** Folder the external data locations are relative to (the original model's folder). */
  externalDataFolder: string;
  /** Whether the logits are those of `logitRows` only (in that order), as asked. */
  keptRows: boolean;
  /** Layers whose attention reads the past in place (past-in-place-attention.ts), as asked. */
  pastInPlaceLayers: number;
  /** Whether the graph also outputs the k best logits (top-logits-graph.ts), as asked. */
  topLogits: boolean;
}

const PASS_THROUGH = new Set(["Cast", "Identity"]);
const HEADS = new Set(["MatMul", "MatMulNBits", "Gemm"]);

/**
 * Inserts `Slice(hidden, [-1], [MAX], axes [1])` before the lm_head; false when the graph is
 * not of the expected form (nothing is changed then).
 */
/** The lm_head: the MatMul / MatMulNBits / Gemm behind `logitsName` (through Casts and Identities). */
function findLmHead(graph: onnx.IGraphProto, logitsName: string): onnx.INodeProto | undefined {
  const producer = new Map<string, onnx.INodeProto>();
  for (const node of graph.node ?? []) for (const out of node.output ?? []) producer.set(out, node);
  let head = producer.get(logitsName);
  while (head && PASS_THROUGH.has(head.opType ?? "")) head = producer.get(head.input![0]);
  if (!head || !HEADS.has(head.opType ?? "") || head.domain === "ai.onnx.ml") return undefined;
  return head;
}

function sliceBeforeHead(graph: onnx.IGraphProto, head: onnx.INodeProto, logitsName: string): boolean {
  const nodes = graph.node ?? [];
  const consumers = (name: string) => nodes.filter((n) => (n.input ?? []).includes(name)).length;
  // Gemm is 2-D only: a [batch·sequence, hidden] input has no position axis to slice.
  if (head.opType === "Gemm") return false;
  const hidden = head.input![0];
  // The hidden state must feed the head alone, or other consumers would see a different tensor.
  if (consumers(hidden) !== 1) return false;

  const prefix = "voice_stream_last_position";
  graph.initializer = [
    ...(graph.initializer ?? []),
    int64Tensor(`${prefix}_starts`, [-1n]),
    int64Tensor(`${prefix}_ends`, [9223372036854775807n]),
    int64Tensor(`${prefix}_axes`, [1n]),
  ];
  const sliced = `${prefix}_hidden`;
  const slice = onnx.NodeProto.create({
    name: `${prefix}_slice`,
    opType: "Slice",
    input: [hidden, `${prefix}_starts`, `${prefix}_ends`, `${prefix}_axes`],
    output: [sliced],
  });
  head.input![0] = sliced;
  graph.node = [...nodes.slice(0, nodes.indexOf(head)), slice, ...nodes.slice(nodes.indexOf(head))];

  // The logits output now has one position: say so, so shape inference agrees.
  const output = (graph.output ?? []).find((o) => o.name === logitsName);
  const dims = output?.type?.tensorType?.shape?.dim;
  if (dims && dims.length === 3) dims[1] = onnx.TensorShapeProto.Dimension.create({ dimValue: 1 });
  return true;
}

export interface LastLogitsOptions {
  /** Name of the logits output (default "logits"). */
  logitsName?: string;
  /**
   * Opt-in: com.microsoft MatMulNBits `accuracy_level` for nodes that do not set one. 4 lets
   * onnxruntime quantize activations to int8 per block and use integer dot products (much
   * faster 4-bit decode on AVX2/AVX-512 VNNI), at the cost of logits that differ slightly from
   * the float computation the file describes. Default: leave the model as it is.
   */
  matMulNBitsAccuracyLevel?: number;
  /** Also rewrite the KV cache as append-only (see append-only-cache.ts) when its form allows. */
  appendOnlyCache?: boolean;
  /** The append-only cache's layout (default "positions"); "heads" where the graph allows it. */
  appendOnlyLayout?: AppendOnlyLayout;
  /**
   * Compute the logits of these vocabulary ids only, in this order (logit-rows-graph.ts): for a
   * caller that can sample nothing else. The result's `keptRows` says whether the head allowed it.
   */
  logitRows?: readonly number[];
  /** Fuse 4-bit MatMuls that read the same input (q/k/v, gate/up) into one each (fuse-sibling-matmuls.ts). */
  fuseSiblingMatMuls?: boolean;
  /** The prefill form: every 4-bit MatMul but the lm_head as an int8 one (int8-prefill-graph.ts). */
  int8MatMuls?: boolean;
  /** With the append-only cache: attend over the past where it lies, without the Concat's copy (past-in-place-attention.ts). */
  pastInPlaceAttention?: boolean;
  /** Also output the k best logits, k fed per run (top-logits-graph.ts): a top-k sampler fetches those instead of the row. */
  topLogits?: boolean;
}

/** Sets accuracy_level on MatMulNBits nodes that have none; returns how many were changed. */
function setAccuracyLevel(graph: onnx.IGraphProto, level: number): number {
  let changed = 0;
  for (const node of graph.node ?? []) {
    if (node.opType !== "MatMulNBits" || (node.attribute ?? []).some((a) => a.name === "accuracy_level")) continue;
    node.attribute = [...(node.attribute ?? []), intAttributeProto("accuracy_level", level)];
    changed++;
  }
  return changed;
}

/**
 * The model at `file` rewritten to compute the last position's logits only, or undefined
 * when its graph is not a form this rewrite understands.
 */
export function lastLogitsModel(file: string, options: LastLogitsOptions = {}): LastLogitsModel | undefined {
  const model = readGraphOnly(file);
  const logitsName = options.logitsName ?? "logits";
  const head = findLmHead(model.graph!, logitsName);
  if (!head || !sliceBeforeHead(model.graph!, head, logitsName)) return undefined;
  const keptRows = options.logitRows ? keepLogitRows(model.graph!, head, options.logitRows, logitsName) : false;
  if (options.int8MatMuls && int8MatMuls(model.graph!, initializerReader(path.dirname(path.resolve(file))), new Set([head])) === 0) return undefined;
  if (options.matMulNBitsAccuracyLevel !== undefined) setAccuracyLevel(model.graph!, options.matMulNBitsAccuracyLevel);
  if (options.fuseSiblingMatMuls) fuseSiblingMatMuls(model.graph!);
  const appended = options.appendOnlyCache ? appendOnlyCache(model.graph!, options.appendOnlyLayout) : false;
  const opset = Number((model.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx")?.version ?? 0);
  const pastInPlaceLayers = appended && options.pastInPlaceAttention ? pastInPlaceAttention(model.graph!, opset) : 0;
  const topLogits = options.topLogits ? addTopLogits(model.graph!, logitsName, opset) : false;
  return { bytes: onnx.ModelProto.encode(model).finish(), externalDataFolder: path.dirname(path.resolve(file)), keptRows, pastInPlaceLayers, topLogits };
}
