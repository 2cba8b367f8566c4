/**
 * vad: voice activity of audio frames (PROTOCOL §6) on the built-in Silero VAD v5.
 * Output 1 passes the frame messages: all of them, or only speech (with padding before the
 * start: frames are held back until speech is confirmed; speech-frames.ts). Output 2 sends
 * `{kind: "speech-start" | "speech-end", stream_id, audio_seconds, speech_seconds}`.
 * Each stream_id is its own stream (frames without one form the default stream);
 * `msg.is_final === true` / `msg.reset === true` ends a stream (open speech ends there).
 * With the own-voice guard on, audio the assistant is playing (audio-out's reference
 * channel) does not count as speech unless the microphone is louder than it.
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import { VoiceActivity } from "../core/vad/activity-stream";
import { builtinVad } from "../core/vad/engines/silero/shared";
import { hasFrame, readAudioFrame, to16k } from "./shared/audio-frame";
import { NodeRuntime } from "./shared/node-runtime";
import { OWN_VOICE_SETTINGS, ownVoiceGuard, type OwnVoiceSettings } from "./shared/own-voice";
import { deploySettings, type Setting } from "./shared/settings";
import { SpeechFrames, type Step } from "./shared/speech-frames";
import { hasStreamId } from "./shared/stream-msg";

const SETTINGS: readonly Setting[] = [
  { key: "threshold", editor: "threshold", type: "number", min: 0.01, max: 0.99, default: 0.5 },
  { key: "min_speech_ms", editor: "minSpeechMs", type: "number", min: 0, max: 60000, default: 250 },
  { key: "min_silence_ms", editor: "minSilenceMs", type: "number", min: 0, max: 60000, default: 700 },
  { key: "speech_pad_ms", editor: "padMs", type: "number", min: 0, max: 5000, default: 200 },
  { key: "pass", editor: "pass", type: "string", choices: ["all", "speech"], default: "all" },
  ...OWN_VOICE_SETTINGS,
];
type Settings = OwnVoiceSettings & { threshold: number; min_speech_ms: number; min_silence_ms: number; speech_pad_ms: number; pass: "all" | "speech" };

/** Frames without a stream_id form one stream. */
const DEFAULT_STREAM = "default";

module.exports = function register(RED: NodeAPI) {
  function VadNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const rt = new NodeRuntime<SpeechFrames>(node);
    const settings = deploySettings<Settings>(SETTINGS, config);
    const configError = settings instanceof Error ? new Error(`vad: ${settings.message}; fix it in the node's settings`) : undefined;
    if (configError) rt.fail(configError);

    const send = (step: Step) => {
      for (const e of step.events) {
        if (e.kind === "speech-start") rt.status.show({ fill: "green", shape: "dot", text: "speech" });
        else rt.status.show({ fill: "grey", shape: "ring", text: `silence · last speech ${e.speech_seconds.toFixed(1)} s` });
      }
      for (const outputs of step.sends) node.send(outputs as never);
    };

    const open = async (id: string, s: Settings): Promise<SpeechFrames> => {
      const vad = await builtinVad();
      const options = { threshold: s.threshold, min_speech_ms: s.min_speech_ms, min_silence_ms: s.min_silence_ms, speech_pad_ms: s.speech_pad_ms };
      const activity = new VoiceActivity(vad.openState(), options, ownVoiceGuard(s));
      return rt.streams.add(new SpeechFrames(id, activity, s.pass === "speech", (s.min_speech_ms + s.speech_pad_ms) / 1000 + 0.1));
    };

    rt.onInput(async (msg, _send, done) => {
      if (settings instanceof Error) return rt.fail(configError, done);
      const id = hasStreamId(msg) ? String(msg.stream_id) : DEFAULT_STREAM;
      // A bad frame throws before a stream opens: one clear error, and the stream goes on.
      const frame = hasFrame(msg) ? readAudioFrame(msg) : undefined;
      let stream = rt.streams.get(id);
      if (frame) {
        stream ??= await open(id, settings);
        send(await stream.push(msg, to16k(stream, frame)));
      }
      if ((msg.is_final === true || msg.reset === true) && stream) {
        send(await stream.end(msg));
        rt.streams.end(stream);
        if (!frame) node.send([msg, null] as never);
      }
      done();
    }, true);
  }

  RED.nodes.registerType("vad", VadNode);
};
