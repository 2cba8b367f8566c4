/**
 * What every voice-stream node shares: the Send/Done types, one error path (red ring, then
 * done(err) so a Catch node sees it, or node.error when no input waits), inputs handled in
 * arrival order, a throttled status line, the node's open streams, and one close order:
 * stop sending, cancel, complete waiting inputs, then release the model and other resources.
 * After close nothing is reported: a redeploy is not a failure.
 */
import { statusTextOf } from "../../core/status-text";
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { LoadedModel, ModelKind } from "../../core/types";
import { attachModel, type ModelHandle } from "./model-client";
import { StatusLine } from "./status-line";
import { StreamMap, type StreamEntry } from "./stream-map";
import { hasStreamId, type NodeMessage } from "./stream-msg";

export type Send = (msg: NodeMessage | (NodeMessage | null)[]) => void;
export type Done = (err?: Error) => void;
export type InputHandler = (msg: NodeMessage, send: Send, done: Done) => void | Promise<void>;

export interface RuntimeOptions {
  /** Least time between two progress statuses (default 250 ms). */
  statusIntervalMs?: number;
}

/** An editor config of a node that uses a voice-model. */
export type ModelNodeDef = NodeDef & { model?: string };

/** The start of every model-using node: createNode, its runtime, and its model handle (released at close). */
export function startModelNode<S extends StreamEntry, M extends LoadedModel>(RED: NodeAPI, node: Node, config: ModelNodeDef, kind: ModelKind, options: RuntimeOptions = {}) {
  RED.nodes.createNode(node, config);
  const rt = new NodeRuntime<S>(node, options);
  return { rt, handle: rt.model<M>(RED, config.model, kind) };
}

export function errorOf(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class NodeRuntime<S extends StreamEntry = StreamEntry> {
  /** Set once the node closes (redeploy, removal, shutdown). */
  closed = false;
  readonly status: StatusLine;
  readonly streams = new StreamMap<S>();
  private queue: Promise<void> = Promise.resolve();
  private readonly closers: (() => void | Promise<unknown>)[] = [];

  constructor(
    readonly node: Node,
    options: RuntimeOptions = {},
  ) {
    this.status = new StatusLine(node, options.statusIntervalMs ?? 250);
    node.on("close", (_removed: boolean, done: () => void) => {
      this.close().then(done, done);
    });
  }

  /**
   * The one error path. With `done` the input fails (a Catch node sees it); without, the
   * error is logged against `msg`. Once closed, the input just completes.
   */
  fail(err: unknown, done?: Done, msg?: NodeMessage): void {
    if (this.closed) return done?.();
    const error = errorOf(err);
    this.status.show({ fill: "red", shape: "ring", text: statusTextOf(error) });
    if (done) done(error);
    else this.node.error(error, msg ?? {});
  }

  /**
   * Handles inputs with `handler`; `serial` ones one at a time in arrival order (a delta never
   * overtakes the one before it while a model loads). A throw or rejection fails the input.
   */
  onInput(handler: InputHandler, serial = false): void {
    this.node.on("input", (msg: NodeMessage, send: Send, done: Done) => {
      const run = async () => {
        if (this.closed) return done();
        try {
          await handler(msg, send, done);
        } catch (err) {
          this.fail(err, done);
        }
      };
      if (serial) this.queue = this.queue.then(run);
      else void run();
    });
  }

  /** A cancel msg: the streams of its stream_id, or every stream when it names none. */
  cancel(msg: NodeMessage): void {
    if (hasStreamId(msg)) this.streams.cancel(String(msg.stream_id));
    else this.streams.cancelAll();
  }

  /** The node's model from its voice-model config node, released when the node closes. */
  model<M extends LoadedModel>(RED: NodeAPI, configId: string | undefined, kind: ModelKind): ModelHandle<M> {
    const handle = attachModel<M>(RED, this.node, configId, kind);
    this.onClose(() => handle.detach());
    return handle;
  }

  /** Runs at close, after the streams are stopped and cancelled (in the order added). */
  onClose(step: () => void | Promise<unknown>): void {
    this.closers.push(step);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.status.stop();
    this.streams.close();
    for (const step of this.closers) {
      try {
        await step();
      } catch (err) {
        this.node.warn(`closing: ${errorOf(err).message}`);
      }
    }
  }
}
