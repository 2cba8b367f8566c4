/**
 * A true/false key of a model's extra config (worker_thread, fuse_matmuls, append_only_cache,
 * speech_logits_only): true / false, or their strings; unset (undefined, null, "") is undefined so
 * the caller applies its default. Anything else is the user's error, named: `owner` starts the
 * message ("the config of model x").
 */
export function configFlag(config: Record<string, unknown> | undefined, key: string, owner: string): boolean | undefined {
  const value = config?.[key];
  if (value === undefined || value === null || value === "") return undefined;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new Error(`${owner}: ${key} must be true or false, got ${JSON.stringify(value)}`);
}
