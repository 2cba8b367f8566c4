/**
 * The Wyoming lister of the editor's "Ask the server" button (remote-catalog.ts): a fresh
 * describe of wyoming://host:port (not the engines' cache), flattened for the pickers (asr
 * models, tts voices, wake words), with the service's own lists beside them.
 */
import { clientOptionsFrom, describeOnce, parseWyomingUrl } from "../../core/wyoming/client";
import { BadCatalogRequest, type Catalog, type CatalogRequest } from "./catalog-types";

/** A quick answer or none: the editor waits on it. */
const DEFAULT_TIMEOUT_MS = 5000;

export async function listWyomingService({ url, config }: CatalogRequest): Promise<Catalog> {
  let target;
  try {
    target = parseWyomingUrl(url);
  } catch (err) {
    throw new BadCatalogRequest((err as Error).message);
  }
  const options = clientOptionsFrom(config);
  const info = await describeOnce(target, { connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS, idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_TIMEOUT_MS });
  return {
    kind: "wyoming",
    url: target.url,
    models: [...new Set(info.asr.flatMap((p) => p.models.map((m) => m.name)))],
    voices: [...new Set(info.tts.flatMap((p) => p.voices.map((v) => v.name)))],
    wake_words: [...new Set(info.wake.flatMap((p) => p.models.map((m) => m.name)))],
    asr: info.asr,
    tts: info.tts,
    wake: info.wake,
  };
}
