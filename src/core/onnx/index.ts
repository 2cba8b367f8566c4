export { createSessionFactory, checkOnnxFile, sessionOptions, type SessionFactory, type SessionSettings } from "./session-factory";
export { selectVariant, presentVariants, variantPath, variantOfFile, isKnownDtype, DTYPE_SUFFIXES, DEFAULT_DTYPE_ORDER } from "./variants";
export { createLoadContext, type LoadContextOptions } from "./load-context";
export { sessionSettingsFor } from "./spec-settings";
