/**
 * Text-to-speech from a Wyoming service (`wyoming://host:port`, e.g. wyoming-piper): one
 * connection per stream. A service whose info says `supports_synthesize_streaming` gets the
 * text as it arrives (`synthesize-start`, a `synthesize-chunk` per send, then the whole text
 * as `synthesize` for older services and `synthesize-stop`, answered by `synthesize-stopped`);
 * any other gets one `synthesize` per sentence on the same connection, each sent once the one before
 * has ended with `audio-stop`. Audio at any rate, width and channel count becomes mono float chunks
 * (at `sample_rate_out` when set).
 */
import { ReplaySubject, type Observable } from "rxjs";
import { StreamingResampler } from "../../../audio/resample";
import { pcmToMono, readFormat, type AudioFormat } from "../../../wyoming/audio-format";
import { clientOptionsFrom, describeService, parseWyomingUrl, serviceError, WyomingConnection, type WyomingClientOptions, type WyomingTarget } from "../../../wyoming/client";
import type { DescribedService } from "../../../wyoming/info";
import { SentenceSplitter } from "../../sentence-splitter";
import { resolveStreamConfig } from "../../stream-config";
import type { ModelSpec, TtsEngine, TtsStreamChunk, TtsStreamConfig, TtsStreamer } from "../../../types";

export class WyomingTtsStreamer implements TtsStreamer {
  private readonly chunks = new ReplaySubject<TtsStreamChunk>();
  readonly output$: Observable<TtsStreamChunk> = this.chunks.asObservable();
  private connection: WyomingConnection | undefined;
  private readonly ready: Promise<WyomingConnection | undefined>;
  private readonly openedAt = Date.now();
  private readonly splitter: SentenceSplitter;
  /** Sentences sent as plain synthesize requests, waiting for their audio-stop (oldest first). */
  private readonly spans: string[] = [];
  private allText = "";
  /** The sentence whose audio ended last (the resampler's tail belongs to it). */
  private lastSpan = "";
  private started = false;
  private finishing = false;
  private over = false;
  private format: AudioFormat | undefined;
  private resampler: StreamingResampler | undefined;
  private index = 0;
  private samplesOut = 0;
  private firstAudioAt: number | undefined;
  private outRate: number | undefined;

  constructor(
    private readonly target: WyomingTarget,
    private readonly streaming: boolean,
    private readonly voice: string | undefined,
    private readonly sampleRateOut: number | undefined,
    options: WyomingClientOptions,
    private readonly onClose: (s: WyomingTtsStreamer) => void,
    /** Cut the first sentence early (first_span_words) — for services that take one sentence at a time. */
    firstSpanWords?: number,
  ) {
    this.splitter = new SentenceSplitter({ firstSpanWords });
    this.ready = WyomingConnection.connect(target, options).then(
      (connection) => {
        if (this.over) {
          connection.close();
          return undefined;
        }
        this.connection = connection;
        connection.onEvent = (event) => {
          switch (event.type) {
            case "audio-start": {
              const format = readFormat(event.data);
              if (typeof format === "string") return this.fail(new Error(`Wyoming service ${target.url} sent audio this package cannot read: ${format}`));
              this.format = format;
              return;
            }
            case "audio-chunk":
              return this.audio(event.data, event.payload);
            case "audio-stop":
              if (!this.streaming) {
                this.lastSpan = this.spans.shift() ?? this.lastSpan;
                // One request at a time: Wyoming events carry no request id, so the next sentence goes out once this one's audio has ended.
                if (this.spans.length > 0) this.request(connection, this.spans[0]);
                else connection.expectAnswer(false);
                this.maybeEnd();
              }
              return;
            case "synthesize-stopped":
              if (this.streaming) this.end();
              return;
            case "error":
              return this.fail(serviceError(target, event));
          }
        };
        connection.onEnd = (err) => this.fail(err ?? new Error(`Wyoming service ${target.url} closed the connection before the synthesis ended`));
        return connection;
      },
      (err: Error) => {
        this.fail(err);
        return undefined;
      },
    );
  }

  private voiceData(): Record<string, unknown> {
    return this.voice ? { voice: { name: this.voice } } : {};
  }

  send(text: string): void {
    if (this.over || text === "") return;
    if (this.finishing) throw new Error("this stream has finished; open a new one for more text");
    this.allText += text;
    if (this.streaming) {
      void this.ready.then((c) => {
        if (!c || this.over) return;
        if (!this.started) {
          this.started = true;
          c.send("synthesize-start", this.voiceData());
        }
        c.send("synthesize-chunk", { text });
      });
    } else this.speak(this.splitter.push(text));
  }

  flush(): void {
    if (this.over || this.streaming) return;
    this.speak(this.splitter.flush());
  }

  finish(): void {
    if (this.over || this.finishing) return;
    this.finishing = true;
    if (this.streaming) {
      void this.ready.then((c) => {
        if (!c || this.over) return;
        if (this.allText.trim() === "") return this.end();
        if (!this.started) c.send("synthesize-start", this.voiceData());
        // The whole text as a plain synthesize too, for services that do not stream (the spec asks for it).
        c.send("synthesize", { text: this.allText, ...this.voiceData() });
        c.send("synthesize-stop");
        c.expectAnswer(true);
      });
    } else {
      this.speak(this.splitter.finish());
      this.maybeEnd();
    }
  }

  cancel(): void {
    if (this.over) return;
    this.over = true;
    this.connection?.close();
    this.chunks.next({ kind: "cancelled", is_final: true, ...this.metrics() });
    this.chunks.complete();
    this.onClose(this);
  }

