/**
 * Every command opens its model here, through the registry exactly as the nodes do: a repo id
 * downloads into the cache (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE apply), a folder loads as is,
 * built-in names need nothing. A name that points at nothing exits 2; a model that fails to load, 1.
 */
import { ModelNotFoundError, openNamedModel, type OpenedModel, type OpenNamedModelOptions } from "../core/open-model";
import type { LoadedModel, ModelKind } from "../core/types";
import { CliError } from "./cli-error";

export async function openForCli<E extends LoadedModel>(kind: ModelKind, model: string, options: OpenNamedModelOptions = {}): Promise<OpenedModel<E>> {
  try {
    return await openNamedModel<E>(kind, model, options);
  } catch (err) {
    throw new CliError((err as Error).message, err instanceof ModelNotFoundError ? 2 : 1);
  }
}
