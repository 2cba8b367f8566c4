/**
 * The exact download size of a model, asked of the hub: its file listing (the tree API, with
 * each file's size, LFS files by their real size), reduced to the files a download of that
 * selection fetches (download-selection.ts: the same choice the downloader makes) and summed.
 * Listings are kept per repo and revision for a while (four piper voices of rhasspy/piper-voices
 * are one listing), so reopening the dialog asks the hub again only after that; failures (hub
 * out of reach) are kept briefly, so the picker does not wait on every opening.
 */
import { listFiles } from "@huggingface/hub";
import { selectDownloadFiles, type DownloadSelection } from "./download-selection";
import { DEFAULT_HUB_URL } from "./hub-source";

export interface HubRepoQuery {
  repo: string;
  revision?: string;
  hubUrl?: string;
  token?: string;
  signal?: AbortSignal;
}

export type DownloadSizeQuery = HubRepoQuery & DownloadSelection;

export interface DownloadSize {
  bytes: number;
  files: number;
}

/** Every file of `query.repo` at its revision with its size in bytes, from the hub's tree API. */
export async function hubFileSizes(query: HubRepoQuery): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const signal = query.signal;
  for await (const entry of listFiles({
    repo: query.repo,
    revision: query.revision || "main",
    recursive: true,
    hubUrl: (query.hubUrl || DEFAULT_HUB_URL).replace(/\/+$/, ""),
    accessToken: query.token,
    fetch: signal ? (((input: Parameters<typeof fetch>[0], init?: RequestInit) => fetch(input, { ...init, signal })) as typeof fetch) : undefined,
  })) {
    if (entry.type === "file") sizes.set(entry.path, entry.lfs?.size ?? entry.size);
  }
  return sizes;
}

/** The size of what a download of `selection` fetches, from a repo's file sizes. */
export function selectionSize(sizes: Map<string, number>, selection: DownloadSelection): DownloadSize {
  const wanted = selectDownloadFiles([...sizes.keys()], selection);
  return { bytes: wanted.reduce((sum, rel) => sum + (sizes.get(rel) ?? 0), 0), files: wanted.length };
}

/** Asks the hub for the files of `query.repo` and sums those a download of the selection fetches. */
export async function hubDownloadSize(query: DownloadSizeQuery): Promise<DownloadSize> {
  return selectionSize(await hubFileSizes(query), query);
}

interface CacheEntry {
  at: number;
  answer: Promise<Map<string, number>>;
  failed?: boolean;
}

/** Download sizes from listings with a memory: one listing per repo and revision in flight, kept `keepMs`, failures `retryMs`. */
export class DownloadSizeCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(
    private readonly ask: (query: HubRepoQuery) => Promise<Map<string, number>> = hubFileSizes,
    private readonly keepMs = 6 * 3600_000,
    private readonly retryMs = 60_000,
  ) {}

  private static keyOf(q: HubRepoQuery): string {
    return JSON.stringify([q.hubUrl ?? "", q.repo, q.revision || "main"]);
  }

  /** The size, or undefined when the hub did not answer within `waitMs` or failed. */
  async get(query: DownloadSizeQuery, waitMs: number): Promise<DownloadSize | undefined> {
    const key = DownloadSizeCache.keyOf(query);
    let entry = this.entries.get(key);
    const now = Date.now();
    if (!entry || now - entry.at > (entry.failed ? this.retryMs : this.keepMs)) {
      const created: CacheEntry = { at: now, answer: this.ask(query) };
      created.answer.catch(() => (created.failed = true));
      this.entries.set(key, created);
      entry = created;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs)));
    try {
      const sizes = await Promise.race([entry.answer.catch(() => undefined), late]);
      return sizes && selectionSize(sizes, query);
    } finally {
      clearTimeout(timer);
    }
  }
}
