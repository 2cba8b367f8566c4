/**
 * Reads an ONNX file's graph without its weights, for in-memory graph rewrites: every big
 * initializer becomes external data pointing back into the original file at its own offset,
 * so onnxruntime reads the weights from disk and the rewritten graph stays small.
 */
import * as fs from "fs";
import * as path from "path";
import { onnx } from "onnx-proto";

/** Reads an initializer's bytes (inline or external): what a rewrite that needs weight values is given. */
export type InitializerReader = (tensor: onnx.ITensorProto) => Uint8Array;

/** Initializers smaller than this stay inline in the rewritten graph. */
const EXTERNAL_ABOVE = 4096;

/** Reads fields of a protobuf message straight from a file, without loading big byte fields. */
class ProtoFile {
  private readonly fd: number;
  readonly size: number;

  constructor(file: string) {
    this.fd = fs.openSync(file, "r");
    this.size = fs.fstatSync(this.fd).size;
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  read(position: number, length: number): Buffer {
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, buffer, done, length - done, position + done);
      if (n === 0) throw new Error("unexpected end of the ONNX file");
      done += n;
    }
    return buffer;
  }

  private varint(position: number): { value: number; next: number } {
    const bytes = this.read(position, Math.min(10, this.size - position));
    let value = 0;
    let scale = 1;
    for (let i = 0; i < bytes.length; i++) {
      value += (bytes[i] & 0x7f) * scale;
      scale *= 128;
      if ((bytes[i] & 0x80) === 0) return { value, next: position + i + 1 };
    }
    throw new Error("malformed varint in the ONNX file");
  }

  /** The fields of the message in [start, end): number, where its bytes start (tag included) and where its payload is. */
  *fields(start: number, end: number): Generator<{ field: number; from: number; to: number; payload: number; payloadLength: number }> {
    let at = start;
    while (at < end) {
      const tag = this.varint(at);
      const field = Math.floor(tag.value / 8);
      const wire = tag.value % 8;
      let payload = tag.next;
      let payloadLength: number;
      if (wire === 0) payloadLength = this.varint(payload).next - payload;
      else if (wire === 1) payloadLength = 8;
      else if (wire === 5) payloadLength = 4;
      else if (wire === 2) {
        const length = this.varint(payload);
        payload = length.next;
        payloadLength = length.value;
      } else throw new Error(`unsupported protobuf wire type ${wire} in the ONNX file`);
      const to = payload + payloadLength;
      yield { field, from: at, to, payload, payloadLength };
      at = to;
    }
  }
}

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;

/** Decodes the model's graph; big inline initializers become external data into `file` itself. */
export function readGraphOnly(file: string): onnx.ModelProto {
  const src = new ProtoFile(file);
  try {
    const location = path.basename(file);
    const modelParts: Buffer[] = [];
    let graph: onnx.GraphProto | undefined;
    for (const m of src.fields(0, src.size)) {
      if (m.field !== MODEL_GRAPH) {
        modelParts.push(src.read(m.from, m.to - m.from));
        continue;
      }
      const graphParts: Buffer[] = [];
      const initializers: onnx.TensorProto[] = [];
      for (const g of src.fields(m.payload, m.to)) {
        if (g.field !== GRAPH_INITIALIZER) {
          graphParts.push(src.read(g.from, g.to - g.from));
          continue;
        }
        const tensorParts: Buffer[] = [];
        let raw: { offset: number; length: number } | undefined;
        for (const t of src.fields(g.payload, g.to)) {
          if (t.field === TENSOR_RAW_DATA && t.payloadLength >= EXTERNAL_ABOVE) raw = { offset: t.payload, length: t.payloadLength };
          else tensorParts.push(src.read(t.from, t.to - t.from));
        }
        const tensor = onnx.TensorProto.decode(Buffer.concat(tensorParts));
        if (raw) {
          tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
          tensor.externalData = [
            onnx.StringStringEntryProto.create({ key: "location", value: location }),
            onnx.StringStringEntryProto.create({ key: "offset", value: String(raw.offset) }),
            onnx.StringStringEntryProto.create({ key: "length", value: String(raw.length) }),
          ];
        }
        initializers.push(tensor);
      }
      graph = onnx.GraphProto.decode(Buffer.concat(graphParts));
      graph.initializer = initializers;
    }
    if (!graph) throw new Error(`${file} has no graph`);
    const model = onnx.ModelProto.decode(Buffer.concat(modelParts));
    model.graph = graph;
    return model;
  } finally {
    src.close();
  }
}

/** Reads an initializer's bytes: inline (raw, float or int32 fields) or external data relative to `folder`. */
export function initializerReader(folder: string): InitializerReader {
  return (tensor) => {
    if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const entry = (key: string) => (tensor.externalData ?? []).find((e) => e.key === key)?.value;
      const location = entry("location");
      if (!location) throw new Error(`initializer ${tensor.name} has external data with no location`);
      const file = new ProtoFile(path.join(folder, location));
      try {
        const offset = Number(entry("offset") ?? 0);
        return file.read(offset, Number(entry("length") ?? file.size - offset));
      } finally {
        file.close();
      }
    }
    if (tensor.rawData && tensor.rawData.length > 0) return tensor.rawData;
    if (tensor.floatData && tensor.floatData.length > 0) return new Uint8Array(Float32Array.from(tensor.floatData).buffer);
    if (tensor.int32Data && tensor.int32Data.length > 0) return Uint8Array.from(tensor.int32Data);
    return new Uint8Array(0);
  };
}
