/**
 * wake-word: listens to audio frames for wake words (PROTOCOL §6) with a voice-model of
 * kind `wake` (openWakeWord feature models + heads). Sends
 * `{kind: "wake", name, score, stream_id, audio_seconds}` once per detection, then that word
 * stays quiet for the refractory time. Each stream_id is its own detector (frames without
 * one form the default stream); `msg.is_final === true` / `msg.reset === true` ends it.
 * With the own-voice guard on, a wake word the assistant itself says (audio-out's
 * reference channel) is ignored unless the microphone is louder than the playback.
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import { Subject, type Subscription } from "rxjs";
import { EchoGuard } from "../core/audio/echo-guard";
import { referenceChannel } from "../core/audio/reference-bus";
import type { WakeDetectOptions, WakeEngine } from "../core/wake/types";
import { attachModel } from "./shared/model-client";
import { FrameInput, hasFrame } from "./shared/frame-input";
import type { NodeMessage } from "./shared/stream-msg";
import { numberSetting } from "./shared/number-setting";

interface WakeWordNodeDef extends NodeDef {
  model?: string;
  threshold?: string | number;
  patience?: string | number;
  refractoryMs?: string | number;
  vadThreshold?: string | number;
  names?: string;
  guard?: boolean;
  reference?: string;
  guardMarginDb?: string | number;
}

type Done = (err?: Error) => void;

interface Stream {
  id: string;
  frames: Subject<Float32Array>;
  subscription: Subscription;
  input: FrameInput;
  topic: unknown;
}

const DEFAULT_STREAM = "default";

module.exports = function register(RED: NodeAPI) {
  function WakeWordNode(this: Node, config: WakeWordNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const handle = attachModel<WakeEngine>(RED, node, config.model, "wake");
    const streams = new Map<string, Stream>();
    let queue: Promise<void> = Promise.resolve();
    let settingsError: Error | undefined;
    let options: WakeDetectOptions = {};
    try {
      const names = (config.names ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
      options = {
        threshold: numberSetting(config.threshold, 0.5, "threshold", (n) => n > 0 && n < 1),
        patience: numberSetting(config.patience, 2, "patience", (n) => Number.isInteger(n) && n >= 1),
        refractory_ms: numberSetting(config.refractoryMs, 2000, "refractory time", (n) => n >= 0),
        vad_threshold: numberSetting(config.vadThreshold, 0, "VAD gate", (n) => n >= 0 && n < 1),
        names: names.length > 0 ? names : undefined,
      };
      numberSetting(config.guardMarginDb, 4, "guard margin", (n) => n >= -40 && n <= 40);
    } catch (err) {
      settingsError = new Error(`wake-word: ${(err as Error).message}; fix it in the node's settings`);
      node.status({ fill: "red", shape: "ring", text: settingsError.message.slice(0, 60) });
    }

    const openStream = async (id: string, input: FrameInput, topic: unknown): Promise<Stream> => {
      const engine = await handle.get();
      const guard = config.guard
        ? new EchoGuard(referenceChannel(config.reference || "default"), { margin_db: numberSetting(config.guardMarginDb, 4, "guard margin", () => true) })
        : undefined;
      const frames = new Subject<Float32Array>();
      const stream: Stream = { id, frames, input, topic, subscription: undefined as unknown as Subscription };
      stream.subscription = engine.detect(frames, { ...options, guard }).subscribe({
        next: (d) => {
          node.status({ fill: "green", shape: "dot", text: `${d.name} ${d.score.toFixed(2)} at ${d.audio_seconds.toFixed(1)} s` });
          node.send({ topic: stream.topic, kind: "wake", name: d.name, score: d.score, stream_id: id, audio_seconds: d.audio_seconds, payload: d.name } as never);
        },
        error: (err: Error) => {
          streams.delete(id);
          node.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
          node.error(err, { stream_id: id, payload: err.message });
        },
      });
      streams.set(id, stream);
      node.status({ fill: "blue", shape: "dot", text: "listening" });
      return stream;
    };

    const handleInput = async (msg: NodeMessage, done: Done) => {
      if (settingsError) return done(settingsError);
      const id = msg.stream_id === undefined || msg.stream_id === null || msg.stream_id === "" ? DEFAULT_STREAM : String(msg.stream_id);
      let stream = streams.get(id);
      if (hasFrame(msg)) {
        const input = stream?.input ?? new FrameInput();
        const frame = input.convert(msg);
        stream ??= await openStream(id, input, msg.topic);
        if (frame.length > 0) stream.frames.next(frame);
      }
      if ((msg.is_final === true || msg.reset === true) && stream) {
        streams.delete(id);
        stream.frames.complete();
      }
      done();
    };

    node.on("input", (msg: NodeMessage, _send: unknown, done: Done) => {
      queue = queue.then(() => handleInput(msg, done)).catch((err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        node.status({ fill: "red", shape: "ring", text: error.message.slice(0, 60) });
        done(error);
      });
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      for (const stream of streams.values()) stream.subscription.unsubscribe();
      streams.clear();
      handle.detach().then(() => done(), () => done());
    });
  }

  RED.nodes.registerType("wake-word", WakeWordNode);
};
