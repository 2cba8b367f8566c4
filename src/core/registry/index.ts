export { ModelRegistry, sharedRegistry, type ModelLease, type ModelState, type RegistryOptions, type RegistrySettings, type StartOptions } from "./model-registry";
export { FAMILY_LOADERS, REMOTE_ENGINES, openEngine, localLoadContext, type LoaderTable, type EngineEnvironment, type RemoteContext, type RemoteLoader } from "./resolve-engine";
export { modelKey } from "./model-key";
export { loadModel, type LoadModelOptions } from "./load-model";
