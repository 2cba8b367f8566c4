/**
 * vad: voice activity of audio frames (PROTOCOL §6) on the built-in Silero VAD v5.
 * Output 1 passes the frame messages: all of them, or only speech (with padding before the
 * start: frames are held back until speech is confirmed). Output 2 sends
 * `{kind: "speech-start" | "speech-end", stream_id, audio_seconds, speech_seconds}`.
 * Each stream_id is its own stream (frames without one form the default stream);
 * `msg.is_final === true` / `msg.reset === true` ends a stream (open speech ends there).
 * With the own-voice guard on, audio the assistant is playing (audio-out's reference
 * channel) does not count as speech unless the microphone is louder than it.
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import { EchoGuard } from "../core/audio/echo-guard";
import { referenceChannel } from "../core/audio/reference-bus";
import { VoiceActivity, type ActivityEvent } from "../core/vad/activity-stream";
import { builtinVad } from "../core/vad/shared";
import { FRAME_RATE, FrameInput, hasFrame } from "./shared/frame-input";
import type { NodeMessage } from "./shared/stream-msg";
import { numberSetting } from "./shared/number-setting";

interface VadNodeDef extends NodeDef {
  threshold?: string | number;
  minSpeechMs?: string | number;
  minSilenceMs?: string | number;
  padMs?: string | number;
  pass?: "all" | "speech";
  guard?: boolean;
  reference?: string;
  guardMarginDb?: string | number;
}

type Send = (msg: (NodeMessage | NodeMessage[] | null)[]) => void;
type Done = (err?: Error) => void;

interface Held {
  msg: NodeMessage;
  end: number;
}

interface Stream {
  id: string;
  activity: VoiceActivity;
  input: FrameInput;
  /** Frame messages waiting for a speech start (speech-only mode). */
  held: Held[];
  seconds: number;
}

const DEFAULT_STREAM = "default";


module.exports = function register(RED: NodeAPI) {
  function VadNode(this: Node, config: VadNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const streams = new Map<string, Stream>();
    let queue: Promise<void> = Promise.resolve();
    let settingsError: Error | undefined;
    let options = { threshold: 0.5, min_speech_ms: 250, min_silence_ms: 700, speech_pad_ms: 200 };
    let guardMarginDb = 0;
    const speechOnly = config.pass === "speech";
    try {
      options = {
        threshold: numberSetting(config.threshold, 0.5, "threshold", (n) => n > 0 && n < 1),
        min_speech_ms: numberSetting(config.minSpeechMs, 250, "minimum speech", (n) => n >= 0),
        min_silence_ms: numberSetting(config.minSilenceMs, 700, "minimum silence", (n) => n >= 0),
        speech_pad_ms: numberSetting(config.padMs, 200, "padding", (n) => n >= 0),
      };
      guardMarginDb = numberSetting(config.guardMarginDb, 4, "guard margin", (n) => n >= -40 && n <= 40);
    } catch (err) {
      settingsError = new Error(`vad: ${(err as Error).message}; fix it in the node's settings`);
      node.status({ fill: "red", shape: "ring", text: settingsError.message.slice(0, 60) });
    }
    const holdSeconds = (options.min_speech_ms + options.speech_pad_ms) / 1000 + 0.1;

    const emit = (stream: Stream, events: ActivityEvent[], input: NodeMessage) => {
      for (const e of events) {
        if (e.kind === "speech-start") {
          node.status({ fill: "green", shape: "dot", text: "speech" });
          // Held frames from the padded start on go out before the event's frame.
          const from = e.audio_seconds;
          const release = stream.held.filter((h) => h.end > from).map((h) => h.msg);
          stream.held = [];
          if (speechOnly && release.length > 0) (node.send as Send)([release, null]);
        } else {
          node.status({ fill: "grey", shape: "ring", text: `silence · last speech ${e.speech_seconds.toFixed(1)} s` });
        }
        const msg: NodeMessage = {
          topic: input.topic,
          kind: e.kind,
          stream_id: stream.id,
          audio_seconds: e.audio_seconds,
          speech_seconds: e.speech_seconds,
          payload: e.kind,
        };
        (node.send as Send)([null, msg]);
      }
    };

    const openStream = async (id: string, input: FrameInput): Promise<Stream> => {
      const vad = await builtinVad();
      const guard = config.guard ? new EchoGuard(referenceChannel(config.reference || "default"), { margin_db: guardMarginDb }) : undefined;
      const stream: Stream = { id, activity: new VoiceActivity(vad.openState(), options, guard), input, held: [], seconds: 0 };
      streams.set(id, stream);
      return stream;
    };

    const handle = async (msg: NodeMessage, done: Done) => {
      if (settingsError) return done(settingsError);
      const id = msg.stream_id === undefined || msg.stream_id === null || msg.stream_id === "" ? DEFAULT_STREAM : String(msg.stream_id);
      const ends = msg.is_final === true || msg.reset === true;
      let stream = streams.get(id);
      if (hasFrame(msg)) {
        let frame: Float32Array;
        const input = stream?.input ?? new FrameInput();
        try {
          frame = input.convert(msg);
        } catch (err) {
          node.status({ fill: "red", shape: "ring", text: (err as Error).message.slice(0, 60) });
          return done(err as Error);
        }
        stream ??= await openStream(id, input);
        const wasSpeaking = stream.activity.speaking;
        stream.seconds += frame.length / FRAME_RATE;
        const events = await stream.activity.push(frame);
        if (speechOnly && !wasSpeaking) {
          stream.held.push({ msg, end: stream.seconds });
          while (stream.held.length > 0 && stream.held[0].end < stream.seconds - holdSeconds) stream.held.shift();
        }
        emit(stream, events, msg);
        if (!speechOnly) (node.send as Send)([msg, null]);
        else if (wasSpeaking && (stream.activity.speaking || events.some((e) => e.kind === "speech-end"))) (node.send as Send)([msg, null]);
      }
      if (ends && stream) {
        emit(stream, await stream.activity.end(), msg);
        streams.delete(id);
        if (!hasFrame(msg)) (node.send as Send)([msg, null]);
      }
      done();
    };

    node.on("input", (msg: NodeMessage, _send: unknown, done: Done) => {
      queue = queue.then(() => handle(msg, done)).catch((err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        node.status({ fill: "red", shape: "ring", text: error.message.slice(0, 60) });
        done(error);
      });
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      streams.clear();
      done();
    });
  }

  RED.nodes.registerType("vad", VadNode);
};
