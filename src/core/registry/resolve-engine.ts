/**
 * The one place an engines path becomes an engine (PROTOCOL §5). Local forms — a built-in
 * name, a Hugging Face repo, a local folder — get their files (hub/), a LoadContext (onnx/)
 * and the family's loader. Remote forms — an OpenAI-compatible `http(s)://…/v1` server or a
 * `wyoming://host:port` service — go to the family's remote loader in REMOTE_ENGINES.
 *
 * Adding an engine: a local engine is a folder under `<family>/engines/` that the family
 * loader dispatches to; a remote one is a folder whose loader is registered in
 * REMOTE_ENGINES below (e.g. `openai: { llm: loadOpenAiLlm }`).
 */
import { locateEngines, type EngineLocation } from "../engines-path";
import { resolveModelSource, type SourceOptions } from "../hub";
import { createLoadContext } from "../onnx/load-context";
import { sessionSettingsFor } from "../onnx/spec-settings";
import type { SessionSettings } from "../onnx/session-factory";
import { loadAsr } from "../asr/loader";
import { withoutUserInfo } from "../openai/endpoint";
import { loadOpenAiModel } from "../openai/remote-model";
import { WyomingAsrEngine } from "../asr/engines/wyoming/wyoming-asr-engine";
import { WyomingTtsEngine } from "../tts/engines/wyoming/wyoming-tts-engine";
import { WyomingWakeEngine } from "../wake/engines/wyoming/wyoming-wake-engine";
import { loadLlm } from "../llm/engines/onnx/loader";
import { loadTts } from "../tts/loader";
import { loadVad } from "../vad/engines/silero/loader";
import { loadWake } from "../wake/engines/openwakeword/loader";
import type { FamilyLoader, LoadContext, LoadedModel, ModelKind, ModelSource, ModelSpec } from "../types";

export type LoaderTable = { [K in ModelKind]: FamilyLoader<LoadedModel> };

/** The local engines of each family, loaded from a LoadContext. */
export const FAMILY_LOADERS: LoaderTable = {
  llm: loadLlm as FamilyLoader<LoadedModel>,
  tts: loadTts as FamilyLoader<LoadedModel>,
  asr: loadAsr as FamilyLoader<LoadedModel>,
  vad: loadVad as FamilyLoader<LoadedModel>,
  wake: loadWake as FamilyLoader<LoadedModel>,
};

/** What a remote engine's loader receives: where the service is, and the start's credentials. */
export interface RemoteContext<L extends EngineLocation = EngineLocation> {
  kind: ModelKind;
  spec: ModelSpec;
  location: L;
  /** The voice-model's credential (or VOICE_STREAM_API_KEY on the CLI); never logged. */
  token?: string;
  /** Aborted when the last holder releases the model before it is ready. */
  signal: AbortSignal;
  warn(message: string): void;
}

export type RemoteLoader<L extends EngineLocation = EngineLocation> = (ctx: RemoteContext<L>) => Promise<LoadedModel>;

/** An OpenAI-compatible server: the family's engine under engines/openai, the credential as the API key. */
const viaOpenAi: RemoteLoader<Extract<EngineLocation, { form: "openai" }>> = (ctx) =>
  loadOpenAiModel(ctx.kind, ctx.spec, { apiKey: ctx.token, warn: ctx.warn });

/** Remote engines by form and family. Empty families answer with an error naming what is supported. */
export const REMOTE_ENGINES: {
  openai: Partial<Record<ModelKind, RemoteLoader<Extract<EngineLocation, { form: "openai" }>>>>;
  wyoming: Partial<Record<ModelKind, RemoteLoader<Extract<EngineLocation, { form: "wyoming" }>>>>;
} = {
  openai: { llm: viaOpenAi, tts: viaOpenAi, asr: viaOpenAi },
  // Wyoming services are asked what they offer (describe) at load: a wrong port fails the load, not the first stream.
  wyoming: {
    asr: (ctx) => WyomingAsrEngine.open(ctx.spec),
    tts: (ctx) => WyomingTtsEngine.open(ctx.spec),
    wake: (ctx) => WyomingWakeEngine.open(ctx.spec),
  },
};

/** How one load runs: where files come from and how sessions are made. */
export interface EngineEnvironment {
  sourceOptions: SourceOptions;
  /**
   * The start's own credential, a remote engine's key. Not sourceOptions.token: that falls back
   * to the hub's default token ($HF_TOKEN), which must never be sent to another server.
   */
  credential?: string;
  /** Session defaults; a spec's config (execution_provider, threads) overrides them. */
  session?: SessionSettings;
  warn: (message: string) => void;
  /** Replace the family loaders (tests). */
  loaders?: Partial<LoaderTable>;
  /** Replace source resolution (tests). */
  resolveSource?: (kind: ModelKind, spec: ModelSpec, options: SourceOptions) => ModelSource;
  /** Wraps the LoadContext before the loader sees it (the registry reports "loading" on the first session). */
  wrapContext?: (ctx: LoadContext) => LoadContext;
}

/** The LoadContext of a local engines path: its files, the dtype variant, sessions with the spec's settings. */
export function localLoadContext(kind: ModelKind, spec: ModelSpec, env: Partial<EngineEnvironment> = {}): LoadContext {
  const warn = env.warn ?? (() => {});
  const source = (env.resolveSource ?? resolveModelSource)(kind, spec, env.sourceOptions ?? { warn });
  return createLoadContext(spec, source, { ...sessionSettingsFor(spec, env.session), warn });
}

/** Loads the engine `spec` of `kind` names, local or remote. The caller owns (and disposes) the result. */
export async function openEngine(kind: ModelKind, spec: ModelSpec, env: EngineEnvironment): Promise<LoadedModel> {
  if (!FAMILY_LOADERS[kind] && !env.loaders?.[kind]) throw new Error(`unknown model kind '${String(kind)}'; expected llm, tts, asr, vad or wake`);
  const location = locateEngines(kind, spec);
  let model: LoadedModel;
  if (location.form === "openai" || location.form === "wyoming") {
    const loader = REMOTE_ENGINES[location.form][kind] as RemoteLoader | undefined;
    if (!loader) {
      const served = Object.keys(REMOTE_ENGINES[location.form]);
      throw new Error(
        `no ${kind} engine speaks ${location.form === "openai" ? "the OpenAI API" : "Wyoming"} (engines path '${withoutUserInfo(spec.enginesPath)}')` +
          (served.length ? `; ${location.form} serves: ${served.join(", ")}` : "; use a Hugging Face repo id or a local folder"),
      );
    }
    model = await loader({ kind, spec, location, token: env.credential, signal: env.sourceOptions.signal ?? new AbortController().signal, warn: env.warn });
  } else {
    const loader = env.loaders?.[kind] ?? FAMILY_LOADERS[kind];
    const ctx = localLoadContext(kind, spec, env);
    model = await loader(env.wrapContext ? env.wrapContext(ctx) : ctx);
  }
  if (model.kind !== kind) {
    await model.dispose();
    throw new Error(`the ${kind} loader returned a ${model.kind} model`);
  }
  return model;
}
