/**
 * How a node gets its model: it registers with its `voice-model` config node (like the MQTT
 * broker's register/deregister), sees the model's state in its status, and awaits the
 * loaded model with get(). detach() in the node's close handler drops the registration.
 */
import type { Node, NodeAPI } from "node-red";
import type { LoadedModel, ModelKind } from "../../core/types";
import { isVoiceModelNode, type ModelUser } from "./model-status";

export interface ModelHandle<M> {
  /** Resolves once the config node's model is loaded; rejects with a clear Error when no voice-model
   *  config node is set, it is of another kind, or loading failed. */
  get(): Promise<M>;
  /** Call from the node's close handler; releases the reference (config node's deregister). */
  detach(): Promise<void>;
}

export function attachModel<M extends LoadedModel>(RED: NodeAPI, node: Node, configId: string | undefined, kind: ModelKind): ModelHandle<M> {
  const configNode = configId ? (RED.nodes.getNode(configId) as unknown) : null;
  /** `statusText`: the short form for the status line; the Error has the whole advice. */
  const fail = (error: Error, statusText: string): ModelHandle<M> => {
    node.status({ fill: "red", shape: "ring", text: statusText });
    return {
      get: () => Promise.reject(error),
      detach: () => Promise.resolve(),
    };
  };
  if (!configId) return fail(new Error(`no ${kind} model set: open the node and choose (or add) a voice-model config node of kind ${kind}`), `no ${kind} model set`);
  if (!isVoiceModelNode(configNode)) {
    return fail(new Error(`the ${kind} model config node '${configId}' is missing or not a voice-model node; choose a voice-model config node of kind ${kind}`), `${kind} model missing`);
  }
  if (configNode.kind !== kind) {
    return fail(
      new Error(`the model '${configNode.name || configNode.id}' is a ${configNode.kind} model, but this node needs a ${kind} model; choose a voice-model of kind ${kind}`),
      `needs a ${kind} model, not ${configNode.kind}`,
    );
  }
  const user = node as unknown as ModelUser;
  configNode.register(user);
  let detached = false;
  return {
    get: () => (detached ? Promise.reject(new Error("the node was closed; its model is released")) : (configNode.model() as Promise<M>)),
    detach: async () => {
      if (detached) return;
      detached = true;
      configNode.deregister(user);
    },
  };
}
