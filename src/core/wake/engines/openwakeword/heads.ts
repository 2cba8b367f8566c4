/**
 * Wake word heads: small classifiers over the last N speech embeddings. Each head's window
 * (16, 22, 34, ...) and number of outputs are read from its input and output shapes; its
 * name is its file name without ".onnx". A head with several outputs reports one wake word
 * per output: the labels come from the output's name when it is a JSON map of index to
 * label (as openWakeWord's multi-class heads carry it; unmapped indices, e.g. 0 = "none of
 * these", are not wake words), else "<head>:<index>".
 */
import * as path from "path";
import * as ort from "onnxruntime-node";
import { EMBEDDING_SIZE } from "./features";

export interface HeadOutput {
  index: number;
  name: string;
}

export class WakeHead {
  readonly name: string;
  readonly window: number;
  readonly outputs: HeadOutput[];
  private readonly inputName: string;
  private readonly outputName: string;

  constructor(readonly session: ort.InferenceSession, readonly file: string) {
    this.name = path.basename(file).replace(/\.onnx$/i, "");
    this.inputName = session.inputNames[0];
    this.outputName = session.outputNames[0];
    const input = tensorShape(session, "input", this.inputName);
    const output = tensorShape(session, "output", this.outputName);
    const window = input[input.length - 2];
    if (input.length !== 3 || input[2] !== EMBEDDING_SIZE || typeof window !== "number" || window < 1) {
      throw new Error(`${file} is not an openWakeWord head: its input should be [1, window, ${EMBEDDING_SIZE}] embeddings, got [${input.join(", ")}]`);
    }
    const count = output[output.length - 1];
    if (typeof count !== "number" || count < 1) throw new Error(`${file}: its output shape [${output.join(", ")}] has no fixed number of scores`);
    this.window = window;
    this.outputs = outputNames(this.name, this.outputName, count);
  }

  /** Scores of this head's outputs for the embeddings window `features` ([window, 96]). */
  async scores(features: Float32Array): Promise<Float32Array> {
    const out = await this.session.run({ [this.inputName]: new ort.Tensor("float32", features, [1, this.window, EMBEDDING_SIZE]) });
    return out[this.outputName].data as Float32Array;
  }
}

function tensorShape(session: ort.InferenceSession, side: "input" | "output", name: string): (number | string)[] {
  const list = (side === "input" ? session.inputMetadata : session.outputMetadata) as unknown as { name: string; isTensor: boolean; shape?: (number | string)[] }[];
  const meta = Array.isArray(list) ? list.find((m) => m.name === name) : undefined;
  return meta?.isTensor && meta.shape ? meta.shape : [];
}

function outputNames(head: string, outputName: string, count: number): HeadOutput[] {
  if (count === 1) return [{ index: 0, name: head }];
  let labels: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(outputName) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) labels = parsed as Record<string, unknown>;
  } catch {
    labels = undefined;
  }
  const out: HeadOutput[] = [];
  for (let i = 0; i < count; i++) {
    if (labels) {
      const label = labels[String(i)];
      if (typeof label === "string" && label !== "") out.push({ index: i, name: label });
    } else {
      out.push({ index: i, name: `${head}:${i}` });
    }
  }
  return out;
}
