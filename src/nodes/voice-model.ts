/**
 * voice-model config node: one model (llm, tts, asr or vad) from a Hugging Face repo, a
 * local folder or a remote service (an OpenAI-compatible server, a Wyoming service). It takes a reference in the process-wide model registry on deploy (equal
 * specs share one loaded instance), shows the load state on every node that registered
 * with it, and releases the reference on close/redeploy.
 */
import * as path from "path";
import type { Node, NodeAPI, NodeStatus } from "node-red";
import type { Subscription } from "rxjs";
import { InferenceCore, type ModelLease, type ModelState } from "../core/inference-core";
import { withoutUserInfo } from "../core/openai/endpoint";
import { offlineByEnvironment } from "../core/open-model";
import type { LoadedModel } from "../core/types";
import { statusOf, type ModelUser } from "./shared/model-status";
import { registerCatalogEndpoint } from "./shared/remote-catalog";
import { specOf, withCredentialDigest, type VoiceModelDef } from "./shared/voice-model-spec";
import { registerModelAdmin } from "./voice-model-admin";
import { registerVoicesEndpoint } from "./shared/voices-endpoint";

interface Credentials {
  token?: string;
}

module.exports = function register(RED: NodeAPI) {
  const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
  const core = InferenceCore.shared({
    cacheDir: userDir ? path.join(userDir, "voice-stream-cache") : undefined,
    offline: offlineByEnvironment(),
    warn: (message) => RED.log.warn(`[voice-model] ${message}`),
  });
  registerCatalogEndpoint(RED);
  registerVoicesEndpoint(RED);

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
      if (next.phase === "error") node.error(`model '${def.name || withoutUserInfo(String(def.enginesPath ?? ""))}' (${def.kind}) failed to load: ${next.error.message}`);
      for (const user of users.values()) show(user, status);
    };

    try {
      const { kind, spec } = specOf(def);
      const credentials = (node.credentials ?? {}) as Credentials;
      const token = credentials.token?.trim() || undefined;
      lease = core.share(kind, withCredentialDigest(spec, token), {
        token,
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

  // The editor's model picker: tested models, the cache, "download now".
  registerModelAdmin(RED, userDir ? path.join(userDir, "voice-stream-cache") : undefined);

  RED.nodes.registerType("voice-model", VoiceModelNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1], {
    credentials: { token: { type: "password" } },
  } as Parameters<NodeAPI["nodes"]["registerType"]>[2]);
};
