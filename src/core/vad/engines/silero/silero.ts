/**
 * Silero VAD v5 over onnxruntime: speech probability per 512-sample window at 16 kHz (32 ms),
 * each window fed with the previous window's last 64 samples as context and the recurrent
 * state carried from call to call, as the model expects.
 */
import * as ort from "onnxruntime-node";

export const SILERO_SAMPLE_RATE = 16000;
export const SILERO_WINDOW = 512;
const CONTEXT = 64;

/** One stream's model state: feed consecutive windows through `probability`. */
export class SileroState {
  private state = new Float32Array(2 * 128);
  private readonly input = new Float32Array(CONTEXT + SILERO_WINDOW);
  private readonly sr = new ort.Tensor("int64", BigInt64Array.from([BigInt(SILERO_SAMPLE_RATE)]), []);

  constructor(private readonly session: ort.InferenceSession) {}

  /** Speech probability of the next 512 samples. */
  async probability(window: Float32Array): Promise<number> {
    if (window.length !== SILERO_WINDOW) throw new Error(`Silero VAD takes ${SILERO_WINDOW}-sample windows, got ${window.length}`);
    this.input.set(window, CONTEXT);
    const out = await this.session.run({
      input: new ort.Tensor("float32", this.input.slice(), [1, CONTEXT + SILERO_WINDOW]),
      state: new ort.Tensor("float32", this.state, [2, 1, 128]),
      sr: this.sr,
    });
    this.state = Float32Array.from(out.stateN.data as Float32Array);
    // The next window's context is this window's tail.
    this.input.copyWithin(0, SILERO_WINDOW, SILERO_WINDOW + CONTEXT);
    return (out.output.data as Float32Array)[0];
  }

  reset(): void {
    this.state.fill(0);
    this.input.fill(0);
  }
}
