/**
 * audio-in: audio frames from a microphone (arecord, parec or sox), a WAV file or a browser page,
 * as Float32Array payloads at 16 kHz mono with msg.sample_rate and one stream_id per capture.
 * Every capture ends with one msg whose `is_final` is true (empty payload), so a whisper-streamer
 * wired after it finishes its turn. Control: msg.payload "start" / "stop", or msg.start / msg.stop.
 * Source "browser": a page at /voice-stream/mic/<node id> (src/core/browser) sends its microphone;
 * a capture opens on a start msg (newest page, or msg.voice_session), on the page's talk button
 * (push-to-talk), or as soon as a page connects (always-on).
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Observable } from "rxjs";
import { statusTextOf } from "../core/status-text";
import { CAPTURE_RATE, chooseRecorder, microphoneFrames, wavFileFrames } from "../core/audio/capture";
import type { MountedChannel } from "./shared/browser-page";
import { captureSession, openMicPage, pageFrames, sessionOf, type MicMode } from "./shared/browser-mic-control";
import { MicCapture } from "./shared/mic-capture";
import { PageCaptures } from "./shared/page-captures";
import { NodeRuntime, type Done, type Send } from "./shared/node-runtime";
import { deploySettings, readSettings, type Setting } from "./shared/settings";
import { isControl, streamIdOf, without, type NodeMessage } from "./shared/stream-msg";

const SETTINGS: readonly Setting[] = [
  { key: "source", editor: "source", type: "string", choices: ["microphone", "file", "browser"], default: "microphone" },
  { key: "browserMode", editor: "browserMode", type: "string", choices: ["push-to-talk", "always-on"], default: "push-to-talk" },
  { key: "title", editor: "name", type: "string", default: "voice-stream microphone" },
  { key: "recorder", editor: "recorder", type: "string", default: "auto" },
  { key: "device", editor: "device", type: "string" },
  { key: "path", editor: "path", msg: "filename", type: "text", expects: "the path of a WAV file (a string)", nameType: true },
  { key: "realtime", editor: "realtime", type: "boolean", default: false },
  { key: "frameMs", editor: "frameMs", label: "frame size", type: "number", min: 5, max: 1000, default: 20, expects: "5 to 1000 ms" },
  { key: "autoStart", editor: "autoStart", type: "boolean", default: false },
];
type Settings = { source: "microphone" | "file" | "browser"; browserMode: MicMode; title: string; recorder: string; device?: string; path?: string; realtime: boolean; frameMs: number; autoStart: boolean };

/** Fields of the starting msg that are commands, not properties to carry on every frame. */
const CONTROL_FIELDS = ["payload", "start", "stop", "filename", "is_final", "sample_rate", "kind"];

