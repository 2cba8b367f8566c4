/** Finding command-line audio tools on PATH (players and recorders), without a shell. */
import * as fs from "fs";
import * as path from "path";

/** Full path of `command` on PATH, or undefined when it is not installed. */
export function findExecutable(command: string, envPath = process.env.PATH ?? ""): string | undefined {
  if (command.includes("/")) return isExecutable(command) ? command : undefined;
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
