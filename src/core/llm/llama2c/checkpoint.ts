/**
 * Reader for llama2.c's legacy checkpoint (`.bin` as read by run.c): a 7-int32 header and
 * float32 tensors in a fixed order, each linear weight [out, in]. Returns the weights in the
 * decoder builder's Hugging Face layout, with wq/wk rows permuted from llama2.c's interleaved
 * RoPE pairs (2j, 2j+1) into Hugging Face's half-split pairs (j, j + head_dim/2).
 */
import { Llama2cInputError } from "./errors";
import type { DecoderLayerWeights, DecoderOnlyConfig, DecoderOnlyWeights } from "../../onnx-builder/transformer";

export interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** |vocab_size| from the header. */
  vocabSize: number;
  seqLen: number;
  /** A positive header vocab_size: the classifier is the token embedding table. */
  sharedClassifier: boolean;
}

export interface Llama2cCheckpoint {
  header: Llama2cHeader;
  config: DecoderOnlyConfig;
  weights: DecoderOnlyWeights;
}

/** llama2.c's fixed hyperparameters (run.c hard-codes them). */
export const LLAMA2C_RMS_EPS = 1e-5;
export const LLAMA2C_ROPE_THETA = 10000;

const HEADER_BYTES = 7 * 4;

/** Parses and checks the header; throws a readable error for anything that is not a llama2.c checkpoint. */
export function readLlama2cHeader(bytes: Uint8Array): Llama2cHeader {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new Llama2cInputError(`not a llama2.c checkpoint: ${bytes.byteLength} bytes is shorter than the 28-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = Array.from({ length: 7 }, (_, i) =>
    view.getInt32(i * 4, true),
  );
  const header: Llama2cHeader = {
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize: Math.abs(rawVocab),
    seqLen,
    sharedClassifier: rawVocab > 0,
  };
  const plausible =
    [dim, hiddenDim, nLayers, nHeads, nKvHeads, header.vocabSize, seqLen].every((v) => v > 0 && v < 1 << 24) &&
    dim % nHeads === 0 &&
    nHeads % nKvHeads === 0 &&
    (dim / nHeads) % 2 === 0;
  if (!plausible) {
    throw new Llama2cInputError(
      `not a llama2.c checkpoint: implausible header dim=${dim} hidden_dim=${hiddenDim} n_layers=${nLayers} ` +
        `n_heads=${nHeads} n_kv_heads=${nKvHeads} vocab_size=${rawVocab} seq_len=${seqLen}`,
    );
  }
  return header;
}

/** The file size the header implies (run.c's legacy layout, including the unused RoPE tables). */
export function expectedCheckpointBytes(h: Llama2cHeader): number {
  const headSize = h.dim / h.nHeads;
  const kvDim = h.nKvHeads * headSize;
  const floats =
    h.vocabSize * h.dim +
    h.nLayers * (h.dim + h.dim * h.dim + 2 * kvDim * h.dim + h.dim * h.dim + h.dim + 3 * h.hiddenDim * h.dim) +
    h.dim +
    h.seqLen * headSize + // freq_cis_real + freq_cis_imag: seq_len × head_size/2 each
    (h.sharedClassifier ? 0 : h.vocabSize * h.dim);
  return HEADER_BYTES + floats * 4;
}

/**
 * Reorders the rows of a [heads·headSize, in] projection within each head so that RoPE's
 * interleaved pairs (2j, 2j+1) become the rotate-half pairs (j, j + headSize/2). q·k scores are
 * unchanged because q and k get the same permutation.
 */
export function interleavedToHalfSplitRows(w: Float32Array, heads: number, headSize: number, inDim: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = headSize / 2;
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      const even = (h * headSize + 2 * j) * inDim;
      const odd = (h * headSize + 2 * j + 1) * inDim;
      out.set(w.subarray(even, even + inDim), (h * headSize + j) * inDim);
      out.set(w.subarray(odd, odd + inDim), (h * headSize + half + j) * inDim);
    }
  }
  return out;
}

/** Reads a whole checkpoint (e.g. `fs.readFileSync("stories260K.bin")`). */
export function readLlama2cCheckpoint(bytes: Uint8Array): Llama2cCheckpoint {
  const header = readLlama2cHeader(bytes);
  const expected = expectedCheckpointBytes(header);
  if (bytes.byteLength !== expected) {
    throw new Llama2cInputError(
      `not a complete llama2.c legacy checkpoint: the header implies ${expected} bytes but the file has ` +
        `${bytes.byteLength} (truncated, or another llama2.c export version)`,
    );
  }
  const { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize } = header;
  const headSize = dim / nHeads;
  const kvDim = nKvHeads * headSize;

  // Copy once into a fresh aligned buffer (Float32Array views need 4-byte alignment, and a Node
  // Buffer's slice() is a view into a possibly shared pool, not a copy).
  const body = new Uint8Array(bytes.byteLength - HEADER_BYTES);
  body.set(bytes.subarray(HEADER_BYTES));
  const floats = new Float32Array(body.buffer);
  let offset = 0;
  const take = (n: number) => floats.subarray(offset, (offset += n));
  const perLayer = (size: number) => Array.from({ length: nLayers }, () => take(size));

  const embedTokens = take(vocabSize * dim);
  const attnNorm = perLayer(dim);
  const wq = perLayer(dim * dim);
  const wk = perLayer(kvDim * dim);
  const wv = perLayer(kvDim * dim);
  const wo = perLayer(dim * dim);
  const ffnNorm = perLayer(dim);
  const w1 = perLayer(hiddenDim * dim);
  const w2 = perLayer(dim * hiddenDim);
  const w3 = perLayer(hiddenDim * dim);
  const finalNorm = take(dim);
  take(header.seqLen * headSize); // legacy RoPE tables, unused
  const wcls = header.sharedClassifier ? undefined : take(vocabSize * dim);

  const layers: DecoderLayerWeights[] = Array.from({ length: nLayers }, (_, i) => ({
    inputNorm: attnNorm[i],
    qProj: interleavedToHalfSplitRows(wq[i], nHeads, headSize, dim),
    kProj: interleavedToHalfSplitRows(wk[i], nKvHeads, headSize, dim),
    vProj: wv[i],
    oProj: wo[i],
    postAttentionNorm: ffnNorm[i],
    gateProj: w1[i],
    upProj: w3[i],
    downProj: w2[i],
  }));

  const config: DecoderOnlyConfig = {
    vocabSize,
    hiddenSize: dim,
    numLayers: nLayers,
    numHeads: nHeads,
    numKvHeads: nKvHeads,
    headDim: headSize,
    intermediateSize: hiddenDim,
    rmsNormEps: LLAMA2C_RMS_EPS,
    ropeTheta: LLAMA2C_ROPE_THETA,
    qkNorm: false,
    tieWordEmbeddings: header.sharedClassifier,
  };
  return { header, config, weights: { embedTokens, layers, finalNorm, lmHead: wcls } };
}
