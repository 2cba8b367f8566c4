/**
 * `voice-stream download <repo> [--revision R] [--dtype D] [--voice V] [--cache-dir DIR] [--token T] [--quiet]`
 *
 * Fetches a Hugging Face model repo into the download cache (the same one the nodes and the
 * other commands use), printing one progress line. With --dtype only that ONNX variant is
 * fetched (plus every non-ONNX file); with --voice naming a piper voice of a many-voice repo
 * (rhasspy/piper-voices --voice en_US-lessac-medium) only that voice's files. The same file
 * choice as the editor's "download now" (core/hub/download-selection.ts). Interrupted
 * downloads resume on the next run.
 */
import { parseCommandArgs } from "../args";
import { CliError } from "../cli-error";
import { HubModelSource, isHubRepoId, resolveCacheDir, type DownloadProgress } from "../../core/hub";
import { isOfVariant, selectDownloadFiles } from "../../core/hub/download-selection";
import { isKnownDtype, variantOfFile } from "../../core/onnx/variants";

const USAGE = "usage: voice-stream download <owner/name> [--revision R] [--dtype fp32|fp16|q4|q4f16|int8|uint8|quantized|bnb4] [--voice PIPER_VOICE] [--cache-dir DIR] [--token hf_...] [--quiet]";

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      help: { type: "boolean", short: "h" },
      revision: { type: "string" },
      dtype: { type: "string" },
      voice: { type: "string" },
      "cache-dir": { type: "string" },
      token: { type: "string" },
      quiet: { type: "boolean", short: "q" },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (positionals.length !== 1) throw new CliError(`give exactly one repo id, like onnx-community/Qwen3-0.6B-ONNX\n${USAGE}`.split("\n")[0]);
  const repo = positionals[0].trim();
  if (!isHubRepoId(repo)) throw new CliError(`'${repo}' is not a Hugging Face repo id (owner/name), or a folder of that name exists here; local folders need no download`);
  const dtype = typeof values.dtype === "string" ? values.dtype.trim() : undefined;
  if (dtype !== undefined && !isKnownDtype(dtype)) throw new CliError(`--dtype '${dtype}' is not a known variant; expected fp32, fp16, q4, q4f16, int8, uint8, quantized or bnb4`);
  const token = (typeof values.token === "string" && values.token) || process.env.HF_TOKEN || undefined;
  const cacheDir = resolveCacheDir(typeof values["cache-dir"] === "string" ? values["cache-dir"] : undefined);
  const revision = typeof values.revision === "string" && values.revision.trim() ? values.revision.trim() : "main";

  const done = new Map<string, number>();
  let total = 0;
  let lastLine = 0;
  const interactive = !values.quiet && process.stderr.isTTY;
  const showProgress = (p: DownloadProgress) => {
    done.set(p.file, p.file_bytes_done);
    if (values.quiet) return;
    const now = Date.now();
    if (p.file_bytes_done < p.file_bytes_total && now - lastLine < (interactive ? 200 : 2000)) return;
    lastLine = now;
    const all = [...done.values()].reduce((a, b) => a + b, 0);
    const line = `${p.file}: ${megabytes(p.file_bytes_done)}/${megabytes(p.file_bytes_total)} MB · total ${Math.floor((100 * all) / Math.max(total, 1))}% (${megabytes(all)}/${megabytes(total)} MB)`;
    process.stderr.write(interactive ? `\r\x1b[K${line}` : `${line}\n`);
  };
  const source = new HubModelSource({ repo, revision, cacheDir, hubUrl: process.env.HF_ENDPOINT || undefined, token, onProgress: showProgress });

  const sizes = await source.fileSizes();
  const voice = typeof values.voice === "string" && values.voice.trim() ? values.voice.trim() : undefined;
  const wanted = selectDownloadFiles([...sizes.keys()], { dtype, voice });
  if (voice && !wanted.some((rel) => rel.endsWith(`${voice}.onnx.json`))) {
    throw new CliError(`model '${repo}' has no piper voice '${voice}' (${voice}.onnx.json); give a voice file name such as en_US-lessac-medium`);
  }
  if (dtype && !voice && !wanted.some((rel) => isOfVariant(rel, dtype))) {
    const present = [...new Set([...sizes.keys()].map(variantOfFile).filter((v): v is string => !!v))];
    throw new CliError(`model '${repo}' has no ONNX files of variant '${dtype}'; variants present: ${present.join(", ") || "none"}`);
  }
  total = wanted.reduce((sum, rel) => sum + (sizes.get(rel) ?? 0), 0);
  for (const rel of wanted) await source.file(rel);
  if (interactive) process.stderr.write("\n");
  process.stdout.write(`downloaded ${wanted.length} files (${megabytes(total)} MB) of ${repo}@${revision} into ${source.dir}\n`);
  return 0;
}
