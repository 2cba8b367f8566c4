/**
 * The contract between the voice-model config node and the nodes that use it, and how a
 * model state reads in a node's status.
 */
import type { NodeStatus } from "node-red";
import type { ModelState } from "../../core/inference-core";
import { statusTextOf } from "../../core/status-text";
import type { LoadedModel, ModelKind } from "../../core/types";

export interface ModelUser {
  id: string;
  status(status: NodeStatus | string): void;
}

/** What attachModel needs of a voice-model config node. */
export interface VoiceModelConfigNode {
  id: string;
  type: "voice-model";
  name?: string;
  kind: ModelKind;
  register(user: ModelUser): void;
  deregister(user: ModelUser): void;
  model(): Promise<LoadedModel>;
}

export function isVoiceModelNode(value: unknown): value is VoiceModelConfigNode {
  const node = value as Partial<VoiceModelConfigNode> | null;
  return !!node && node.type === "voice-model" && typeof node.register === "function" && typeof node.model === "function";
}


export function statusOf(state: ModelState): NodeStatus {
  switch (state.phase) {
    case "downloading":
      return { fill: "yellow", shape: "ring", text: `downloading ${Math.floor(state.fraction * 100)}%` };
    case "loading":
      return { fill: "yellow", shape: "ring", text: "loading" };
    case "ready":
      return { fill: "green", shape: "dot", text: "ready" };
    case "error":
      // About 30 characters ("offline: model not cached"); the error sent at deploy has the whole reason.
      return { fill: "red", shape: "ring", text: statusTextOf(state.error) };
  }
}
