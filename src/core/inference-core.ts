/**
 * The inference core's front door (PROTOCOL §3): named models started from a spec (a hub
 * repo or a local folder), shared through a model registry, and the streaming calls on them.
 * Every stream is a cold Observable (or a streamer object) whose teardown cancels the work.
 */
import { defer, from, switchMap, type Observable } from "rxjs";
import { ModelRegistry, type ModelLease, type RegistryOptions, type RegistrySettings } from "./registry";
import type {
  AsrEngine,
  AsrStreamConfig,
  AsrStreamer,
  LlmEngine,
  LlmGenerateOptions,
  LlmRequest,
  LlmStreamChunk,
  LoadProgress,
  LoadedModel,
  ModelKind,
  ModelSpec,
  TtsEngine,
  TtsStreamConfig,
  TtsStreamer,
} from "./types";

export interface InferenceCoreOptions extends RegistrySettings {
  /** Share a registry with others (e.g. Node-RED's process-wide one); default: a registry of its own. */
  registry?: ModelRegistry;
}

/** A spec with its family: `kind` may ride in the spec or be given to startModel. */
export type NamedModelSpec = ModelSpec & { kind?: ModelKind };

const KINDS: readonly ModelKind[] = ["llm", "tts", "asr", "vad", "wake"];

export class InferenceCore {
  readonly registry: ModelRegistry;
  private readonly leases = new Map<string, ModelLease>();
  /** Models of `leases` whose load finished, for the synchronous streamer calls. */
  private readonly models = new Map<ModelLease, LoadedModel>();

  constructor(options: InferenceCoreOptions = {}) {
    const registryOptions: RegistryOptions = { ...options };
    this.registry = options.registry ?? new ModelRegistry(registryOptions);
  }

  /**
   * Loads (or shares) the model of `spec` under `name`; resolves once it is ready.
   * The kind comes from `spec.kind`, else from a name that is a kind ("llm", "tts", ...).
   * Progress: downloading (fraction over the files fetched so far), loading, ready.
   */
  async startModel(name: string, spec: NamedModelSpec, onProgress?: (progress: LoadProgress) => void): Promise<LoadedModel>;
  async startModel(name: string, kind: ModelKind, spec: ModelSpec, onProgress?: (progress: LoadProgress) => void): Promise<LoadedModel>;
  async startModel(
    name: string,
    kindOrSpec: ModelKind | NamedModelSpec,
    specOrProgress?: ModelSpec | ((progress: LoadProgress) => void),
    maybeProgress?: (progress: LoadProgress) => void,
  ): Promise<LoadedModel> {
    let kind: ModelKind | undefined;
    let spec: ModelSpec;
    let onProgress: ((progress: LoadProgress) => void) | undefined;
    if (typeof kindOrSpec === "string") {
      kind = kindOrSpec;
      spec = specOrProgress as ModelSpec;
      onProgress = maybeProgress;
    } else {
      const { kind: fromSpec, ...rest } = kindOrSpec;
      kind = fromSpec ?? (KINDS.includes(name as ModelKind) ? (name as ModelKind) : undefined);
      spec = rest;
      onProgress = specOrProgress as ((progress: LoadProgress) => void) | undefined;
    }
    if (!kind || !KINDS.includes(kind)) {
      throw new Error(`model '${name}': no kind given; set spec.kind to llm, tts, asr or vad (or name the model after its kind)`);
    }
    if (!spec || typeof spec.enginesPath !== "string") throw new Error(`model '${name}': spec.enginesPath must be a repo id or a local folder`);
    if (this.leases.has(name)) await this.stopModel(name);

    const lease = this.registry.startModel(kind, spec);
    this.leases.set(name, lease);
    const subscription = lease.state$.subscribe((state) => {
      if (!onProgress) return;
      if (state.phase === "downloading") {
        onProgress({ phase: "downloading", fraction: state.fraction, file: state.file, bytes_done: state.bytes_done, bytes_total: state.bytes_total });
      } else if (state.phase === "loading" || state.phase === "ready") {
        onProgress({ phase: state.phase });
      }
    });
    try {
      const model = await lease.model;
      this.models.set(lease, model);
      return model;
    } catch (err) {
      if (this.leases.get(name) === lease) this.leases.delete(name);
      await lease.release();
      throw err;
    } finally {
      subscription.unsubscribe();
    }
  }

  /** Releases `name` (the model is disposed when no one else shares it). */
  async stopModel(name: string): Promise<void> {
    const lease = this.leases.get(name);
    if (!lease) return;
    this.leases.delete(name);
    this.models.delete(lease);
    await lease.release();
  }

  /** Releases every model this core started. */
  async close(): Promise<void> {
    await Promise.all([...this.leases.keys()].map((name) => this.stopModel(name)));
  }

  /** Names of the models started. */
  names(): string[] {
    return [...this.leases.keys()];
  }

  /** The loaded model `name`; rejects when it was not started or failed to load. */
  getModel<M extends LoadedModel = LoadedModel>(name: string): Promise<M> {
    const lease = this.leases.get(name);
    if (!lease) return Promise.reject(new Error(`no model named '${name}' is started; call startModel('${name}', spec) first`));
    return lease.model as Promise<M>;
  }

  private async engine<M extends LoadedModel>(name: string, kind: ModelKind): Promise<M> {
    const model = await this.getModel(name);
    if (model.kind !== kind) throw new Error(`model '${name}' is a ${model.kind} model, not ${kind}`);
    return model as M;
  }

  private loaded<M extends LoadedModel>(name: string, kind: ModelKind): M {
    const lease = this.leases.get(name);
    if (!lease) throw new Error(`no model named '${name}' is started; call startModel('${name}', spec) first`);
    if (lease.kind !== kind) throw new Error(`model '${name}' is a ${lease.kind} model, not ${kind}`);
    const model = this.models.get(lease);
    if (!model) {
      throw new Error(`model '${name}' is not ready (${lease.state.phase === "error" ? lease.state.error.message : lease.state.phase}); await startModel first`);
    }
    return model as M;
  }

  /**
   * LLM token stream, cold: on subscribe it waits for the model (if still loading), then
   * generates; unsubscribing cancels. Errors (no such model, load failure) come through the stream.
   */
  inferStream(name: string, request: LlmRequest, options?: LlmGenerateOptions): Observable<LlmStreamChunk> {
    return defer(() => from(this.engine<LlmEngine>(name, "llm"))).pipe(switchMap((engine) => engine.generate(request, options)));
  }

  /** A streaming TTS session of the tts model `name` (ready models only). */
  openTtsStreamer(name: string, config: Partial<TtsStreamConfig> = {}): TtsStreamer {
    return this.loaded<TtsEngine>(name, "tts").openStreamer(config);
  }

  /** A live-caption session of the asr model `name` (ready models only). */
  openAsrStreamer(name: string, config: AsrStreamConfig = {}): AsrStreamer {
    return this.loaded<AsrEngine>(name, "asr").openStreamer(config);
  }

  /** Waits for `name` to be ready and checks its kind (for callers that start and use at once). */
  ready<M extends LoadedModel>(name: string, kind: ModelKind): Promise<M> {
    return this.engine<M>(name, kind);
  }
}

