/**
 * Where models come from and where downloads go: engines paths that are Hugging Face repo
 * ids versus local folders, and the download cache directory.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Whether `enginesPath` names a hub repo ("owner/name") rather than a local folder. Paths
 * starting with "/", ".", "~" or a drive letter are local; "owner/name" is a repo unless a
 * folder of that name exists in the working directory.
 */
export function isHubRepoId(enginesPath: string): boolean {
  const p = enginesPath.trim();
  if (!REPO_ID.test(p)) return false;
  if (p.startsWith(".")) return false;
  return !fs.existsSync(path.resolve(p));
}

/** The download cache: $VOICE_STREAM_CACHE, else `fallback` (Node-RED: <userDir>/voice-stream-cache), else ~/.cache/voice-stream. */
export function resolveCacheDir(fallback?: string): string {
  const fromEnv = process.env.VOICE_STREAM_CACHE;
  if (fromEnv && fromEnv.trim()) return path.resolve(fromEnv.trim());
  if (fallback) return path.resolve(fallback);
  return path.join(os.homedir(), ".cache", "voice-stream");
}

/** The cache folder of one repo revision: <cache>/<owner>/<name>/<revision> (revision URI-encoded: branches may hold "/"). */
export function repoCacheDir(cacheDir: string, repo: string, revision: string): string {
  const [owner, name] = repo.split("/");
  return path.join(cacheDir, owner, name, encodeURIComponent(revision));
}
