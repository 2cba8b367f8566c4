/**
 * wake-word: listens to audio frames for wake words (PROTOCOL §6) with a voice-model of
 * kind `wake` (openWakeWord feature models + heads). Sends
 * `{kind: "wake", name, score, stream_id, audio_seconds}` once per detection, then that word
 * stays quiet for the refractory time. Each stream_id is its own detector (frames without
 * one form the default stream); `msg.is_final === true` / `msg.reset === true` ends it.
 * With the own-voice guard on, a wake word the assistant itself says (audio-out's
 * reference channel) is ignored unless the microphone is louder than the playback. Verifier
 * files (a second stage per wake word, `voice-stream wake-verifier`) are read at deploy.
 */
import type { Node, NodeAPI } from "node-red";
import type { WakeDetectOptions, WakeEngine } from "../core/wake/engine";
import { hasFrame, readAudioFrame, to16k } from "./shared/audio-frame";
import { startModelNode, type ModelNodeDef } from "./shared/node-runtime";
import { OWN_VOICE_SETTINGS, ownVoiceGuard, type OwnVoiceSettings } from "./shared/own-voice";
import { deploySettings, type Setting } from "./shared/settings";
import { hasStreamId } from "./shared/stream-msg";
import { WakeListener } from "./shared/wake-listener";
import { readVerifierFile } from "../core/wake/verifier";

const SETTINGS: readonly Setting[] = [
  { key: "threshold", editor: "threshold", type: "number", min: 0.01, max: 0.99, default: 0.5 },
  { key: "patience", editor: "patience", type: "integer", min: 1, max: 50, default: 1 },
  { key: "refractory_ms", editor: "refractoryMs", type: "number", min: 0, max: 60000, default: 2000 },
  { key: "vad_threshold", editor: "vadThreshold", type: "number", min: 0, max: 0.99, default: 0 },
  /** Wake words to listen for, a comma list; empty: every head of the model. */
  { key: "names", editor: "names", type: "string", default: "" },
  /** Wake verifier files (voice-stream wake-verifier), a comma list; each names its wake word. */
  { key: "verifiers", editor: "verifiers", type: "string", default: "" },
  ...OWN_VOICE_SETTINGS,
];
type Settings = OwnVoiceSettings & { threshold: number; patience: number; refractory_ms: number; vad_threshold: number; names: string; verifiers: string };

/** Frames without a stream_id form one stream. */
const DEFAULT_STREAM = "default";

const list = (text: string) => text.split(",").map((n) => n.trim()).filter((n) => n !== "");

/** Read once at deploy: a missing or bad file is the node's config error. */
function detectOptions(s: Settings): WakeDetectOptions {
  const names = list(s.names);
  const { threshold, patience, refractory_ms, vad_threshold } = s;
  const verifiers = list(s.verifiers).map((file) => readVerifierFile(file));
  return { threshold, patience, refractory_ms, vad_threshold, names: names.length > 0 ? names : undefined, verifiers };
}

module.exports = function register(RED: NodeAPI) {
  function WakeWordNode(this: Node, config: ModelNodeDef) {
    const node = this;
    const { rt, handle } = startModelNode<WakeListener, WakeEngine>(RED, node, config, "wake");
    const settings = deploySettings<Settings>(SETTINGS, config);
    let options: WakeDetectOptions | Error = settings instanceof Error ? settings : new Error("unset");
    if (!(settings instanceof Error)) {
      try {
        options = detectOptions(settings);
      } catch (err) {
        options = err as Error;
      }
    }
    const configError = options instanceof Error ? new Error(`wake-word: ${options.message}; fix it in the node's settings`) : undefined;
    if (configError) rt.fail(configError);

    const open = async (id: string, topic: unknown, s: Settings, o: WakeDetectOptions): Promise<WakeListener> => {
      const engine = await handle.get();
      const listener = rt.streams.add(new WakeListener(id, topic));
      rt.status.show({ fill: "blue", shape: "dot", text: "listening" });
      listener.start(engine, { ...o, guard: ownVoiceGuard(s) }, {
        detected: (d) => {
          rt.status.show({ fill: "green", shape: "dot", text: `${d.name} ${d.score.toFixed(2)} at ${d.audio_seconds.toFixed(1)} s` });
          node.send({ topic, kind: "wake", name: d.name, score: d.score, stream_id: id, audio_seconds: d.audio_seconds, payload: d.name } as never);
        },
        failed: (err) => {
          rt.streams.end(listener);
          rt.fail(err, undefined, { stream_id: id, payload: err.message });
        },
        ended: () => rt.streams.end(listener),
      });
      return listener;
    };

    rt.onInput(async (msg, _send, done) => {
      if (settings instanceof Error || options instanceof Error) return rt.fail(configError, done);
      const id = hasStreamId(msg) ? String(msg.stream_id) : DEFAULT_STREAM;
      const ends = msg.is_final === true || msg.reset === true;
      // A bad frame throws before a stream opens: one clear error, and the stream goes on.
      const frame = hasFrame(msg) ? readAudioFrame(msg) : undefined;
      let stream = rt.streams.get(id);
      if (frame) {
        stream ??= await open(id, msg.topic, settings, options);
        const samples = to16k(stream, frame);
        if (samples.length > 0) {
          stream.push(samples, done);
          if (!ends) return;
          done = () => undefined; // completes once the frame is scored
        }
      }
      if (ends && stream) {
        rt.streams.finish(stream);
        stream.finish();
      }
      done();
    }, true);
  }

  RED.nodes.registerType("wake-word", WakeWordNode);
};
