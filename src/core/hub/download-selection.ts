/**
 * Which files of a repo a download fetches: one answer shared by the downloader ("download
 * now", `voice-stream download`) and the picker's exact download sizes, so the size shown is
 * the size fetched.
 *   - a voice that names a piper voice file (`<voice>.onnx.json` anywhere in the repo, as in
 *     rhasspy/piper-voices' `en/en_US/lessac/medium/`): that voice's graph, config and the
 *     MODEL_CARD beside them (its licence), not the thousands of other voices' files;
 *   - otherwise every file, or with a dtype only that ONNX variant (plus every non-ONNX file).
 */
import { variantOfFile } from "../onnx/variants";

export interface DownloadSelection {
  /** Only this ONNX variant (plus every non-ONNX file); all variants when absent. */
  dtype?: string;
  /** A piper voice's file name (en_US-lessac-medium): only that voice's files. */
  voice?: string;
}

/** Whether ONNX file `rel` is of variant `dtype` ("q8" is transformers.js' name for the _quantized files). */
export function isOfVariant(rel: string, dtype: string): boolean {
  const variant = variantOfFile(rel);
  return variant === dtype || (dtype === "q8" && variant === "quantized");
}

/** The files of `files` that a download of variant `dtype` fetches. */
export function filesForVariant(files: string[], dtype?: string): string[] {
  if (!dtype) return files;
  return files.filter((rel) => variantOfFile(rel) === undefined || isOfVariant(rel, dtype));
}

/** The files of one piper voice among `files`, or undefined when no `<voice>.onnx.json` is there. */
export function piperVoiceFiles(files: string[], voice: string): string[] | undefined {
  const config = files.find((rel) => rel === `${voice}.onnx.json` || rel.endsWith(`/${voice}.onnx.json`));
  if (!config) return undefined;
  const folder = config.slice(0, config.length - `${voice}.onnx.json`.length);
  const graph = config.slice(0, -".json".length);
  const wanted = new Set([config, graph, `${folder}MODEL_CARD`]);
  return files.filter((rel) => wanted.has(rel) || rel.startsWith(`${graph}_data`));
}

/** The files of `files` (repo-relative paths) a download of `selection` fetches, sorted. */
export function selectDownloadFiles(files: string[], selection: DownloadSelection = {}): string[] {
  const voice = selection.voice?.trim();
  const voiceFiles = voice ? piperVoiceFiles(files, voice) : undefined;
  return (voiceFiles ?? filesForVariant(files, selection.dtype)).slice().sort();
}
