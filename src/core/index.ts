/**
 * Public API of the inference core (no Node-RED imports): the shared types, the
 * InferenceCore facade, the model registry, model sources (hub / local), the ONNX layer and
 * the audio utilities (PCM conversion, resampling, WAV files, playback, capture).
 */
export * from "./types";
export { InferenceCore, type InferenceCoreOptions, type NamedModelSpec } from "./inference-core";
export { ModelRegistry, sharedRegistry, modelKey, loadModel, FAMILY_LOADERS, type LoadModelOptions, type LoaderTable, type ModelLease, type ModelState, type RegistryOptions, type RegistrySettings, type StartOptions } from "./registry";
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
/** The Wyoming protocol layer (codec, client, server, engine-backed services). */
export * as wyoming from "./wyoming";
