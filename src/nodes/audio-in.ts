/**
 * audio-in: audio frames from a microphone (arecord, parec or sox) or a WAV file, as
 * Float32Array payloads at 16 kHz mono with msg.sample_rate and one stream_id per capture.
 * Every capture ends with one msg whose `is_final` is true (empty payload), so a
 * whisper-streamer wired after it finishes its turn when a file ends or the capture stops.
 * Control: msg.payload "start" / "stop", or msg.start === true / msg.stop === true.
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Observable, Subscription } from "rxjs";
import { statusTextOf } from "../core/status-text";
import { CAPTURE_RATE, chooseRecorder, microphoneFrames, wavFileFrames } from "../core/audio/capture";
import { NodeRuntime, type Done, type Send } from "./shared/node-runtime";
import { deploySettings, readSettings, type Setting } from "./shared/settings";
import { chunkMessage, streamIdOf, without, type NodeMessage } from "./shared/stream-msg";

interface Capture {
  id: string;
  subscription?: Subscription;
  base: NodeMessage;
  index: number;
  samples: number;
  ended: boolean;
}

const SETTINGS: readonly Setting[] = [
  { key: "source", editor: "source", type: "string", choices: ["microphone", "file"], default: "microphone" },
  { key: "recorder", editor: "recorder", type: "string", default: "auto" },
  { key: "device", editor: "device", type: "string" },
  { key: "path", editor: "path", msg: "filename", type: "text", expects: "the path of a WAV file (a string)", nameType: true },
  { key: "realtime", editor: "realtime", type: "boolean", default: false },
  { key: "frameMs", editor: "frameMs", label: "frame size", type: "number", min: 5, max: 1000, default: 20, expects: "5 to 1000 ms" },
  { key: "autoStart", editor: "autoStart", type: "boolean", default: false },
];
type Settings = { source: "microphone" | "file"; recorder: string; device?: string; path?: string; realtime: boolean; frameMs: number; autoStart: boolean };

/** Fields of the starting msg that are commands, not properties to carry on every frame. */
const CONTROL_FIELDS = ["payload", "start", "stop", "filename", "is_final", "sample_rate", "kind"];

function wantsStart(msg: NodeMessage): boolean {
  return msg.start === true || (typeof msg.payload === "string" && msg.payload.trim().toLowerCase() === "start");
}

function wantsStop(msg: NodeMessage): boolean {
  return msg.stop === true || (typeof msg.payload === "string" && msg.payload.trim().toLowerCase() === "stop");
}

module.exports = function register(RED: NodeAPI) {
  function AudioInNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const rt = new NodeRuntime(this);
    const settings = deploySettings<Settings>(SETTINGS, config);
    const configError = settings instanceof Error ? new Error(`audio-in: ${settings.message}`) : undefined;
    let capture: Capture | undefined;
    const seconds = (c: Capture) => (c.samples / CAPTURE_RATE).toFixed(1);

    if (configError) rt.status.show({ fill: "red", shape: "ring", text: statusTextOf(configError) });
    else if (!(settings instanceof Error) && settings.source === "microphone") {
      try {
        chooseRecorder(settings.recorder);
        rt.status.show({ fill: "grey", shape: "ring", text: "stopped" });
      } catch (err) {
        // Shown now; the same error goes to done(err) when a start is asked for.
        rt.status.show({ fill: "red", shape: "ring", text: statusTextOf(err) });
      }
    } else rt.status.show({ fill: "grey", shape: "ring", text: "stopped" });

    /** Sends the one final msg of a capture and forgets it. */
    const end = (c: Capture, send: Send) => {
      if (c.ended) return;
      c.ended = true;
      if (capture === c) capture = undefined;
      c.subscription?.unsubscribe();
      send(chunkMessage(c.base, { is_final: true, sample_rate: CAPTURE_RATE, audio_seconds: c.samples / CAPTURE_RATE }, c.id, c.index++, new Float32Array(0)));
    };

    const start = (msg: NodeMessage, send: Send, done: Done) => {
      if (settings instanceof Error) return rt.fail(configError ?? settings, done);
      if (capture) return done(); // already capturing: one capture at a time
      const { source, recorder, device, realtime, frameMs } = settings;
      const frameSize = Math.round((frameMs * CAPTURE_RATE) / 1000);
      let frames$: Observable<Float32Array>;
      const file = readSettings<Settings>(SETTINGS, config, msg, "audio-in").path;
      if (source === "file") {
        if (!file) return rt.fail(new Error("audio-in: no WAV file to play; set the node's file or send msg.filename"), done);
        frames$ = wavFileFrames(file, { frameSize, realtime });
      } else {
        chooseRecorder(recorder);
        frames$ = microphoneFrames({ recorder, device, frameSize });
      }
      const c: Capture = { id: streamIdOf(msg), base: without(msg, CONTROL_FIELDS), index: 0, samples: 0, ended: false };
      capture = c;
      const what = source === "file" ? "playing" : "recording";
      rt.status.show({ fill: "blue", shape: "dot", text: source === "file" ? "playing file" : "recording" });
      c.subscription = frames$.subscribe({
        next: (frame) => {
          c.samples += frame.length;
          send(chunkMessage(c.base, { is_final: false, sample_rate: CAPTURE_RATE }, c.id, c.index++, frame));
          rt.status.progress(() => ({ fill: "blue", shape: "dot", text: `${what} · ${seconds(c)} s` }));
        },
        complete: () => {
          end(c, send);
          rt.status.show({ fill: "green", shape: "dot", text: `done · ${seconds(c)} s` });
        },
        error: (err: Error) => {
          end(c, send);
          rt.fail(err, undefined, { ...c.base, stream_id: c.id, payload: err.message });
        },
      });
      done();
    };

    rt.onInput((msg, send, done) => {
      if (!wantsStop(msg) && wantsStart(msg)) return start(msg, send, done);
      if (!wantsStop(msg)) {
        throw new Error(`audio-in: send msg.payload "start" or "stop" (or msg.start / msg.stop = true); got ${JSON.stringify(msg.payload)?.slice(0, 40)}`);
      }
      const c = capture;
      if (c) {
        end(c, send);
        rt.status.show({ fill: "grey", shape: "ring", text: `stopped · ${seconds(c)} s` });
      }
      done();
    });

    if (!(settings instanceof Error) && settings.autoStart) {
      // After the flow has started, so the frames have somewhere to go.
      const fail = (err?: Error) => err && rt.fail(err);
      const timer = setTimeout(() => {
        try {
          start({}, (m) => this.send(m as never), fail);
        } catch (err) {
          fail(err as Error);
        }
      }, 100);
      rt.onClose(() => clearTimeout(timer));
    }
    // Stop the recorder without sending: the flow is going away.
    rt.onClose(() => {
      capture?.subscription?.unsubscribe();
      capture = undefined;
    });
  }

  RED.nodes.registerType("audio-in", AudioInNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
