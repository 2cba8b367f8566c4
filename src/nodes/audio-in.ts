/**
 * audio-in: audio frames from a microphone (arecord, parec or sox) or a WAV file, as
 * Float32Array payloads at 16 kHz mono with msg.sample_rate and one stream_id per capture.
 * Every capture ends with one msg whose `is_final` is true (empty payload), so a
 * whisper-streamer wired after it finishes its turn when a file ends or the capture stops.
 * Control: msg.payload "start" / "stop", or msg.start === true / msg.stop === true.
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Observable, Subscription } from "rxjs";
import { CAPTURE_RATE, chooseRecorder, microphoneFrames, wavFileFrames } from "../core/audio/capture";
import { chunkMessage, streamIdOf, type NodeMessage } from "./shared/stream-msg";

interface AudioInNodeDef extends NodeDef {
  source?: "microphone" | "file";
  recorder?: string;
  device?: string;
  path?: string;
  realtime?: boolean | string;
  frameMs?: string | number;
  autoStart?: boolean | string;
}

type Send = (msg: NodeMessage | NodeMessage[]) => void;
type Done = (err?: Error) => void;

interface Capture {
  id: string;
  subscription?: Subscription;
  base: NodeMessage;
  index: number;
  samples: number;
  ended: boolean;
}

const STATUS_INTERVAL_MS = 250;
/** Fields of the starting msg that are commands, not properties to carry on every frame. */
const CONTROL_FIELDS = ["payload", "start", "stop", "filename", "is_final", "sample_rate", "kind"];

function wantsStart(msg: NodeMessage): boolean {
  return msg.start === true || (typeof msg.payload === "string" && msg.payload.trim().toLowerCase() === "start");
}

function wantsStop(msg: NodeMessage): boolean {
  return msg.stop === true || (typeof msg.payload === "string" && msg.payload.trim().toLowerCase() === "stop");
}

module.exports = function register(RED: NodeAPI) {
  function AudioInNode(this: Node, config: AudioInNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const source = config.source === "file" ? "file" : "microphone";
    const realtime = config.realtime === true || config.realtime === "true";
    let frameSize = 320;
    let configError: Error | undefined;
    const frameMs = config.frameMs === undefined || String(config.frameMs).trim() === "" ? 20 : Number(config.frameMs);
    if (!Number.isFinite(frameMs) || frameMs < 5 || frameMs > 1000) configError = new Error(`audio-in: frame size must be 5 to 1000 ms, got "${config.frameMs}"`);
    else frameSize = Math.round((frameMs * CAPTURE_RATE) / 1000);
    let capture: Capture | undefined;
    let lastStatus = 0;

    const fail = (err: Error, done: Done) => {
      node.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
      done(err);
    };

    if (configError) node.status({ fill: "red", shape: "ring", text: configError.message.slice(0, 60) });
    else if (source === "microphone") {
      try {
        chooseRecorder(config.recorder || "auto");
        node.status({ fill: "grey", shape: "ring", text: "stopped" });
      } catch (err) {
        // Shown now; the same error goes to done(err) when a start is asked for.
        node.status({ fill: "red", shape: "ring", text: (err as Error).message.slice(0, 60) });
      }
    } else node.status({ fill: "grey", shape: "ring", text: "stopped" });

    /** Sends the one final msg of a capture and forgets it. */
    const end = (c: Capture, send: Send) => {
      if (c.ended) return;
      c.ended = true;
      if (capture === c) capture = undefined;
      c.subscription?.unsubscribe();
      const seconds = c.samples / CAPTURE_RATE;
      send(chunkMessage(c.base, { is_final: true, sample_rate: CAPTURE_RATE, audio_seconds: seconds }, c.id, c.index++, new Float32Array(0)));
    };

    const start = (msg: NodeMessage, send: Send, done: Done) => {
      if (configError) return fail(configError, done);
      if (capture) return done(); // already capturing: one capture at a time
      let frames$: Observable<Float32Array>;
      if (msg.filename !== undefined && msg.filename !== null && typeof msg.filename !== "string") {
        return fail(new Error(`audio-in: msg.filename must be the path of a WAV file (a string), got ${Array.isArray(msg.filename) ? "an array" : typeof msg.filename}`), done);
      }
      const file = typeof msg.filename === "string" && msg.filename !== "" ? msg.filename : config.path;
      if (source === "file") {
        if (!file) return fail(new Error("audio-in: no WAV file to play; set the node's file or send msg.filename"), done);
        frames$ = wavFileFrames(file, { frameSize, realtime });
      } else {
        try {
          chooseRecorder(config.recorder || "auto");
        } catch (err) {
          return fail(err as Error, done);
        }
        frames$ = microphoneFrames({ recorder: config.recorder || "auto", device: config.device, frameSize });
      }
      const base: NodeMessage = { ...msg };
      for (const field of CONTROL_FIELDS) delete base[field];
      const c: Capture = { id: streamIdOf(msg), base, index: 0, samples: 0, ended: false };
      capture = c;
      node.status({ fill: "blue", shape: "dot", text: source === "file" ? "playing file" : "recording" });
      c.subscription = frames$.subscribe({
        next: (frame) => {
          c.samples += frame.length;
          send(chunkMessage(c.base, { is_final: false, sample_rate: CAPTURE_RATE }, c.id, c.index++, frame));
          const now = Date.now();
          if (now - lastStatus >= STATUS_INTERVAL_MS) {
            lastStatus = now;
            node.status({ fill: "blue", shape: "dot", text: `${source === "file" ? "playing" : "recording"} · ${(c.samples / CAPTURE_RATE).toFixed(1)} s` });
          }
        },
        complete: () => {
          end(c, send);
          node.status({ fill: "green", shape: "dot", text: `done · ${(c.samples / CAPTURE_RATE).toFixed(1)} s` });
        },
        error: (err: Error) => {
          end(c, send);
          node.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
          node.error(err, { ...c.base, stream_id: c.id, payload: err.message });
        },
      });
      done();
    };

    const stop = (send: Send, done: Done) => {
      const c = capture;
      if (c) {
        end(c, send);
        node.status({ fill: "grey", shape: "ring", text: `stopped · ${(c.samples / CAPTURE_RATE).toFixed(1)} s` });
      }
      done();
    };

    node.on("input", (msg: NodeMessage, send: Send, done: Done) => {
      if (wantsStop(msg)) return stop(send, done);
      if (wantsStart(msg)) return start(msg, send, done);
      fail(new Error(`audio-in: send msg.payload "start" or "stop" (or msg.start / msg.stop = true); got ${JSON.stringify(msg.payload)?.slice(0, 40)}`), done);
    });

    if (config.autoStart === true || config.autoStart === "true") {
      // After the flow has started, so the frames have somewhere to go.
      const timer = setTimeout(() => start({}, (m) => node.send(m as never), (err) => err && node.error(err)), 100);
      node.on("close", () => clearTimeout(timer));
    }

    node.on("close", (_removed: boolean, done: () => void) => {
      // Stop the recorder without sending: the flow is going away.
      if (capture) {
        capture.ended = true;
        capture.subscription?.unsubscribe();
        capture = undefined;
      }
      done();
    });
  }

  RED.nodes.registerType("audio-in", AudioInNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
