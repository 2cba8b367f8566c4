/**
 * A model in a Hugging Face hub repo, fetched file by file into the cache as loaders ask
 * for them. Listing uses the hub's tree API (listFiles); each file is sized with
 * fileDownloadInfo and streamed through downloadFile's range-capable blob into
 * `<file>.part`, renamed into place only when complete — so an interrupted download never
 * looks finished, and the next attempt resumes from the .part with an HTTP Range request.
 */
import { withStatusText } from "../status-text";
import * as fs from "fs";
import * as path from "path";
import { HubApiError, downloadFile, fileDownloadInfo, listFiles } from "@huggingface/hub";
import type { ModelSource } from "../types";
import { describeHubError, type HubErrorContext } from "./errors";
import { listFilesUnder } from "./local-source";
import { repoCacheDir } from "./paths";

export const DEFAULT_HUB_URL = "https://huggingface.co";

export interface DownloadProgress {
  /** The file being transferred (relative path in the repo). */
  file: string;
  file_bytes_done: number;
  file_bytes_total: number;
  /** Over every file this source has been asked to fetch so far. */
  bytes_done: number;
  bytes_total: number;
  fraction: number;
}

export interface HubSourceOptions {
  repo: string;
  revision?: string;
  cacheDir: string;
  hubUrl?: string;
  /** Access token for private or gated repos (HF_TOKEN or the config node's credential). */
  token?: string;
  /** Use the cache only: never touch the network. */
  offline?: boolean;
  onProgress?: (progress: DownloadProgress) => void;
  /** Aborting stops transfers in flight (the .part file stays for a later resume). */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** Told when the hub cannot be reached and the cached files are used instead. */
  warn?: (message: string) => void;
}

/** Transfers in flight in this process by target path: two sources never write one .part at once. */
const inFlight = new Map<string, Promise<string>>();

interface RemoteFile {
  size: number;
}

interface PartMeta {
  etag: string;
  size: number;
}

export class HubModelSource implements ModelSource {
  readonly id: string;
  readonly repo: string;
  readonly revision: string;
  /** Where this revision's files land. */
  readonly dir: string;
  private readonly hubUrl: string;
  private remote?: Promise<Map<string, RemoteFile>>;
  /** Per requested file: [done, total] for the overall fraction. */
  private readonly transfers = new Map<string, [number, number]>();

  constructor(private readonly options: HubSourceOptions) {
    this.repo = options.repo;
    this.revision = options.revision || "main";
    this.id = this.revision === "main" ? this.repo : `${this.repo}@${this.revision}`;
    this.hubUrl = (options.hubUrl || DEFAULT_HUB_URL).replace(/\/+$/, "");
    this.dir = repoCacheDir(options.cacheDir, this.repo, this.revision);
  }

  private errorContext(file?: string): HubErrorContext {
    return { repo: this.repo, revision: this.revision, file, hubUrl: this.hubUrl, hadToken: !!this.options.token };
  }

  private get fetchFn(): typeof fetch {
    const base = this.options.fetch ?? fetch;
    const signal = this.options.signal;
    if (!signal) return base;
    return ((input: Parameters<typeof fetch>[0], init?: RequestInit) => base(input, { ...init, signal })) as typeof fetch;
  }

  private offlineMissing(relPath: string): Error {
    return withStatusText(
      new Error(
        `offline mode: '${relPath}' of model '${this.id}' is not in the cache (${this.dir}); ` +
          `download it while online (voice-stream download ${this.repo}${this.revision !== "main" ? ` --revision ${this.revision}` : ""}) or turn offline mode off`,
      ),
      "offline: model not cached",
    );
  }

  /** Remote file table (one listing per source), or the cache's files when offline. */
  private remoteFiles(): Promise<Map<string, RemoteFile>> {
    if (!this.remote) {
      this.remote = this.fetchListing();
      this.remote.catch(() => (this.remote = undefined));
    }
    return this.remote;
  }

