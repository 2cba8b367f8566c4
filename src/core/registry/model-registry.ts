/**
 * Loaded models shared across the process: one instance per (kind, enginesPath, revision,
 * config), reference counted. Concurrent starts of the same key share one load; the last
 * release disposes the model (or cancels its download and disposes it once the load ends).
 * Each entry publishes its state (downloading fraction, loading, ready, error) as an
 * Observable that replays the current state to new subscribers.
 */
import { BehaviorSubject, type Observable } from "rxjs";
import type { SourceOptions } from "../hub";
import type { ExecutionProvider, LoadedModel, ModelKind, ModelSource, ModelSpec } from "../types";
import { modelKey } from "./model-key";
import { FAMILY_LOADERS, openEngine, type LoaderTable } from "./resolve-engine";

export { FAMILY_LOADERS, type LoaderTable } from "./resolve-engine";

export type ModelState =
  | { phase: "downloading"; fraction: number; file?: string; bytes_done?: number; bytes_total?: number }
  | { phase: "loading" }
  | { phase: "ready" }
  | { phase: "error"; error: Error };

/** Where models come from and how their sessions run (also the InferenceCore's options). */
export interface RegistrySettings {
  /** Download cache (default $VOICE_STREAM_CACHE or ~/.cache/voice-stream). */
  cacheDir?: string;
  /** Cache only, never the network. */
  offline?: boolean;
  /** Hub base URL (default $HF_ENDPOINT, else https://huggingface.co). */
  hubUrl?: string;
  /** Default token for hub downloads (else $HF_TOKEN). */
  token?: string;
  /** Default providers; a spec's config.execution_provider overrides them. */
  executionProviders?: ExecutionProvider[];
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  warn?: (message: string) => void;
}

export interface RegistryOptions extends RegistrySettings {
  /** Replace the family loaders (tests). */
  loaders?: Partial<LoaderTable>;
  /** Replace source resolution (tests). */
  resolveSource?: (kind: ModelKind, spec: ModelSpec, options: SourceOptions) => ModelSource;
}

export interface StartOptions {
  /** Token for this model's downloads (a config node's credential); never part of the key. */
  token?: string;
  /** Warnings of this start's load (besides the registry's). */
  warn?: (message: string) => void;
}

/** One holder's reference to a shared model. */
export interface ModelLease<M extends LoadedModel = LoadedModel> {
  readonly key: string;
  readonly kind: ModelKind;
  /** Resolves with the model once loaded; rejects with the load error. */
  readonly model: Promise<M>;
  /** Current state, then every change (replays the current state on subscribe). */
  readonly state$: Observable<ModelState>;
  readonly state: ModelState;
  /** Drops this reference; the last one disposes the model. Idempotent. */
  release(): Promise<void>;
}

interface Entry {
  key: string;
  kind: ModelKind;
  refs: number;
  state: BehaviorSubject<ModelState>;
  model: Promise<LoadedModel>;
  abort: AbortController;
  disposed?: Promise<void>;
}

function errorOf(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class ModelRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly loaders: LoaderTable;

  constructor(private readonly options: RegistryOptions = {}) {
    this.loaders = { ...FAMILY_LOADERS, ...options.loaders };
  }

  /** Takes a reference to the model of (kind, spec), loading it unless already loaded or loading. */
  startModel<M extends LoadedModel = LoadedModel>(kind: ModelKind, spec: ModelSpec, start: StartOptions = {}): ModelLease<M> {
    if (!this.loaders[kind]) throw new Error(`unknown model kind '${String(kind)}'; expected llm, tts, asr or vad`);
    const key = modelKey(kind, spec);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = this.load(key, kind, spec, start);
      this.entries.set(key, entry);
    }
    entry.refs += 1;
    return this.lease<M>(entry);
  }

  /** Releases a lease (same as lease.release()). */
  stopModel(lease: ModelLease): Promise<void> {
    return lease.release();
  }

  /** References held on (kind, spec); 0 when not loaded. */
  refCount(kind: ModelKind, spec: ModelSpec): number {
    return this.entries.get(modelKey(kind, spec))?.refs ?? 0;
  }

  /** Keys of the models held now. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  private lease<M extends LoadedModel>(entry: Entry): ModelLease<M> {
    let released: Promise<void> | undefined;
    return {
      key: entry.key,
      kind: entry.kind,
      model: entry.model as Promise<M>,
      state$: entry.state.asObservable(),
      get state() {
        return entry.state.value;
      },
      release: () => {
        if (!released) released = this.release(entry);
        return released;
      },
    };
  }

  private release(entry: Entry): Promise<void> {
    entry.refs -= 1;
    if (entry.refs > 0) return Promise.resolve();
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    entry.abort.abort();
    entry.disposed = entry.model.then(
      (model) => model.dispose(),
      () => undefined,
    );
    return entry.disposed.then(() => entry.state.complete());
  }

  private load(key: string, kind: ModelKind, spec: ModelSpec, start: StartOptions): Entry {
    const abort = new AbortController();
    const state = new BehaviorSubject<ModelState>({ phase: "loading" });
    const warn = (message: string) => {
      this.options.warn?.(message);
      start.warn?.(message);
    };
    const sourceOptions: SourceOptions = {
      warn,
      cacheDir: this.options.cacheDir,
      offline: this.options.offline,
      hubUrl: this.options.hubUrl,
      token: start.token || this.options.token,
      signal: abort.signal,
      onProgress: (p) => {
        if (!abort.signal.aborted) state.next({ phase: "downloading", fraction: p.fraction, file: p.file, bytes_done: p.bytes_done, bytes_total: p.bytes_total });
      },
    };
    const run = async (): Promise<LoadedModel> => {
      // Deferred one tick so a start's caller can subscribe to the state before anything happens.
      await Promise.resolve();
      return openEngine(kind, spec, {
        sourceOptions,
        credential: start.token,
        session: {
          executionProviders: this.options.executionProviders,
          intraOpNumThreads: this.options.intraOpNumThreads,
          interOpNumThreads: this.options.interOpNumThreads,
        },
        warn,
        loaders: this.loaders,
        resolveSource: this.options.resolveSource,
        // Downloads report "downloading"; once the loader builds sessions the model is "loading".
        wrapContext: (base) => ({
          ...base,
          createSession: (...args: Parameters<typeof base.createSession>) => {
            if (!abort.signal.aborted) state.next({ phase: "loading" });
            return base.createSession(...args);
          },
          // A loader whose sessions are built in a worker thread says so itself.
          reportLoading: () => {
            if (!abort.signal.aborted) state.next({ phase: "loading" });
          },
        }),
      });
    };
    const model = run();
    model.then(
      () => {
        if (!state.closed) state.next({ phase: "ready" });
      },
      (err) => {
        // A failed load is not reused: the next start tries again.
        if (this.entries.get(key)?.model === model) this.entries.delete(key);
        if (!state.closed) state.next({ phase: "error", error: errorOf(err) });
      },
    );
    return { key, kind, refs: 0, state, model, abort };
  }
}

let shared: ModelRegistry | undefined;

/** The process-wide registry (Node-RED config nodes share it, so equal specs share one model). */
export function sharedRegistry(options?: RegistryOptions): ModelRegistry {
  if (!shared) shared = new ModelRegistry(options);
  return shared;
}
