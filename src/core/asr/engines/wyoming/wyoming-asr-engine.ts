/**
 * Speech-to-text from a Wyoming service (`wyoming://host:port`, e.g. wyoming-faster-whisper):
 * one connection per stream; `transcribe` + `audio-start`, each frame an `audio-chunk`
 * (16 kHz s16le mono), `audio-stop` at finish → `transcript`. Streaming services'
 * `transcript-chunk`s become partials. Cancel closes the connection.
 */
import { ReplaySubject, type Observable } from "rxjs";
import { floatToS16LE } from "../../../audio/pcm";
import { clientOptionsFrom, describeService, parseWyomingUrl, serviceError, WyomingConnection, type WyomingClientOptions, type WyomingTarget } from "../../../wyoming/client";
import type { DescribedService } from "../../../wyoming/info";
import type { AsrEngine, AsrEvent, AsrStreamConfig, AsrStreamer, ModelSpec } from "../../../types";

const RATE = 16000;

export class WyomingAsrStreamer implements AsrStreamer {
  private readonly events = new ReplaySubject<AsrEvent>();
  readonly partials$: Observable<AsrEvent> = this.events.asObservable();
  private connection: WyomingConnection | undefined;
  private readonly ready: Promise<WyomingConnection | undefined>;
  private readonly openedAt = Date.now();
  private samples = 0;
  private text = "";
  private language: string;
  private finished = false;
  private over = false;
  private resolveFinish!: (text: string) => void;
  private rejectFinish!: (err: Error) => void;
  private readonly finishPromise: Promise<string>;

  constructor(
    private readonly target: WyomingTarget,
    config: AsrStreamConfig,
    private readonly modelName: string | undefined,
    options: WyomingClientOptions,
    private readonly onClose: (s: WyomingAsrStreamer) => void,
  ) {
    this.language = config.language && config.language !== "auto" ? config.language : "";
    this.finishPromise = new Promise((resolve, reject) => {
      this.resolveFinish = resolve;
      this.rejectFinish = reject;
    });
    this.finishPromise.catch(() => undefined);
    this.ready = WyomingConnection.connect(target, options).then(
      (connection) => {
        if (this.over) {
          connection.close();
          return undefined;
        }
        this.connection = connection;
        connection.onEvent = (event) => {
          switch (event.type) {
            case "transcript-start":
              if (typeof event.data.language === "string") this.language = event.data.language;
              return;
            case "transcript-chunk": {
              const delta = typeof event.data.text === "string" ? event.data.text : "";
              if (delta === "") return;
              this.text += delta;
              this.events.next({ kind: "partial", text: this.text, delta, is_final: false, audio_seconds: this.audioSeconds });
              return;
            }
            case "transcript": {
              const text = typeof event.data.text === "string" ? event.data.text : "";
              if (typeof event.data.language === "string" && event.data.language) this.language = event.data.language;
              return this.end(text);
            }
            case "error":
              return this.fail(serviceError(target, event));
          }
        };
        connection.onEnd = (err) => this.fail(err ?? new Error(`Wyoming service ${target.url} closed the connection before sending the transcript`));
        const request: Record<string, unknown> = {};
        if (this.language) request.language = this.language;
        if (modelName) request.name = modelName;
        connection.send("transcribe", request);
        connection.send("audio-start", { rate: RATE, width: 2, channels: 1 });
        return connection;
      },
      (err: Error) => {
        this.fail(err);
        return undefined;
      },
    );
  }

  get audioSeconds(): number {
    return this.samples / RATE;
  }

  /** Mono 16 kHz float samples. */
  send(frame: Float32Array): void {
    if (this.over || this.finished) {
      if (this.finished && !this.over) throw new Error("this stream has ended (finish() was called); open a new one");
      return;
    }
    if (frame.length === 0) return;
    this.samples += frame.length;
    const pcm = floatToS16LE(frame);
    const timestamp = Math.round((this.samples / RATE) * 1000);
    void this.ready.then((c) => c?.send("audio-chunk", { rate: RATE, width: 2, channels: 1, timestamp }, pcm));
  }

  /** Wyoming has no commit point: the service decides; nothing to do. */
  flush(): void {}

  finish(): Promise<string> {
    if (!this.finished && !this.over) {
      this.finished = true;
      void this.ready.then((c) => {
        if (!c || this.over) return;
        c.send("audio-stop", { timestamp: Math.round(this.audioSeconds * 1000) });
        c.expectAnswer(true);
      });
    }
    return this.finishPromise;
  }

  cancel(): void {
    if (this.over) return;
    this.over = true;
    this.connection?.close();
    this.events.next({ kind: "cancelled", is_final: true, text: this.text, audio_seconds: this.audioSeconds, total_seconds: (Date.now() - this.openedAt) / 1000 });
    this.events.complete();
    this.resolveFinish(this.text);
    this.onClose(this);
  }

  private end(text: string): void {
    if (this.over) return;
    this.over = true;
    this.connection?.close();
    const total = (Date.now() - this.openedAt) / 1000;
    const audio = this.audioSeconds;
    this.events.next({ kind: "final", text, is_final: true, language: this.language, audio_seconds: audio, passes: 1, rtf: audio > 0 ? total / audio : 0, total_seconds: total });
    this.events.complete();
    this.resolveFinish(text);
    this.onClose(this);
  }

  private fail(err: Error): void {
    if (this.over) return;
    this.over = true;
    this.connection?.close();
    // Partials already sent stay sent; the stream errors.
    this.events.error(err);
    this.rejectFinish(err);
    this.onClose(this);
  }
}

export class WyomingAsrEngine implements AsrEngine {
  readonly kind = "asr" as const;
  /** Wyoming asr services take 16 kHz mono frames. */
  readonly sampleRate = RATE;
  private readonly open = new Set<WyomingAsrStreamer>();

  constructor(
    readonly target: WyomingTarget,
    readonly info: DescribedService,
    private readonly modelName: string | undefined,
    private readonly options: WyomingClientOptions,
  ) {}

  /** Connects to `spec.enginesPath` (wyoming://host:port) and checks that it offers speech-to-text. */
  static async open(spec: ModelSpec): Promise<WyomingAsrEngine> {
    const target = parseWyomingUrl(spec.enginesPath);
    const options = clientOptionsFrom(spec.config);
    const info = await describeService(target, options);
    if (info.asr.length === 0) throw new Error(`Wyoming service ${target.url} offers no speech-to-text (its info lists no asr); is this the right port?`);
    const model = typeof spec.config?.model === "string" && spec.config.model.trim() ? spec.config.model.trim() : undefined;
    return new WyomingAsrEngine(target, info, model, options);
  }

  openStreamer(config: AsrStreamConfig = {}): WyomingAsrStreamer {
    const streamer = new WyomingAsrStreamer(this.target, config, this.modelName, this.options, (s) => this.open.delete(s));
    this.open.add(streamer);
    return streamer;
  }

  async transcribe(audio: Float32Array, options: { language?: string } = {}): Promise<{ text: string; language: string }> {
    const streamer = this.openStreamer({ language: options.language });
    let language = options.language ?? "";
    streamer.partials$.subscribe({ next: (e) => (e.kind === "final" ? (language = e.language) : undefined), error: () => undefined });
    streamer.send(audio);
    const text = await streamer.finish();
    return { text, language };
  }

  async dispose(): Promise<void> {
    for (const s of [...this.open]) s.cancel();
  }
}