  private async fetchListing(): Promise<Map<string, RemoteFile>> {
    if (this.options.offline) return this.cachedListing();
    const files = new Map<string, RemoteFile>();
    try {
      for await (const entry of listFiles({
        repo: this.repo,
        revision: this.revision,
        recursive: true,
        hubUrl: this.hubUrl,
        accessToken: this.options.token,
        fetch: this.fetchFn,
      })) {
        if (entry.type === "file") files.set(entry.path, { size: entry.lfs?.size ?? entry.size });
      }
    } catch (err) {
      // The hub out of reach (no network, DNS, refused) while the model is cached: run from the
      // cache, as after a restart without network. Answers from the hub (401, 404) still fail.
      if (!(err instanceof HubApiError) && !this.options.signal?.aborted && fs.existsSync(this.dir)) {
        this.options.warn?.(`the Hugging Face hub is not reachable (${(err as Error).message}); using the cached files of model '${this.id}'`);
        return this.cachedListing();
      }
      throw describeHubError(err, this.errorContext());
    }
    return files;
  }

  private async cachedListing(): Promise<Map<string, RemoteFile>> {
    if (!fs.existsSync(this.dir)) {
      throw withStatusText(
        new Error(
          `offline mode: model '${this.id}' is not in the cache (${this.dir}); ` +
            `download it while online (voice-stream download ${this.repo}) or turn offline mode off`,
        ),
        "offline: model not cached",
      );
    }
    const files = new Map<string, RemoteFile>();
    for (const rel of listFilesUnder(this.dir)) {
      if (!isTransferArtifact(rel)) files.set(rel, { size: fs.statSync(path.join(this.dir, rel)).size });
    }
    return files;
  }

  /** Every file with its size in bytes (from the hub's listing, or the cache when offline). */
  async fileSizes(): Promise<Map<string, number>> {
    return new Map([...(await this.remoteFiles())].map(([rel, info]) => [rel, info.size]));
  }

  async list(): Promise<string[]> {
    return [...(await this.remoteFiles()).keys()].sort();
  }

  async has(relPath: string): Promise<boolean> {
    if (fs.existsSync(path.join(this.dir, relPath))) return true;
    return (await this.remoteFiles()).has(relPath);
  }

  /** The cached path of `relPath`, downloaded first if needed; for x.onnx also its x.onnx_data companions. */
  async file(relPath: string): Promise<string> {
    const main = await this.fetchOne(relPath);
    if (relPath.endsWith(".onnx")) {
      const companions = await this.companionsOf(relPath);
      for (const companion of companions) await this.fetchOne(companion);
    }
    return main;
  }

  /** External-data files stored beside an ONNX graph: x.onnx_data, x.onnx_data_1, ... */
  private async companionsOf(relPath: string): Promise<string[]> {
    let names: string[];
    try {
      names = await this.list();
    } catch (err) {
      // Listing is only for companions here: a cached graph with cached data still loads.
      if (this.options.offline) return [];
      throw err;
    }
    return names.filter((n) => n === `${relPath}_data` || n.startsWith(`${relPath}_data_`));
  }

  private fetchOne(relPath: string): Promise<string> {
    const target = path.join(this.dir, relPath);
    if (fs.existsSync(target)) return Promise.resolve(target);
    if (this.options.offline) return Promise.reject(this.offlineMissing(relPath));
    let pending = inFlight.get(target);
    if (!pending) {
      pending = this.download(relPath, target).finally(() => inFlight.delete(target));
      inFlight.set(target, pending);
    }
    return pending;
  }

  private report(relPath: string, done: number, total: number): void {
    this.transfers.set(relPath, [done, total]);
    if (!this.options.onProgress) return;
    let allDone = 0;
    let allTotal = 0;
    for (const [d, t] of this.transfers.values()) {
      allDone += d;
      allTotal += t;
    }
    this.options.onProgress({
      file: relPath,
      file_bytes_done: done,
      file_bytes_total: total,
      bytes_done: allDone,
      bytes_total: allTotal,
      fraction: allTotal > 0 ? allDone / allTotal : 1,
    });
  }

