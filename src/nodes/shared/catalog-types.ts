/** What the editor's "Ask the server" endpoint (remote-catalog.ts) asks a lister, and the one answer shape. */
import type { ModelConfig } from "../../core/types";

export interface CatalogRequest {
  /** The engines path as typed (http(s)://…/v1, wyoming://host:port). */
  url: string;
  /** The API key / token, when there is one. */
  apiKey?: string;
  /** The voice-model's config so far (ca_file, timeouts, kind ...). */
  config: ModelConfig;
  kind?: string;
}

/** One shape for every scheme: flat lists for the pickers, then what the protocol adds. */
export interface Catalog {
  /** Which protocol answered ("openai", "wyoming"). */
  kind: string;
  /** The address asked, as messages show it (no key). */
  url: string;
  /** Server-side model names (OpenAI models, Wyoming asr models). */
  models: string[];
  /** Voices (Wyoming tts). */
  voices?: string[];
  /** Wake words (Wyoming wake). */
  wake_words?: string[];
  /** The protocol's own description (Wyoming: the asr / tts / wake programs of its info). */
  [detail: string]: unknown;
}

export type CatalogLister = (request: CatalogRequest) => Promise<Catalog>;

/** The request itself is wrong (a malformed address): the endpoint answers 400, not 502. */
export class BadCatalogRequest extends Error {}
