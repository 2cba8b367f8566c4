/**
 * Admin HTTP routes behind the voice-model editor's model picker (editor users only,
 * voice-model.read / voice-model.write permissions):
 *   GET  /voice-stream/models?kind=llm       the tested models of that kind, each with the exact size
 *                                            of its download when the hub answers (else approximate),
 *                                            and the repos in the cache
 *   POST /voice-stream/models/download       {repo, revision?, dtype?, voice?}: starts a download ("download now")
 *   GET  /voice-stream/models/download?repo=…&revision=…&dtype=…&voice=…   its progress
 * A download runs once per repo/revision/variant however many dialogs ask; finished or
 * failed entries stay until the next request for the same model starts it again.
 */
import type { NodeAPI } from "node-red";
import type { Subscription } from "rxjs";
import { listCachedModels } from "../core/hub/cache-listing";
import { testedModels, type CatalogModel } from "../core/hub/catalog";
import { DownloadSizeCache } from "../core/hub/download-size";
import { downloadModel, type ModelDownloadProgress } from "../core/hub/download";
import { isHubRepoId, resolveCacheDir } from "../core/hub/paths";
import { offlineByEnvironment } from "../core/open-model";
import type { ModelKind } from "../core/types";

interface DownloadEntry {
  state: "downloading" | "done" | "error";
  progress?: ModelDownloadProgress;
  error?: string;
  subscription?: Subscription;
}

const KINDS: ModelKind[] = ["llm", "tts", "asr", "vad"];
/** How long the picker's listing waits for the hub's sizes before showing the catalog's approximate ones. */
const SIZE_WAIT_MS = 5000;

type Req = { query: Record<string, unknown>; body?: Record<string, unknown> };
type Res = { json(v: unknown): void; status(code: number): Res };
type Handler = (req: Req, res: Res) => void;
type Router = { get(path: string, ...h: unknown[]): void; post(path: string, ...h: unknown[]): void };

export function registerModelAdmin(RED: NodeAPI, cacheFallback: string | undefined): void {
  const downloads = new Map<string, DownloadEntry>();
  const admin = RED.httpAdmin as unknown as Router;
  const auth = (RED as unknown as { auth: { needsPermission(p: string): unknown } }).auth;
  const cacheDir = () => resolveCacheDir(cacheFallback);
  const keyOf = (repo: string, revision: string, dtype: string, voice: string) => `${repo}@${revision}:${dtype}${voice ? `#${voice}` : ""}`;
  const sizes = new DownloadSizeCache();
  const hub = () => ({ hubUrl: process.env.HF_ENDPOINT || undefined, token: process.env.HF_TOKEN || undefined });

  /** A tested model with the exact size of its download (bytes, exact: true), or the catalog's approximate one. */
  const sized = async (m: CatalogModel) => {
    // Offline mode (HF_HUB_OFFLINE / VOICE_STREAM_OFFLINE) asks no hub: the catalog's figure, marked approximate.
    if (!isHubRepoId(m.model) || offlineByEnvironment()) return { ...m, exact: false };
    const size = await sizes.get({ repo: m.model, dtype: m.dtype || undefined, voice: m.voice, ...hub() }, SIZE_WAIT_MS);
    return size ? { ...m, bytes: size.bytes, files: size.files, exact: true } : { ...m, exact: false };
  };
  const text = (v: unknown) => (typeof v === "string" ? v.trim() : "");

  const list: Handler = (req, res) => {
    const kind = text(req.query.kind) as ModelKind;
    if (!KINDS.includes(kind)) return void res.status(400).json({ error: `kind must be one of ${KINDS.join(", ")}` });
    Promise.all(testedModels(kind).map(sized)).then(
      (tested) => res.json({ cacheDir: cacheDir(), tested, cached: listCachedModels(cacheDir()) }),
      (err: Error) => res.status(500).json({ error: err.message }),
    );
  };

  const start: Handler = (req, res) => {
    const body = req.body ?? {};
    const repo = text(body.repo);
    const revision = text(body.revision) || "main";
    const dtype = text(body.dtype);
    const voice = text(body.voice);
    if (!isHubRepoId(repo)) return void res.status(400).json({ error: `'${repo}' is not a Hugging Face repo id (owner/name); local folders and built-in models need no download` });
    const key = keyOf(repo, revision, dtype, voice);
    const running = downloads.get(key);
    if (running?.state === "downloading") return void res.json({ key, ...view(running) });
    const entry: DownloadEntry = { state: "downloading" };
    downloads.set(key, entry);
    entry.subscription = downloadModel({ repo, revision, dtype: dtype || undefined, voice: voice || undefined, cacheDir: cacheDir(), ...hub() }).subscribe({
      next: (p) => (entry.progress = p),
      error: (err: Error) => {
        entry.state = "error";
        entry.error = err.message;
        RED.log.warn(`[voice-model] download of ${repo} failed: ${err.message}`);
      },
      complete: () => (entry.state = "done"),
    });
    res.json({ key, ...view(entry) });
  };

  const status: Handler = (req, res) => {
    const entry = downloads.get(keyOf(text(req.query.repo), text(req.query.revision) || "main", text(req.query.dtype), text(req.query.voice)));
    if (!entry) return void res.status(404).json({ error: "no download of that model was started" });
    res.json(view(entry));
  };

  admin.get("/voice-stream/models", auth.needsPermission("voice-model.read"), list);
  admin.post("/voice-stream/models/download", auth.needsPermission("voice-model.write"), start);
  admin.get("/voice-stream/models/download", auth.needsPermission("voice-model.read"), status);
}

function view(entry: DownloadEntry) {
  return { state: entry.state, progress: entry.progress, error: entry.error };
}
