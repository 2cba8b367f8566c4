// Plays queued PCM chunks back to back (no gap at a join: a render quantum takes samples
// across chunk boundaries) and reports how many samples it has played.
class VoiceStreamPlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.offset = 0;
    this.played = 0;
    this.buffered = 0;
    this.received = 0;
    this.paused = false;
    this.sinceReport = 0;
    this.port.onmessage = (e) => {
      const m = e.data;
      if (m.type === "audio") {
        this.queue.push(m.samples);
        this.buffered += m.samples.length;
        this.received += m.samples.length;
      } else if (m.type === "stop") {
        this.queue = [];
        this.offset = 0;
        this.buffered = 0;
        this.report();
      } else if (m.type === "pause") this.paused = true;
      else if (m.type === "resume") this.paused = false;
    };
  }

  report() {
    this.sinceReport = 0;
    this.port.postMessage({ played: this.played, buffered: this.buffered, received: this.received });
  }

  process(inputs, outputs) {
    const channels = outputs[0];
    const out = channels[0];
    let i = 0;
    if (!this.paused) {
      while (i < out.length && this.queue.length > 0) {
        const chunk = this.queue[0];
        const n = Math.min(out.length - i, chunk.length - this.offset);
        out.set(chunk.subarray(this.offset, this.offset + n), i);
        i += n;
        this.offset += n;
        if (this.offset >= chunk.length) {
          this.queue.shift();
          this.offset = 0;
        }
      }
    }
    out.fill(0, i);
    for (let c = 1; c < channels.length; c++) channels[c].set(out);
    if (i > 0) {
      this.played += i;
      this.buffered -= i;
      this.sinceReport += i;
      // Report often enough for a status line, and always when the queue runs empty.
      if (this.sinceReport >= 2048 || this.queue.length === 0) this.report();
    }
    return true;
  }
}

registerProcessor("voice-stream-player", VoiceStreamPlayer);
