/**
 * Downloading one model repo (or one ONNX variant of it) into the cache ahead of use: the
 * editor's "download now" and `voice-stream download`. A cold Observable of progress that
 * completes when every file is in the cache; unsubscribing cancels (partial files stay and
 * resume next time).
 */
import { Observable } from "rxjs";
import { variantOfFile } from "../onnx/variants";
import { isOfVariant, selectDownloadFiles } from "./download-selection";
import { HubModelSource } from "./hub-source";

export { filesForVariant, selectDownloadFiles, type DownloadSelection } from "./download-selection";

export interface ModelDownloadOptions {
  repo: string;
  revision?: string;
  /** Only this ONNX variant (plus every non-ONNX file); all variants when absent. */
  dtype?: string;
  /** A piper voice (en_US-lessac-medium): only that voice's files of a many-voice repo. */
  voice?: string;
  cacheDir: string;
  token?: string;
  hubUrl?: string;
}

export interface ModelDownloadProgress {
  /** The file being fetched now. */
  file?: string;
  bytes_done: number;
  bytes_total: number;
  fraction: number;
  files_done: number;
  files_total: number;
  /** The repo's cache folder, once known. */
  dir: string;
}

export function downloadModel(options: ModelDownloadOptions): Observable<ModelDownloadProgress> {
  return new Observable<ModelDownloadProgress>((subscriber) => {
    const abort = new AbortController();
    const done = new Map<string, number>();
    let total = 0;
    let filesDone = 0;
    let filesTotal = 0;
    let current: string | undefined;
    const source = new HubModelSource({
      repo: options.repo,
      revision: options.revision || "main",
      cacheDir: options.cacheDir,
      hubUrl: options.hubUrl,
      token: options.token,
      signal: abort.signal,
      onProgress: (p) => {
        done.set(p.file, p.file_bytes_done);
        current = p.file;
        emit();
      },
    });
    const emit = () => {
      const bytes = [...done.values()].reduce((a, b) => a + b, 0);
      subscriber.next({ file: current, bytes_done: bytes, bytes_total: total, fraction: total > 0 ? Math.min(1, bytes / total) : 0, files_done: filesDone, files_total: filesTotal, dir: source.dir });
    };
    (async () => {
      const sizes = await source.fileSizes();
      const wanted = selectDownloadFiles([...sizes.keys()], { dtype: options.dtype, voice: options.voice });
      if (options.dtype && !options.voice && !wanted.some((rel) => isOfVariant(rel, options.dtype!))) {
        const present = [...new Set([...sizes.keys()].map(variantOfFile).filter((v): v is string => !!v))];
        throw new Error(`model '${options.repo}' has no ONNX files of variant '${options.dtype}'; variants present: ${present.join(", ") || "none"}`);
      }
      total = wanted.reduce((sum, rel) => sum + (sizes.get(rel) ?? 0), 0);
      filesTotal = wanted.length;
      emit();
      for (const rel of wanted) {
        if (abort.signal.aborted) return;
        await source.file(rel);
        done.set(rel, sizes.get(rel) ?? 0);
        filesDone++;
        current = rel;
        emit();
      }
      subscriber.complete();
    })().catch((err: Error) => {
      if (!abort.signal.aborted) subscriber.error(err);
    });
    return () => abort.abort();
  });
}
