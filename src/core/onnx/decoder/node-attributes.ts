/** Reading attributes of ONNX graph nodes (the decoder graph rewrites share it). */
import type { onnx } from "onnx-proto";

/** An integer attribute of `node`, or undefined when it has none. */
export function intAttribute(node: onnx.INodeProto, name: string): number | undefined {
  const found = (node.attribute ?? []).find((a) => a.name === name);
  return found ? Number(found.i ?? 0) : undefined;
}
