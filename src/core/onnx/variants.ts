/**
 * ONNX file variants as Hugging Face ONNX repos name them: one graph per precision beside
 * each other (onnx/model.onnx, onnx/model_q4.onnx, onnx/model_quantized.onnx, ...).
 */

/** dtype → file-name suffix. "fp32" is the plain name; "q8" is transformers.js' alias of "quantized". */
export const DTYPE_SUFFIXES: Readonly<Record<string, string>> = {
  fp32: "",
  fp16: "_fp16",
  q4: "_q4",
  q4f16: "_q4f16",
  int8: "_int8",
  uint8: "_uint8",
  quantized: "_quantized",
  q8: "_quantized",
  bnb4: "_bnb4",
};

/** Order tried when no dtype is set: full precision first, then the others. */
export const DEFAULT_DTYPE_ORDER = ["fp32", "fp16", "quantized", "int8", "uint8", "q4", "q4f16", "bnb4"] as const;

export function isKnownDtype(dtype: string): boolean {
  return Object.prototype.hasOwnProperty.call(DTYPE_SUFFIXES, dtype);
}

/** Relative path of `baseName` in `dtype` inside `folder` ("" for the repo root). */
export function variantPath(baseName: string, dtype: string, folder = "onnx"): string {
  const suffix = DTYPE_SUFFIXES[dtype];
  if (suffix === undefined) throw new Error(`unknown ONNX variant (dtype) '${dtype}'; expected one of: ${Object.keys(DTYPE_SUFFIXES).join(", ")}`);
  const name = `${baseName}${suffix}.onnx`;
  return folder ? `${folder.replace(/\/+$/, "")}/${name}` : name;
}

/** The dtypes of `baseName` present among `files` (relative paths, "/" separators). */
export function presentVariants(files: readonly string[], baseName: string, folder = "onnx"): string[] {
  const set = new Set(files);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const dtype of Object.keys(DTYPE_SUFFIXES)) {
    const rel = variantPath(baseName, dtype, folder);
    if (set.has(rel) && !seen.has(rel)) {
      seen.add(rel);
      out.push(dtype);
    }
  }
  return out;
}

/**
 * The relative path to load: the asked dtype, or with none the first present in
 * DEFAULT_DTYPE_ORDER. Throws naming the variants that are present when it is missing.
 */
export function selectVariant(files: readonly string[], baseName: string, dtype: string | undefined, folder = "onnx", modelId = "model"): string {
  const present = presentVariants(files, baseName, folder);
  const where = folder ? `${folder}/` : "";
  if (dtype && dtype !== "auto") {
    const rel = variantPath(baseName, dtype, folder);
    if (files.includes(rel)) return rel;
    throw new Error(
      `model '${modelId}' has no ${rel} (variant '${dtype}'); ` +
        (present.length ? `variants present for ${where}${baseName}: ${present.join(", ")}` : `it has no ${where}${baseName}*.onnx at all`),
    );
  }
  for (const candidate of DEFAULT_DTYPE_ORDER) {
    const rel = variantPath(baseName, candidate, folder);
    if (files.includes(rel)) return rel;
  }
  throw new Error(`model '${modelId}' has no ${where}${baseName}.onnx (nor any quantized variant of it); expected a Hugging Face ONNX layout`);
}

/** The dtype of an ONNX file (or its external data) by its name: "onnx/model_q4.onnx_data" → "q4"; undefined for other files. */
export function variantOfFile(relPath: string): string | undefined {
  const m = /^(?:.*\/)?[^/]+?(_fp16|_q4f16|_q4|_int8|_uint8|_quantized|_bnb4)?\.onnx(?:_data(?:_\d+)?)?$/.exec(relPath);
  if (!m) return undefined;
  const suffix = m[1] ?? "";
  return Object.keys(DTYPE_SUFFIXES).find((dtype) => DTYPE_SUFFIXES[dtype] === suffix);
}
