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

/**
 * The tests' real models and audio, in the repository under test/data (see its README for what
 * each file is and its licence), so a fresh clone needs nothing beside it. Sub-paths: `audio/…`,
 * `models/silero-vad/…`, `models/stories260K/…`.
 */
export function sharedDir(...parts: string[]): string {
  return testDataDir(...parts);
}

/** test/data in the repository (the source tree, not dist: the data is not copied by the build). */
export function testDataDir(...parts: string[]): string {
  return path.join(repoRoot(), "test", "data", ...parts);
}
