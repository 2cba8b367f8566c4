/**
 * audio-in: audio frames from a microphone (arecord, parec or sox) or a WAV file, as
 * Float32Array payloads at 16 kHz mono with msg.sample_rate and one stream_id per capture.
 * Every capture ends with one msg whose `is_final` is true (empty payload), so a
 * whisper-streamer wired after it finishes its turn when a file ends or the capture stops.
 * Control: msg.payload "start" / "stop", or msg.start === true / msg.stop === true.
 * Source "browser": a page at /voice-stream/mic/<node id> (src/core/browser) sends its
 * microphone; a capture opens on a start msg (newest page, or msg.voice_session), on the
 * page's talk button (push-to-talk), or as soon as a page connects (always-on).
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Observable, Subscription } from "rxjs";
import { CAPTURE_RATE, chooseRecorder, microphoneFrames, wavFileFrames } from "../core/audio/capture";
import { browserMicFrames } from "../core/browser/browser-mic";
import { mountVoiceChannel, type MountedChannel } from "./shared/browser-page";
import { controlBrowserMic } from "./shared/browser-mic-control";
import { chunkMessage, streamIdOf, type NodeMessage } from "./shared/stream-msg";

interface AudioInNodeDef extends NodeDef {
  source?: "microphone" | "file" | "browser";
  browserMode?: "push-to-talk" | "always-on";
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
    const source = config.source === "file" || config.source === "browser" ? config.source : "microphone";
    let page: MountedChannel | undefined;
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
    } else if (source === "browser") {
      try {
        page = mountVoiceChannel(RED, node, `/voice-stream/mic/${node.id}`, { page: "mic", title: config.name || "voice-stream microphone", sampleRate: 24000 });
        node.status({ fill: "grey", shape: "ring", text: "0 pages" });
        controlBrowserMic(node, page, config.browserMode === "always-on" ? "always-on" : "push-to-talk", {
          start: (session) => start({ voice_session: session }, (m) => node.send(m as never), (err) => err && node.error(err)),
          stop: (session) => capture && capture.base.voice_session === session && stop((m) => node.send(m as never), () => {}),
          capturing: () => capture !== undefined,
        });
      } catch (err) {
        configError = err as Error;
        node.status({ fill: "red", shape: "ring", text: configError.message.slice(0, 60) });
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
      const file = typeof msg.filename === "string" && msg.filename !== "" ? msg.filename : config.path;
      const id = streamIdOf(msg);
      if (source === "browser" && page) {
        const session = typeof msg.voice_session === "string" && msg.voice_session !== "" ? msg.voice_session : undefined;
        frames$ = browserMicFrames(page.channel, { frameSize, session, captureId: id, mode: config.browserMode || "push-to-talk", pageUrl: page.url });
      } else if (source === "file") {
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
      const c: Capture = { id, base, index: 0, samples: 0, ended: false };
      capture = c;
      node.status({ fill: "blue", shape: "dot", text: source === "file" ? "playing file" : "recording" });
      let failed: Error | undefined;
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
          failed = err;
          end(c, send);
          node.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
          if (c.subscription) node.error(err, { ...c.base, stream_id: c.id, payload: err.message });
        },
      });
      // Frames carry the page that speaks, so its answer can go back there (ui-voice, audio-out).
      if (page && !failed) c.base.voice_session = page.channel.sessionIds().find((s) => page!.channel.captureOf(s) === c.id);
      // A capture that could not open (no page, say) fails this start msg itself.
      if (failed) return done(failed);
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
      if (page) page.close().then(() => done(), () => done());
      else done();
    });
  }

  RED.nodes.registerType("audio-in", AudioInNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