module.exports = function register(RED: NodeAPI) {
  function AudioInNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const rt = new NodeRuntime(this);
    const settings = deploySettings<Settings>(SETTINGS, config);
    let configError = settings instanceof Error ? new Error(`audio-in: ${settings.message}`) : undefined;
    const captures = new PageCaptures(); // one per browser page (several may talk at once), or one ("")
    let page: MountedChannel | undefined;
    const send: Send = (m) => this.send(m as never);

    if (configError) rt.status.show({ fill: "red", shape: "ring", text: statusTextOf(configError) });
    else if (!(settings instanceof Error) && settings.source === "microphone") {
      try {
        chooseRecorder(settings.recorder);
        rt.status.show({ fill: "grey", shape: "ring", text: "stopped" });
      } catch (err) {
        // Shown now; the same error goes to done(err) when a start is asked for.
        rt.status.show({ fill: "red", shape: "ring", text: statusTextOf(err) });
      }
    } else if (!(settings instanceof Error) && settings.source === "browser") {
      try {
        page = openMicPage(RED, rt, `/voice-stream/mic/${this.id}`, settings.title, settings.browserMode, {
          start: (session) => start({ voice_session: session }, send, (err) => err && rt.fail(err)),
          stop: (session) => captures.pick(session).forEach(stop),
          capturing: (session) => captures.has(session),
        });
      } catch (err) {
        configError = err as Error;
        rt.status.show({ fill: "red", shape: "ring", text: statusTextOf(configError) });
      }
    } else rt.status.show({ fill: "grey", shape: "ring", text: "stopped" });

    const start = (msg: NodeMessage, send: Send, done: Done) => {
      if (settings instanceof Error || configError) return rt.fail(configError ?? settings, done);
      const { source, recorder, device, realtime, frameMs, browserMode } = settings;
      const key = source !== "browser" ? "" : (sessionOf(msg) ?? page?.channel.sessionIds().slice(-1)[0]);
      if (key !== undefined && captures.has(key)) return done(); // that source is already capturing
      const frameSize = Math.round((frameMs * CAPTURE_RATE) / 1000);
      const id = streamIdOf(msg);
      let frames$: Observable<Float32Array>;
      const file = readSettings<Settings>(SETTINGS, config, msg, "audio-in").path;
      if (source === "browser" && page) {
        frames$ = pageFrames(page, { frameSize, captureId: id, mode: browserMode, session: key });
      } else if (source === "file") {
        if (!file) return rt.fail(new Error("audio-in: no WAV file to play; set the node's file or send msg.filename"), done);
        frames$ = wavFileFrames(file, { frameSize, realtime });
      } else {
        chooseRecorder(recorder);
        frames$ = microphoneFrames({ recorder, device, frameSize });
      }
      const c = new MicCapture(id, without(msg, CONTROL_FIELDS), send);
      const what = source === "file" ? "playing" : "recording";
      rt.status.show({ fill: "blue", shape: "dot", text: source === "file" ? "playing file" : what });
      const forget = () => captures.remove(c);
      const failed = c.run(frames$, {
        frame: () => rt.status.progress(() => ({ fill: "blue", shape: "dot", text: `${what} · ${c.seconds.toFixed(1)} s` })),
        complete: () => {
          forget();
          rt.status.show({ fill: "green", shape: "dot", text: `done · ${c.seconds.toFixed(1)} s` });
        },
        error: (_c, err) => {
          forget();
          rt.fail(err, undefined, { ...c.base, stream_id: c.id, payload: err.message });
        },
      });
      if (failed) {
        // A capture that could not open (no page, say) fails this start msg itself; its turn still ends.
        forget();
        c.end();
        return rt.fail(failed, done);
      }
      // Frames carry the page that speaks, so its answer can go back there (ui-voice, audio-out).
      if (page) c.base.voice_session = captureSession(page, c.id);
      captures.add(key ?? "", c);
      done();
    };

    const stop = (c: MicCapture) => {
      captures.remove(c);
      c.end();
      rt.status.show({ fill: "grey", shape: "ring", text: `stopped · ${c.seconds.toFixed(1)} s` });
    };

    rt.onInput((msg, send, done) => {
      if (!isControl(msg, "stop") && isControl(msg, "start")) return start(msg, send, done);
      if (!isControl(msg, "stop")) {
        throw new Error(`audio-in: send msg.payload "start" or "stop" (or msg.start / msg.stop = true); got ${JSON.stringify(msg.payload)?.slice(0, 40)}`);
      }
      captures.pick(page ? sessionOf(msg) : undefined).forEach(stop);
      done();
    });

    if (!(settings instanceof Error) && settings.autoStart) {
      // After the flow has started, so the frames have somewhere to go.
      const fail = (err?: Error) => err && rt.fail(err);
      const timer = setTimeout(() => {
        try {
          start({}, send, fail);
        } catch (err) {
          fail(err as Error);
        }
      }, 100);
      rt.onClose(() => clearTimeout(timer));
    }
    // Stop the recorder without sending: the flow is going away.
    rt.onClose(() => {
      captures.pick().forEach((c) => c.drop());
    });
    rt.onClose(() => page?.close());
  }

  RED.nodes.registerType("audio-in", AudioInNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
