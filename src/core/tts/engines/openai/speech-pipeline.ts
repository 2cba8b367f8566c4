/**
 * The span pipeline of an OpenAI-compatible speech server: one `POST {base}/audio/speech` per
 * span, its body decoded and handed on as it arrives. A span's unit is its response's audio
 * queue, so the producer can start the next span's request while this one still streams —
 * at most one ahead (span k's request starts once span k-2's has ended) — and the consumer emits each span's audio in
 * order. An abort (cancel) destroys every request in flight.
 */
import { AsyncQueue } from "../../async-queue";
import { spanResampler } from "../../resampling";
import type { BusyClock, Span, SpanEmit, SpanPipeline } from "../../span-streamer";
import type { OpenAiHttpClient } from "../../../openai/http-client";
import { isAbortError } from "../../../openai/http-client";
import { ensureOk } from "../../../openai/responses";
import { PcmBodyDecoder } from "../../../openai/pcm-body";

const SPEECH_PATH = "/audio/speech";

export interface SpeechSettings {
  model: string;
  voice: string;
  speed?: number;
  /** Rate of the server's raw PCM (OpenAI's: 24000). */
  pcmRate: number;
}

export class RemoteSpeechPipeline implements SpanPipeline<AsyncQueue<Float32Array>> {
  readonly sampleRate: number;
  /** The server synthesises: waiting for it is no reason to hold local LLM steps. */
  readonly runsLocally = false;
  /** The requests of the last two spans; span k's starts once span k-2's has ended (one ahead, never two). */
  private last: Promise<void> = Promise.resolve();
  private beforeLast: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: OpenAiHttpClient,
    private readonly settings: SpeechSettings,
  ) {
    this.sampleRate = settings.pcmRate;
  }

  async produce(span: Span, sink: (unit: AsyncQueue<Float32Array>) => void, signal: AbortSignal, clock: BusyClock): Promise<void> {
    await this.beforeLast;
    if (signal.aborted) return;
    const audio = new AsyncQueue<Float32Array>();
    sink(audio);
    // Not awaited: the next span's request may start while this one streams.
    const fetched = clock.time(() => this.fetchSpan(span, audio, signal));
    this.beforeLast = this.last;
    this.last = fetched;
  }

  async consume(span: Span, units: AsyncQueue<AsyncQueue<Float32Array>>, emit: SpanEmit, signal: AbortSignal): Promise<void> {
    for await (const audio of units) {
      for await (const samples of audio) {
        if (signal.aborted) return;
        emit(samples, false);
      }
      emit(new Float32Array(0), true);
    }
  }

  private async fetchSpan(span: Span, audio: AsyncQueue<Float32Array>, signal: AbortSignal): Promise<void> {
    try {
      const body: Record<string, unknown> = { input: span.text, voice: this.settings.voice, response_format: "pcm" };
      if (this.settings.model) body.model = this.settings.model;
      if (this.settings.speed !== undefined) body.speed = this.settings.speed;
      const response = await this.client.request({ method: "POST", path: SPEECH_PATH, json: body, accept: "audio/pcm, audio/wav, */*", signal });
      await ensureOk(this.client, response, this.settings.model);
      const decoder = new PcmBodyDecoder(this.settings.pcmRate, response.url);
      let resample: ReturnType<typeof spanResampler> | undefined;
      for await (const chunk of response.chunks()) {
        let samples = decoder.push(chunk);
        // A WAV at another rate than the server's PCM is brought to the stream's rate.
        if (decoder.isWav && decoder.rate !== this.sampleRate) {
          resample ??= spanResampler(decoder.rate, this.sampleRate);
          samples = resample.push(samples);
        }
        if (samples.length > 0) audio.push(samples);
      }
      decoder.end();
      if (resample) audio.push(resample.end());
      audio.end();
    } catch (err) {
      if (isAbortError(err) || signal.aborted) audio.end();
      else audio.fail(err);
    }
  }
}
