import * as fs from "fs";
import * as path from "path";

/** The repository root (the folder with package.json), found from the compiled test file. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("package.json not found above " + __dirname);
    dir = up;
  }
  return dir;
}

/** ../shared beside the repository: real models and audio (read-only). */
export function sharedDir(...parts: string[]): string {
  return path.join(repoRoot(), "..", "shared", ...parts);
}
