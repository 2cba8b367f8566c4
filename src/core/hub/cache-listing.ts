/**
 * What is already in the download cache (<cache>/<owner>/<name>/<revision>/…), for the
 * editor's model picker: repos with at least one finished file, and their size on disk.
 */
import * as fs from "fs";
import * as path from "path";
import { isTransferArtifact } from "./hub-source";

export interface CachedModel {
  repo: string;
  revision: string;
  bytes: number;
  files: number;
}

function dirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name);
  } catch {
    return [];
  }
}

function sizeOf(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = sizeOf(full);
      bytes += inner.bytes;
      files += inner.files;
    } else if (entry.isFile() && !isTransferArtifact(path.relative(dir, full))) {
      bytes += fs.statSync(full).size;
      files++;
    }
  }
  return { bytes, files };
}

export function listCachedModels(cacheDir: string): CachedModel[] {
  const out: CachedModel[] = [];
  for (const owner of dirs(cacheDir)) {
    for (const name of dirs(path.join(cacheDir, owner))) {
      for (const rev of dirs(path.join(cacheDir, owner, name))) {
        const { bytes, files } = sizeOf(path.join(cacheDir, owner, name, rev));
        if (files > 0) out.push({ repo: `${owner}/${name}`, revision: decodeURIComponent(rev), bytes, files });
      }
    }
  }
  return out.sort((a, b) => a.repo.localeCompare(b.repo));
}
