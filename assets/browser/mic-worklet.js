// Microphone capture for voice-stream: takes the browser's input at the context's own rate
// (often 48 kHz), mixes to mono, resamples to 16 kHz with a windowed-sinc low-pass (no
// aliasing from the decimation) and posts 20 ms frames (320 samples) to the page.
const OUT_RATE = 16000;
const FRAME = 320;

class SincResampler {
  constructor(inRate, outRate) {
    this.step = inRate / outRate;
    this.passThrough = inRate === outRate;
    // Cut off a little below the output's Nyquist frequency (cycles per input sample).
    this.fc = (0.5 / Math.max(1, this.step)) * 0.92;
    this.half = Math.ceil(8 * Math.max(1, this.step));
    this.buf = new Float32Array(0);
    this.bufStart = 0; // input index of buf[0]
    this.next = 0; // input position of the next output sample
    // The kernel tabulated at 64 points per input sample (linear interpolation between them):
    // a render quantum then costs no trigonometry.
    this.res = 64;
    this.table = new Float32Array(this.half * this.res + 2);
    for (let i = 0; i < this.table.length; i++) this.table[i] = this.exactKernel(i / this.res);
  }

  exactKernel(x) {
    if (x === 0) return 2 * this.fc;
    if (Math.abs(x) >= this.half) return 0;
    const a = Math.PI * 2 * this.fc * x;
    const w = 0.42 + 0.5 * Math.cos((Math.PI * x) / this.half) + 0.08 * Math.cos((2 * Math.PI * x) / this.half);
    return 2 * this.fc * (Math.sin(a) / a) * w;
  }

  kernel(x) {
    const p = Math.abs(x) * this.res;
    const i = Math.floor(p);
    if (i >= this.table.length - 1) return 0;
    const f = p - i;
    return this.table[i] * (1 - f) + this.table[i + 1] * f;
  }

  push(input) {
    if (this.passThrough) return input.slice();
    const joined = new Float32Array(this.buf.length + input.length);
    joined.set(this.buf);
    joined.set(input, this.buf.length);
    this.buf = joined;
    const end = this.bufStart + this.buf.length;
    const out = [];
    while (this.next + this.half < end) {
      const lo = Math.max(this.bufStart, Math.ceil(this.next - this.half));
      const hi = Math.floor(this.next + this.half);
      let sum = 0;
      for (let k = lo; k <= hi; k++) sum += this.buf[k - this.bufStart] * this.kernel(this.next - k);
      out.push(sum);
      this.next += this.step;
    }
    const keepFrom = Math.max(this.bufStart, Math.floor(this.next - this.half));
    this.buf = this.buf.slice(keepFrom - this.bufStart);
    this.bufStart = keepFrom;
    return Float32Array.from(out);
  }
}

class VoiceStreamMic extends AudioWorkletProcessor {
  constructor() {
    super();
    this.resampler = new SincResampler(sampleRate, OUT_RATE);
    this.pending = new Float32Array(FRAME);
    this.filled = 0;
    this.active = true;
    this.port.onmessage = (e) => {
      if (e.data && e.data.type === "stop") this.active = false;
    };
  }

  process(inputs) {
    if (!this.active) return false;
    const input = inputs[0];
    if (!input || input.length === 0 || input[0].length === 0) return true;
    let mono = input[0];
    if (input.length > 1) {
      mono = new Float32Array(input[0].length);
      for (const channel of input) for (let i = 0; i < mono.length; i++) mono[i] += channel[i] / input.length;
    }
    const out = this.resampler.push(mono);
    for (let i = 0; i < out.length; i++) {
      this.pending[this.filled++] = out[i];
      if (this.filled === FRAME) {
        this.port.postMessage(this.pending, [this.pending.buffer]);
        this.pending = new Float32Array(FRAME);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("voice-stream-mic", VoiceStreamMic);
