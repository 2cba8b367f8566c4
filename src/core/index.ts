/**
 * Public API of the inference core (no Node-RED imports): the shared types, the
 * InferenceCore facade, the model registry, model sources (hub / local), the ONNX layer and
 * the audio utilities (PCM conversion, resampling, WAV files, playback, capture).
 */
export * from "./types";
export { InferenceCore, type InferenceCoreOptions, type NamedModelSpec } from "./inference-core";
export { openModel, openNamedModel, enginesPathOfName, offlineByEnvironment, ModelNotFoundError, type OpenedModel, type OpenModelOptions, type OpenNamedModelOptions } from "./open-model";
export { locateEngines, isBuiltinEngine, type EngineLocation, type EngineForm } from "./engines-path";
export { ModelRegistry, sharedRegistry, modelKey, loadModel, FAMILY_LOADERS, REMOTE_ENGINES, openEngine, localLoadContext, type RemoteContext, type RemoteLoader, type LoadModelOptions, type LoaderTable, type ModelLease, type ModelState, type RegistryOptions, type RegistrySettings, type StartOptions } from "./registry";
export {
  HubModelSource,
  LocalModelSource,
  EmptyModelSource,
  resolveModelSource,
  resolveCacheDir,
  repoCacheDir,
  isHubRepoId,
  needsNoFiles,
  DEFAULT_HUB_URL,
  type DownloadProgress,
  type HubSourceOptions,
  type SourceOptions,
} from "./hub";
export { createLoadContext, createSessionFactory, selectVariant, presentVariants, variantPath, DTYPE_SUFFIXES, type SessionFactory, type SessionSettings } from "./onnx";
export * from "./audio";
export * from "./browser";
// Remote engines (PROTOCOL §5): OpenAI-compatible servers behind the same engine interfaces.
export { isOpenAiEnginesPath, openAiEndpoint, type OpenAiEndpoint } from "./openai/endpoint";
export { RemoteServerError, type RemoteFault } from "./openai/errors";
export { listServerModels } from "./openai/models";
export { OpenAiHttpClient } from "./openai/http-client";
export { loadOpenAiModel } from "./openai/remote-model";
export { OpenAiLlmEngine } from "./llm/engines/openai/openai-llm-engine";
export { OpenAiTtsEngine } from "./tts/engines/openai/openai-tts-engine";
export { OpenAiAsrEngine } from "./asr/engines/openai/openai-asr-engine";
/** The Wyoming protocol layer (codec, client, server, engine-backed services). */
export * as wyoming from "./wyoming";