  private speak(spans: string[]): void {
    for (const span of spans) {
      this.spans.push(span);
      // The first waiting sentence is sent now; the others follow each audio-stop.
      if (this.spans.length === 1) {
        void this.ready.then((c) => {
          if (c && !this.over && this.spans[0] === span) this.request(c, span);
        });
      }
    }
  }

  private request(connection: WyomingConnection, span: string): void {
    connection.send("synthesize", { text: span, ...this.voiceData() });
    connection.expectAnswer(true);
  }

  private currentText(): string {
    return this.streaming ? this.allText : (this.spans[0] ?? this.lastSpan);
  }

  private audio(data: Record<string, unknown>, payload: Buffer | undefined): void {
    const format = readFormat(data, this.format);
    if (typeof format === "string") return this.fail(new Error(`Wyoming service ${this.target.url} sent audio this package cannot read: ${format}`));
    if (!payload || payload.length === 0) return;
    let samples: Float32Array;
    try {
      samples = pcmToMono(payload, format);
    } catch (err) {
      return this.fail(new Error(`Wyoming service ${this.target.url} sent a bad audio chunk: ${(err as Error).message}`));
    }
    const rate = this.sampleRateOut ?? this.outRate ?? format.rate;
    this.outRate = rate;
    if (format.rate !== rate) {
      if (!this.resampler || this.resampler.fromRate !== format.rate) this.resampler = new StreamingResampler(format.rate, rate);
      samples = this.resampler.push(samples);
    }
    if (samples.length === 0) return;
    this.firstAudioAt ??= Date.now();
    this.samplesOut += samples.length;
    this.chunks.next({ kind: "audio", audio: samples, sample_rate: rate, chunk_index: this.index++, text: this.currentText(), is_final: false });
  }

  private maybeEnd(): void {
    if (this.finishing && !this.streaming && this.spans.length === 0) this.end();
  }

  private metrics() {
    const total = (Date.now() - this.openedAt) / 1000;
    const audioSeconds = this.outRate ? this.samplesOut / this.outRate : 0;
    return {
      time_to_first_audio: this.firstAudioAt ? (this.firstAudioAt - this.openedAt) / 1000 : undefined,
      total_seconds: total,
      audio_seconds: audioSeconds,
      rtf: audioSeconds > 0 ? total / audioSeconds : 0,
    };
  }

  private end(): void {
    if (this.over) return;
    const tail = this.resampler?.flush();
    if (tail && tail.length > 0 && this.outRate) {
      this.samplesOut += tail.length;
      this.chunks.next({ kind: "audio", audio: tail, sample_rate: this.outRate, chunk_index: this.index++, text: this.currentText(), is_final: false });
    }
    this.over = true;
    this.connection?.close();
    this.chunks.next({ kind: "audio", audio: new Float32Array(0), sample_rate: this.outRate ?? this.sampleRateOut ?? 22050, chunk_index: this.index++, is_final: true, ...this.metrics() });
    this.chunks.complete();
    this.onClose(this);
  }

  private fail(err: Error): void {
    if (this.over) return;
    this.over = true;
    this.connection?.close();
    // Chunks already sent stay sent; the stream errors.
    this.chunks.error(err);
    this.onClose(this);
  }
}

export class WyomingTtsEngine implements TtsEngine {
  readonly kind = "tts" as const;
  readonly voices: string[];
  private readonly open = new Set<WyomingTtsStreamer>();

  constructor(
    readonly target: WyomingTarget,
    readonly info: DescribedService,
    private readonly defaultVoice: string | undefined,
    private readonly options: WyomingClientOptions,
  ) {
    this.voices = info.tts.flatMap((p) => p.voices.map((v) => v.name)).filter((n) => n !== "");
  }

  /** Whether the service takes text as it arrives. */
  get streaming(): boolean {
    return this.info.tts.some((p) => p.supports_synthesize_streaming);
  }

  /** Connects to `spec.enginesPath` (wyoming://host:port) and checks that it offers text-to-speech. */
  static async open(spec: ModelSpec): Promise<WyomingTtsEngine> {
    const target = parseWyomingUrl(spec.enginesPath);
    const options = clientOptionsFrom(spec.config);
    const info = await describeService(target, options);
    if (info.tts.length === 0) throw new Error(`Wyoming service ${target.url} offers no text-to-speech (its info lists no tts); is this the right port?`);
    const pick = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);
    return new WyomingTtsEngine(target, info, pick(spec.config?.voice) ?? pick(spec.config?.model), options);
  }

  openStreamer(config: Partial<TtsStreamConfig> = {}): TtsStreamer {
    const voice = config.voice || this.defaultVoice;
    if (voice && this.voices.length > 0 && !this.voices.includes(voice)) {
      throw new Error(`Wyoming service ${this.target.url} has no voice '${voice}'; it offers ${this.voices.slice(0, 20).join(", ")}`);
    }
    // The other settings are range-checked as for every voice (the voice above, against the service's list).
    const checked = resolveStreamConfig({ ...config, voice: undefined }, []);
    const streamer = new WyomingTtsStreamer(this.target, this.streaming, voice, checked.sample_rate_out, this.options, (s) => this.open.delete(s), checked.first_span_words);
    this.open.add(streamer);
    return streamer;
  }

  async dispose(): Promise<void> {
    for (const s of [...this.open]) s.cancel();
  }
}