  private async download(relPath: string, target: string): Promise<string> {
    const ctx = this.errorContext(relPath);
    const common = { repo: this.repo, path: relPath, revision: this.revision, hubUrl: this.hubUrl, accessToken: this.options.token, fetch: this.fetchFn };
    let info;
    try {
      info = await fileDownloadInfo(common);
    } catch (err) {
      throw describeHubError(err, ctx);
    }
    if (!info) {
      throw new Error(`model '${this.id}' has no file '${relPath}' on the Hugging Face hub (HTTP 404); check the model's files and the variant (dtype) asked for`);
    }
    const total = info.size;
    const part = `${target}.part`;
    const metaFile = `${target}.part.json`;
    await fs.promises.mkdir(path.dirname(target), { recursive: true });

    // Resume only a .part of the same remote version (same ETag and size); otherwise restart.
    let offset = 0;
    const meta = readMeta(metaFile);
    if (meta && meta.etag === info.etag && meta.size === total && fs.existsSync(part)) {
      offset = fs.statSync(part).size;
      if (offset > total) offset = 0;
    }
    if (offset === 0) {
      await fs.promises.rm(part, { force: true });
      await fs.promises.writeFile(metaFile, JSON.stringify({ etag: info.etag, size: total } satisfies PartMeta));
    }
    this.report(relPath, offset, total);

    if (offset < total) {
      let blob: Blob | null;
      try {
        blob = await downloadFile({ ...common, downloadInfo: info, xet: false });
      } catch (err) {
        throw describeHubError(err, ctx);
      }
      if (!blob) throw new Error(`model '${this.id}' has no file '${relPath}' on the Hugging Face hub (HTTP 404)`);
      // slice(offset) makes the blob fetch with "Range: bytes=offset-": the resume.
      const body = (offset > 0 ? blob.slice(offset) : blob).stream();
      const out = fs.createWriteStream(part, { flags: offset > 0 ? "a" : "w" });
      let done = offset;
      let lastReport = 0;
      try {
        const reader = body.getReader();
        for (;;) {
          const { value, done: finished } = await reader.read();
          if (finished) break;
          if (!out.write(value)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
          done += value.byteLength;
          const now = Date.now();
          if (now - lastReport >= 100) {
            lastReport = now;
            this.report(relPath, Math.min(done, total), total);
          }
        }
      } catch (err) {
        await closeStream(out);
        const reason = err instanceof Error ? err.message : String(err);
        if (this.options.signal?.aborted) throw new Error(`download of '${relPath}' of model '${this.id}' was cancelled (${done} of ${total} bytes kept for a resume)`);
        throw new Error(
          `download of '${relPath}' of model '${this.id}' was cut off after ${done} of ${total} bytes (${reason}); ` +
            `try again — the next attempt resumes where this one stopped`,
        );
      }
      await closeStream(out);
    }

    const size = fs.statSync(part).size;
    if (size !== total) {
      // A server that ignored the Range header appended the whole file: start over next time.
      if (size > total) await fs.promises.rm(part, { force: true });
      throw new Error(
        `download of '${relPath}' of model '${this.id}' ended with ${size} of ${total} bytes; try again — ` +
          (size > total ? "the partial file was discarded" : "the next attempt resumes where this one stopped"),
      );
    }
    await fs.promises.rename(part, target);
    await fs.promises.rm(metaFile, { force: true });
    this.report(relPath, total, total);
    return target;
  }
}

function readMeta(file: string): PartMeta | undefined {
  try {
    const meta = JSON.parse(fs.readFileSync(file, "utf8")) as PartMeta;
    return typeof meta.etag === "string" && typeof meta.size === "number" ? meta : undefined;
  } catch {
    return undefined;
  }
}

function closeStream(out: fs.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (out.closed) return resolve();
    out.end(() => resolve());
    out.once("error", () => resolve());
  });
}

/** Files the downloader itself leaves in the cache: never model files. */
export function isTransferArtifact(relPath: string): boolean {
  return relPath.endsWith(".part") || relPath.endsWith(".part.json");
}
