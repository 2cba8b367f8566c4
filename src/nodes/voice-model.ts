/**
 * voice-model config node: one model (llm, tts, asr or vad) from a Hugging Face repo or a
 * local folder. It takes a reference in the process-wide model registry on deploy (equal
 * specs share one loaded instance), shows the load state on every node that registered
 * with it, and releases the reference on close/redeploy.
 */
import * as path from "path";
import type { Node, NodeAPI, NodeDef, NodeStatus } from "node-red";
import type { Subscription } from "rxjs";
import { offlineByEnvironment, sharedRegistry, type ModelLease, type ModelState } from "../core/registry";
import type { LoadedModel, ModelConfig, ModelKind, ModelSpec } from "../core/types";
import { statusOf, type ModelUser } from "./shared/model-status";

const KINDS: readonly ModelKind[] = ["llm", "tts", "asr", "vad", "wake"];

interface VoiceModelDef extends NodeDef {
  kind?: string;
  enginesPath?: string;
  revision?: string;
  dtype?: string;
  provider?: string;
  voice?: string;
  engine?: string;
  /** Extra model config as JSON (advanced). */
  config?: string;
}

interface Credentials {
  token?: string;
}

/** The registry spec of a config node's fields; throws a clear Error for bad input. */
export function specOf(def: VoiceModelDef): { kind: ModelKind; spec: ModelSpec } {
  const kind = String(def.kind ?? "").trim() as ModelKind;
  if (!KINDS.includes(kind)) throw new Error(`model kind '${def.kind ?? ""}' is not one of llm, tts, asr, vad, wake; choose one in the voice-model node`);
  let extra: ModelConfig = {};
  const rawConfig = (def.config ?? "").trim();
  if (rawConfig) {
    try {
      extra = JSON.parse(rawConfig) as ModelConfig;
    } catch (err) {
      throw new Error(`the voice-model's extra config is not valid JSON (${(err as Error).message}); fix it or clear it`);
    }
    if (!extra || typeof extra !== "object" || Array.isArray(extra)) throw new Error("the voice-model's extra config must be a JSON object, like {\"q4_accuracy_level\": 4}");
  }
  const config: ModelConfig = { ...extra };
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined && String(value).trim() !== "") config[key] = String(value).trim();
  };
  set("dtype", def.dtype);
  if (def.provider && def.provider !== "cpu") set("execution_provider", def.provider);
  if (kind === "tts") {
    set("voice", def.voice);
    set("engine", def.engine);
  }
  const enginesPath = String(def.enginesPath ?? "").trim();
  const noFilesNeeded = (kind === "tts" && config.engine === "espeak") || kind === "vad";
  if (!enginesPath && !noFilesNeeded) throw new Error(`no engines path set: give a Hugging Face repo id (owner/name) or a local model folder`);
  return { kind, spec: { enginesPath: enginesPath || (kind === "tts" ? "espeak" : "silero"), revision: String(def.revision ?? "").trim() || "main", config } };
}

module.exports = function register(RED: NodeAPI) {
  const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
  const registry = sharedRegistry({
    cacheDir: userDir ? path.join(userDir, "voice-stream-cache") : undefined,
    offline: offlineByEnvironment(),
    warn: (message) => RED.log.warn(`[voice-model] ${message}`),
  });

  function VoiceModelNode(this: Node & Record<string, unknown>, def: VoiceModelDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const users = new Map<string, ModelUser>();
    let lease: ModelLease | undefined;
    let state: ModelState;
    let subscription: Subscription | undefined;
    let failure: Error | undefined;
    let lastText = "";

    node.kind = String(def.kind ?? "");
    const show = (user: ModelUser, status: NodeStatus) => user.status(status);

    const onState = (next: ModelState) => {
      state = next;
      const status = statusOf(next);
      // Download progress comes in often: pass on only whole-percent changes.
      if (status.text === lastText) return;
      lastText = String(status.text);
      if (next.phase === "error") node.error(`model '${def.name || def.enginesPath}' (${def.kind}) failed to load: ${next.error.message}`);
      for (const user of users.values()) show(user, status);
    };

    try {
      const { kind, spec } = specOf(def);
      const credentials = (node.credentials ?? {}) as Credentials;
      lease = registry.startModel(kind, spec, {
        token: credentials.token?.trim() || undefined,
        warn: (message) => node.warn(message),
      });
      node.modelKey = lease.key;
      node.spec = spec;
      subscription = lease.state$.subscribe(onState);
    } catch (err) {
      failure = err as Error;
      onState({ phase: "error", error: failure });
    }

    node.register = (user: ModelUser) => {
      users.set(user.id, user);
      if (state) show(user, statusOf(state));
    };
    node.deregister = (user: ModelUser) => {
      users.delete(user.id);
    };
    node.model = (): Promise<LoadedModel> => {
      if (failure) return Promise.reject(failure);
      if (!lease) return Promise.reject(new Error("the voice-model node was closed"));
      return lease.model;
    };
    node.state = () => state;

    node.on("close", (_removed: boolean, done: () => void) => {
      subscription?.unsubscribe();
      const held = lease;
      lease = undefined;
      users.clear();
      if (!held) return done();
      held.release().then(
        () => done(),
        (err: Error) => {
          node.warn(`releasing the model failed: ${err.message}`);
          done();
        },
      );
    });
  }

  RED.nodes.registerType("voice-model", VoiceModelNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1], {
    credentials: { token: { type: "password" } },
  } as Parameters<NodeAPI["nodes"]["registerType"]>[2]);
};
