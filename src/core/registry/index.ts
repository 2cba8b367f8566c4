export { ModelRegistry, sharedRegistry, FAMILY_LOADERS, type LoaderTable, type ModelLease, type ModelState, type RegistryOptions, type RegistrySettings, type StartOptions } from "./model-registry";
export { modelKey } from "./model-key";
export { loadModel, type LoadModelOptions } from "./load-model";
export { openModel, offlineByEnvironment, type OpenedModel, type OpenModelOptions, type OpenNamedModelOptions } from "./open-model";
