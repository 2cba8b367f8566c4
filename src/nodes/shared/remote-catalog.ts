/**
 * The editor's "ask the server" button for remote engines: one admin endpoint,
 *   POST <admin>/voice-model/catalog  {url, id?, token?, config?}  →  Catalog {kind, url, models, voices?, wake_words?, …}
 * that dispatches on the URL's scheme to a lister. The OpenAI-compatible lister (http:, https:
 * → `GET {url}/models`) and the Wyoming one (wyoming: → `describe`, wyoming-catalog.ts) are
 * registered here; another protocol adds its own with `addCatalogLister([scheme], lister)`.
 * The key is the one typed in the editor, else the deployed node's stored credential; it
 * never comes back in an answer or an error.
 */
import type { NodeAPI } from "node-red";
import { openAiEndpoint } from "../../core/openai/endpoint";
import { OpenAiHttpClient } from "../../core/openai/http-client";
import { listServerModels } from "../../core/openai/models";
import type { ModelConfig } from "../../core/types";
import { BadCatalogRequest, type CatalogLister } from "./catalog-types";
import { listWyomingService } from "./wyoming-catalog";

export { BadCatalogRequest, type Catalog, type CatalogLister, type CatalogRequest } from "./catalog-types";

const listers = new Map<string, CatalogLister>();

/** Registers the lister of URLs with these schemes ("http:", "wyoming:"); a later one replaces an earlier. */
export function addCatalogLister(schemes: string[], lister: CatalogLister): void {
  for (const scheme of schemes) listers.set(scheme.toLowerCase(), lister);
}

addCatalogLister(["http:", "https:"], async ({ url, apiKey, config }) => {
  // A quick answer or none: the editor waits on it.
  const endpoint = openAiEndpoint(url, { connect_timeout_ms: 5000, idle_timeout_ms: 10000, ...config }, { apiKey });
  const client = new OpenAiHttpClient(endpoint);
  try {
    return { kind: "openai", url: endpoint.label, models: await listServerModels(client) };
  } finally {
    client.destroy();
  }
});

addCatalogLister(["wyoming:"], listWyomingService);

/** The lister for `url`; undefined for paths that are not remote. */
export function catalogListerFor(url: string): CatalogLister | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(url.trim())?.[1]?.toLowerCase();
  return scheme ? listers.get(scheme) : undefined;
}

const registered = new WeakSet<object>();
/** What the editor shows in a password field that holds a stored value. */
const STORED_PASSWORD = "__PWRD__";

export function registerCatalogEndpoint(RED: NodeAPI): void {
  const admin = RED.httpAdmin as unknown as { post: (path: string, ...handlers: unknown[]) => void };
  if (!admin || registered.has(admin)) return;
  registered.add(admin);
  const permission = (RED.auth as unknown as { needsPermission: (p: string) => unknown }).needsPermission("voice-model.read");
  admin.post("/voice-model/catalog", permission, async (req: { body?: Record<string, unknown> }, res: { status: (n: number) => { json: (v: unknown) => void } }) => {
    const body = req.body ?? {};
    const url = typeof body.url === "string" ? body.url.trim() : "";
    const lister = catalogListerFor(url);
    if (!lister) return res.status(400).json({ error: `'${url}' is not a remote engines path (http(s)://host:port/v1 or wyoming://host:port)` });
    let apiKey = typeof body.token === "string" && body.token !== STORED_PASSWORD ? body.token.trim() : "";
    if (!apiKey && typeof body.id === "string") {
      const stored = RED.nodes.getCredentials(body.id) as { token?: string } | undefined;
      apiKey = stored?.token?.trim() ?? "";
    }
    const config = body.config && typeof body.config === "object" && !Array.isArray(body.config) ? (body.config as ModelConfig) : {};
    try {
      const catalog = await lister({ url, apiKey: apiKey || undefined, config, kind: typeof body.kind === "string" ? body.kind : undefined });
      res.status(200).json(catalog);
    } catch (err) {
      const message = (err as Error).message;
      res.status(err instanceof BadCatalogRequest ? 400 : 502).json({ error: apiKey ? message.split(apiKey).join("***") : message });
    }
  });
}
