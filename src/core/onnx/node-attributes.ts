/** Reading and writing attributes of ONNX graph nodes, and their small int64 constants (the in-memory graph rewrites share them). */
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

/** An int64 constant (Slice bounds and axes, Split sizes, shapes), 1-D unless `dims` says otherwise. */
export function int64Tensor(name: string, values: readonly (number | bigint)[], dims: number[] = [values.length]): onnx.TensorProto {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.INT64,
    rawData: new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer),
  });
}
