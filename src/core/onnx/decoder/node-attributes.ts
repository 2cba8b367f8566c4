/** Reading and writing attributes of ONNX graph nodes (the decoder graph rewrites share them). */
import { onnx } from "onnx-proto";

/** An integer attribute of `node`, or undefined when it has none. */
export function intAttribute(node: onnx.INodeProto, name: string): number | undefined {
  const found = (node.attribute ?? []).find((a) => a.name === name);
  return found ? Number(found.i ?? 0) : undefined;
}

/** An integer attribute to put on a node. */
export function intAttributeProto(name: string, i: number): onnx.AttributeProto {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });
}
