/**
 * Admin endpoint for the editor's voice picker:
 *
 *   GET voice-stream/voices?model=<voice-model config node id>
 *       → { voices: [...] } from the deployed, loaded model (any tts engine),
 *         or { voices: [], state: "downloading" | "loading" | "error", error? } while it is not ready
 *   GET voice-stream/voices?path=<local model folder>
 *       → { voices: [...] } read from the folder's files, before anything is deployed:
 *         Kokoro voices/<name>.bin, codec voices/<id>.json, piper <name>.onnx.json
 *
 * Guarded by the voice-model read permission (Node-RED's admin auth); the path form lists
 * file names only, never contents.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { NodeAPI } from "node-red";
import type { LoadedModel } from "../../core/types";
import { isVoiceModelNode } from "./model-status";

export const VOICES_ENDPOINT = "/voice-stream/voices";

/** Voice names found in a local model folder (sorted); [] when it has none. */
export function voicesInFolder(dir: string): string[] {
  const names = new Set<string>();
  const list = (sub: string) => {
    try {
      return fs.readdirSync(path.join(dir, sub));
    } catch {
      return [];
    }
  };
  for (const file of list("voices")) {
    const m = /^(.+)\.(bin|json)$/.exec(file);
    if (m) names.add(m[1]);
  }
  for (const file of list("")) {
    const m = /^(.+)\.onnx\.json$/.exec(file);
    if (m) names.add(m[1]);
  }
  return [...names].sort();
}

function resolveFolder(raw: string): string {
  const expanded = raw.startsWith("~") ? path.join(os.homedir(), raw.slice(1)) : raw;
  return path.resolve(expanded);
}

interface ConfigNodeWithState {
  state?: () => { phase: string; error?: Error } | undefined;
  model(): Promise<LoadedModel>;
}

export function registerVoicesEndpoint(RED: NodeAPI): void {
  const permission = RED.auth?.needsPermission ? RED.auth.needsPermission("voice-model.read") : (_req: unknown, _res: unknown, next: () => void) => next();
  RED.httpAdmin.get(VOICES_ENDPOINT, permission, async (req, res) => {
    const query = req.query as Record<string, unknown>;
    try {
      if (typeof query.model === "string" && query.model !== "") {
        const node = RED.nodes.getNode(query.model) as unknown;
        if (!isVoiceModelNode(node)) {
          res.status(404).json({ error: `no deployed voice-model '${query.model}': deploy it first, or ask with ?path=<model folder>` });
          return;
        }
        const state = (node as unknown as ConfigNodeWithState).state?.();
        if (state && state.phase !== "ready") {
          res.json({ voices: [], state: state.phase, ...(state.error ? { error: state.error.message } : {}) });
          return;
        }
        const model = (await node.model()) as LoadedModel & { voices?: unknown };
        res.json({ voices: Array.isArray(model.voices) ? model.voices.map(String) : [] });
        return;
      }
      if (typeof query.path === "string" && query.path.trim() !== "") {
        const dir = resolveFolder(query.path.trim());
        if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
          res.status(404).json({ error: `'${query.path}' is not a local model folder (a hub repo's voices are listed once the model is deployed)` });
          return;
        }
        res.json({ voices: voicesInFolder(dir) });
        return;
      }
      res.status(400).json({ error: "ask with ?model=<voice-model node id> or ?path=<local model folder>" });
    } catch (err) {
      res.status(500).json({ error: (err as Error).message });
    }
  });
}
