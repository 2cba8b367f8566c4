/**
 * A model in a local directory laid out like a Hugging Face ONNX repo: every file is a path
 * join plus an existence check, so a missing file fails with its name and the layout expected.
 */
import { withStatusText } from "../status-text";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ModelSource } from "../types";

/** "~/models/x" → "/home/me/models/x"; relative paths resolve against the working directory. */
export function expandDirectory(dir: string): string {
  const trimmed = dir.trim();
  if (trimmed === "~") return os.homedir();
  if (trimmed.startsWith("~/") || trimmed.startsWith("~\\")) return path.join(os.homedir(), trimmed.slice(2));
  return path.resolve(trimmed);
}

export function listFilesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() || entry.isSymbolicLink()) out.push(child);
    }
  };
  walk("");
  return out.sort();
}

export class LocalModelSource implements ModelSource {
  readonly id: string;
  readonly root: string;

  constructor(dir: string) {
    this.id = dir;
    this.root = expandDirectory(dir);
    let isDir = false;
    try {
      isDir = fs.statSync(this.root).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) {
      throw withStatusText(
        new Error(
          `model directory '${dir}' does not exist${this.root !== dir ? ` (resolved to ${this.root})` : ""}; ` +
            `set the engines path to a Hugging Face repo id (owner/name) or to a local folder in the same layout`,
        ),
        "model folder not found",
      );
    }
  }

  async file(relPath: string): Promise<string> {
    const full = path.join(this.root, relPath);
    if (!fs.existsSync(full)) {
      throw withStatusText(new Error(`model '${this.id}' has no ${relPath}; expected a Hugging Face ONNX layout with onnx/model.onnx`), `model lacks ${path.basename(relPath)}`);
    }
    return full;
  }

  async has(relPath: string): Promise<boolean> {
    return fs.existsSync(path.join(this.root, relPath));
  }

  async list(): Promise<string[]> {
    return listFilesUnder(this.root);
  }
}

/** A source with no files at all: for engines that need none (eSpeak, the built-in VAD). */
export class EmptyModelSource implements ModelSource {
  constructor(readonly id: string) {}
  async file(relPath: string): Promise<string> {
    throw new Error(`model '${this.id}' has no files (it needs none); '${relPath}' was asked for`);
  }
  async has(): Promise<boolean> {
    return false;
  }
  async list(): Promise<string[]> {
    return [];
  }
}
