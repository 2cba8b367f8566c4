/**
 * Whisper's log-mel spectrogram, as openai/whisper and Hugging Face's WhisperFeatureExtractor
 * define it: audio zero-padded (or cut) to the 30 s window, centred STFT with reflect padding,
 * periodic Hann window of n_fft 400, hop 160, power spectrum, Slaney mel filters over
 * 0–8 kHz (or the preprocessor's own `mel_filters`), log10 with a 1e-10 floor, clamped to
 * max − 8, then (x + 4) / 4. The last STFT frame is dropped, giving 3000 frames.
 *
 * A streamer decodes its growing buffer again every pass: the extractor keeps the last call's
 * samples and per-frame log-mel values, and recomputes only the frames that read a sample that
 * changed since (or was not there); only the clamp and scaling run over the whole window.
 */
import { MixedRadixFft } from "./dft";

export interface MelConfig {
  /** feature_size: 80 (most Whisper models) or 128 (large-v3). */
  nMels: number;
  nFft: number;
  hopLength: number;
  samplingRate: number;
  /** Samples in the model's window (chunk_length · sampling_rate = 480000). */
  nSamples: number;
  /** Frames the encoder takes (nb_max_frames = 3000). */
  nFrames: number;
  /** Filters [nFft/2 + 1][nMels] as preprocessor_config.json's `mel_filters` stores them, when given. */
  melFilters?: number[][];
}

export const WHISPER_MEL_DEFAULTS: MelConfig = {
  nMels: 80,
  nFft: 400,
  hopLength: 160,
  samplingRate: 16000,
  nSamples: 480000,
  nFrames: 3000,
};

/** MelConfig from a preprocessor_config.json object (missing fields take Whisper's values). */
export function melConfigFromPreprocessor(pre: Record<string, unknown>): MelConfig {
  const num = (key: string, fallback: number) => (typeof pre[key] === "number" ? (pre[key] as number) : fallback);
  const d = WHISPER_MEL_DEFAULTS;
  const samplingRate = num("sampling_rate", d.samplingRate);
  const hopLength = num("hop_length", d.hopLength);
  const nSamples = num("n_samples", num("chunk_length", 30) * samplingRate);
  return {
    nMels: num("feature_size", d.nMels),
    nFft: num("n_fft", d.nFft),
    hopLength,
    samplingRate,
    nSamples,
    nFrames: num("nb_max_frames", Math.floor(nSamples / hopLength)),
    melFilters: Array.isArray(pre.mel_filters) ? (pre.mel_filters as number[][]) : undefined,
  };
}

const hzToMelSlaney = (hz: number): number => (hz >= 1000 ? 15 + Math.log(hz / 1000) * (27 / Math.log(6.4)) : (3 * hz) / 200);
const melToHzSlaney = (mel: number): number => (mel >= 15 ? 1000 * Math.exp((Math.log(6.4) / 27) * (mel - 15)) : (200 * mel) / 3);

/** Slaney-scale, Slaney-normalised triangular filters as librosa.filters.mel builds them: [nMels][nBins]. */
export function slaneyMelFilters(nBins: number, nMels: number, samplingRate: number, fMin = 0, fMax = 8000): Float64Array[] {
  const melMin = hzToMelSlaney(fMin);
  const melMax = hzToMelSlaney(fMax);
  const edges = Array.from({ length: nMels + 2 }, (_, i) => melToHzSlaney(melMin + ((melMax - melMin) * i) / (nMels + 1)));
  const binHz = Array.from({ length: nBins }, (_, j) => ((samplingRate / 2) * j) / (nBins - 1));
  const filters: Float64Array[] = [];
  for (let i = 0; i < nMels; i++) {
    const row = new Float64Array(nBins);
    const norm = 2 / (edges[i + 2] - edges[i]);
    for (let j = 0; j < nBins; j++) {
      const down = (binHz[j] - edges[i]) / (edges[i + 1] - edges[i]);
      const up = (edges[i + 2] - binHz[j]) / (edges[i + 2] - edges[i + 1]);
      row[j] = Math.max(0, Math.min(down, up)) * norm;
    }
    filters.push(row);
  }
  return filters;
}

/** Reusable extractor: filters, window and FFT are built once per model. */
export class LogMelExtractor {
  private readonly fft: MixedRadixFft;
  private readonly window: Float64Array;
  /** Sparse filters: for each mel band the first bin and its non-zero weights. */
  private readonly bands: { start: number; weights: Float64Array }[];
  private readonly nBins: number;
  /** The last call's samples (up to the window) and its log-mel values before the clamp, [nMels × frames]. */
  private last: { audio: Float32Array; logMel: Float32Array; frames: number } | undefined;
  /** STFT frames the last extract() computed (the rest it reused or knew silent): diagnostics, tests. */
  computedFrames = 0;

