/**
 * A small builder for ONNX graphs on top of onnx-proto, so the project can write real
 * ONNX files from TypeScript (test fixtures, convert-llama2c, benchmark models) with no
 * Python. Values are referred to by name; `op()` returns the name of its output.
 */
import * as fs from "fs";
import * as path from "path";
import { onnx } from "onnx-proto";

export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export type Dim = number | string;

export type TensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array;

/** Forces a float attribute even for an integral value (ONNX distinguishes `f` from `i`). */
export class FloatAttr {
  constructor(readonly value: number) {}
}
export const float = (value: number): FloatAttr => new FloatAttr(value);

export type AttrValue = number | FloatAttr | string | number[] | Float32Array | GraphBuilder | TensorInit;

export interface TensorInit {
  data: TensorData;
  dims: number[];
  dataType?: DataTypeCode;
}

export interface NodeOptions {
  /** Number of outputs, or their names. Default one auto-named output. */
  outputs?: number | string[];
  domain?: string;
  name?: string;
}

function dataTypeOf(data: TensorData): DataTypeCode {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof BigInt64Array) return DataType.INT64;
  if (data instanceof Int8Array) return DataType.INT8;
  if (data instanceof Uint16Array) return DataType.FLOAT16;
  return DataType.UINT8;
}

function rawBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function valueInfo(name: string, elemType: DataTypeCode, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export interface SaveOptions {
  opset?: number;
  /** Extra operator sets, e.g. { "com.microsoft": 1 } for contrib ops like MatMulNBits. */
  extraOpsets?: Record<string, number>;
  producer?: string;
  /**
   * Initializers of at least this many bytes go to `<file>_data` beside the model
   * (ONNX external data), as hub exports do for models over protobuf's 2 GB limit.
   */
  externalDataThreshold?: number;
}

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly initializers: { name: string; init: TensorInit }[] = [];
  private counter = 0;

  constructor(readonly name: string, private readonly prefix = "") {}

  /** A fresh value name; `hint` makes graphs readable in Netron. */
  fresh(hint = "v"): string {
    return `${this.prefix}${hint}_${this.counter++}`;
  }

  input(name: string, elemType: DataTypeCode, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares `value` as a graph output named `name` (adds an Identity when the names differ). */
  output(name: string, elemType: DataTypeCode, dims: Dim[], value: string = name): string {
    if (value !== name) this.op("Identity", [value], {}, { outputs: [name] });
    this.outputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  initializer(name: string, data: TensorData, dims: number[], dataType?: DataTypeCode): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    // An explicit dataType means packed data (e.g. 4-bit weights in uint8), not one value per element.
    if (dataType === undefined && data.length !== expected) {
      throw new Error(`initializer '${name}': ${data.length} values for dims [${dims}] (expected ${expected})`);
    }
    this.initializers.push({ name, init: { data, dims, dataType } });
    return name;
  }

  /** A float32 constant; a scalar when `dims` is []. */
  constFloat(values: number[] | Float32Array, dims?: number[], hint = "c"): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    return this.initializer(this.fresh(hint), data, dims ?? [data.length]);
  }

  constInt64(values: (number | bigint)[], dims?: number[], hint = "c"): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.initializer(this.fresh(hint), data, dims ?? [data.length]);
  }

  /** Adds a node; returns its output names. */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, options: NodeOptions = {}): string[] {
    const outputs =
      Array.isArray(options.outputs)
        ? options.outputs
        : Array.from({ length: options.outputs ?? 1 }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({
      name: options.name ?? this.fresh(`node_${opType}`),
      opType,
      domain: options.domain ?? "",
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
    });
    return outputs;
  }

  /** Adds a single-output node and returns its output name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, options: NodeOptions = {}): string {
    return this.node(opType, inputs, attrs, options)[0];
  }

  toGraphProto(externalData?: ExternalDataWriter): onnx.IGraphProto {
    return {
      name: this.name,
      node: this.nodes,
      input: this.inputs,
      output: this.outputs,
      initializer: this.initializers.map(({ name, init }) => tensorProto(name, init, externalData)),
    };
  }

  /** Serialises the model; with `externalDataPath` big initializers go to that file. */
  toBytes(options: SaveOptions = {}, externalData?: ExternalDataWriter): Uint8Array {
    const opsetImport = [{ domain: "", version: options.opset ?? 17 }];
    for (const [domain, version] of Object.entries(options.extraOpsets ?? {})) opsetImport.push({ domain, version });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport,
      producerName: options.producer ?? "node-red-contrib-voice-stream",
      graph: this.toGraphProto(externalData),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  /** Writes `file` (and `file + "_data"` when initializers cross the external-data threshold). */
  save(file: string, options: SaveOptions = {}): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const threshold = options.externalDataThreshold;
    if (threshold === undefined) {
      fs.writeFileSync(file, this.toBytes(options));
      return;
    }
    const writer = new ExternalDataWriter(`${file}_data`, threshold);
    try {
      fs.writeFileSync(file, this.toBytes(options, writer));
    } finally {
      writer.close();
    }
  }
}

/** Streams large initializers into one side file, as ONNX external data expects. */
export class ExternalDataWriter {
  private fd: number | undefined;
  private offset = 0;
  readonly location: string;

  constructor(private readonly file: string, readonly threshold: number) {
    this.location = path.basename(file);
  }

  /** Appends the bytes (aligned to 4 KiB, as onnx's own writer does) and returns where they went. */
  write(bytes: Uint8Array): { offset: number; length: number } {
    if (this.fd === undefined) this.fd = fs.openSync(this.file, "w");
    const pad = (4096 - (this.offset % 4096)) % 4096;
    if (pad) fs.writeSync(this.fd, new Uint8Array(pad));
    this.offset += pad;
    const at = this.offset;
    fs.writeSync(this.fd, bytes);
    this.offset += bytes.byteLength;
    return { offset: at, length: bytes.byteLength };
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function tensorProto(name: string, init: TensorInit, externalData?: ExternalDataWriter): onnx.ITensorProto {
  const bytes = rawBytes(init.data);
  const base: onnx.ITensorProto = { name, dims: init.dims, dataType: init.dataType ?? dataTypeOf(init.data) };
  if (externalData && bytes.byteLength >= externalData.threshold) {
    const { offset, length } = externalData.write(bytes);
    return {
      ...base,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: "location", value: externalData.location },
        { key: "offset", value: String(offset) },
        { key: "length", value: String(length) },
      ],
    };
  }
  return { ...base, rawData: bytes };
}

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (value instanceof FloatAttr) return { name, type: T.FLOAT, f: value.value };
  if (typeof value === "number") {
    return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  if (typeof value === "string") return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (value instanceof Float32Array) return { name, type: T.FLOATS, floats: Array.from(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if (value instanceof GraphBuilder) return { name, type: T.GRAPH, g: value.toGraphProto() };
  return { name, type: T.TENSOR, t: tensorProto(name, value) };
}