  constructor(readonly config: MelConfig = WHISPER_MEL_DEFAULTS) {
    const { nFft, nMels } = config;
    this.nBins = Math.floor(nFft / 2) + 1;
    this.fft = new MixedRadixFft(nFft);
    this.window = new Float64Array(nFft);
    for (let n = 0; n < nFft; n++) this.window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / nFft); // periodic Hann
    const dense = config.melFilters
      ? Array.from({ length: nMels }, (_, m) => Float64Array.from(config.melFilters!, (row) => row[m]))
      : slaneyMelFilters(this.nBins, nMels, config.samplingRate);
    this.bands = dense.map((row) => {
      let start = row.findIndex((w) => w !== 0);
      if (start < 0) start = 0;
      let end = row.length;
      while (end > start && row[end - 1] === 0) end--;
      return { start, weights: row.slice(start, end) };
    });
  }

  /**
   * Features [nMels × nFrames] row-major (mel band major, as the encoder's input_features
   * [1, n_mels, 3000] wants them) for `audio` (16 kHz mono), padded or cut to the window —
   * the model's, or one of `nFrames` frames (a shortened encoder window, encoder-window.ts).
   */
  extract(audio: Float32Array, nFrames = this.config.nFrames): Float32Array {
    const { nFft, hopLength, nMels } = this.config;
    const nSamples = nFrames * hopLength;
    const pad = nFft / 2;
    const length = Math.min(audio.length, nSamples);
    // Centred frames read the window reflect-padded by n_fft/2 at both ends.
    const padded = new Float64Array(nSamples + 2 * pad);
    for (let i = 0; i < length; i++) padded[pad + i] = audio[i];
    for (let i = 1; i <= pad; i++) {
      padded[pad - i] = padded[pad + i];
      padded[pad + nSamples - 1 + i] = padded[pad + nSamples - 1 - i];
    }
    const out = new Float32Array(nMels * nFrames);
    // Frame t reads samples t·hop − pad … t·hop + pad − 1 (the first frames reflect samples 1 … pad):
    // it is the same as last time when every sample up to t·hop + pad is.
    const same = this.last ? commonPrefix(this.last.audio, audio, length) : 0;
    const reused = same > pad ? Math.min(nFrames, this.last!.frames, Math.floor((same - pad) / hopLength) + 1) : 0;
    if (reused > 0) {
      // Rows of the last call's window (which may have had another length).
      const { logMel: before, frames: stride } = this.last!;
      for (let m = 0; m < nMels; m++) out.set(before.subarray(m * stride, m * stride + reused), m * nFrames);
    }
    const frame = new Float64Array(nFft);
    const re = new Float64Array(nFft);
    const im = new Float64Array(nFft);
    const power = new Float64Array(this.nBins);
    const silentLog = Math.log10(1e-10);
    // Frames past the audio only see the zero padding: their power is exactly 0.
    const lastAudioFrame = Math.min(nFrames - 1, Math.ceil((length + pad) / hopLength));
    let max = -Infinity;
    this.computedFrames = 0;
    for (let t = 0; t < reused; t++) for (let m = 0; m < nMels; m++) if (out[m * nFrames + t] > max) max = out[m * nFrames + t];
    for (let t = reused; t < nFrames; t++) {
      if (t > lastAudioFrame) {
        for (let m = 0; m < nMels; m++) out[m * nFrames + t] = silentLog;
        continue;
      }
      const at = t * hopLength;
      this.computedFrames++;
      for (let n = 0; n < nFft; n++) frame[n] = padded[at + n] * this.window[n];
      this.fft.realForward(frame, re, im);
      for (let k = 0; k < this.nBins; k++) power[k] = re[k] * re[k] + im[k] * im[k];
      for (let m = 0; m < nMels; m++) {
        const { start, weights } = this.bands[m];
        let sum = 0;
        for (let j = 0; j < weights.length; j++) sum += weights[j] * power[start + j];
        const value = Math.log10(Math.max(sum, 1e-10));
        out[m * nFrames + t] = value;
        if (value > max) max = value;
      }
    }
    if (silentLog > max) max = silentLog;
    this.last = { audio: audio.slice(0, length), logMel: out.slice(), frames: nFrames };
    const floor = max - 8;
    for (let i = 0; i < out.length; i++) out[i] = (Math.max(out[i], floor) + 4) / 4;
    return out;
  }
}

/** How many leading samples `a` and the first `length` of `b` share (exactly). */
function commonPrefix(a: Float32Array, b: Float32Array, length: number): number {
  const n = Math.min(a.length, length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
