/**
 * audio-out's sinks, built from the node's settings: the speaker (a system player process),
 * WAV files under the user directory, browsers (a page and WebSocket under httpNode) or
 * nothing (paced, discarded). Routes and listeners a sink adds are undone by `cleanups`.
 */
import * as path from "path";
import type { Node, NodeAPI } from "node-red";
import type { AudioSink } from "../core/audio/sink";
import { BrowserSink } from "../core/audio/sinks/browser-sink";
import { FileSink } from "../core/audio/sinks/file-sink";
import { NullSink } from "../core/audio/sinks/null-sink";
import { SpeakerSink } from "../core/audio/sinks/speaker-sink";
import { ReferenceTapSink } from "../core/audio/sinks/reference-tap";
import { referenceChannel } from "../core/audio/reference-bus";
import { mountVoiceChannel } from "./shared/browser-page";

/** Undoes what a sink added (routes, listeners); awaited at close. */
export type Cleanup = () => void | Promise<void>;

export interface SinkSettings {
  sink: "speaker" | "file" | "browser" | "null";
  player: string;
  device?: string;
  path?: string;
  sampleRate: number;
  /** The browser page's heading (the node's name). */
  title: string;
  /** Reference channel the played audio is offered on (the vad / wake-word own-voice guard); "none" offers nothing. */
  reference: string;
}

/** The sink under a reference tap: what the status and the browser page talk to. */
const played = (sink: AudioSink): AudioSink => (sink instanceof ReferenceTapSink ? sink.inner : sink);

/** What the idle status says for `sink`. */
export function idleText(tapped: AudioSink): string {
  const sink = played(tapped);
  return sink instanceof BrowserSink ? `${sink.listeners} listener${sink.listeners === 1 ? "" : "s"}` : "ready";
}

/** Shows `text` on the browser page from `atSeconds` into the stream, as its audio plays; other sinks have no page. */
export function annotateText(tapped: AudioSink, streamId: string, text: unknown, atSeconds: number): void {
  const sink = played(tapped);
  if (sink instanceof BrowserSink && typeof text === "string" && text !== "") sink.annotate(streamId, text, atSeconds);
}

/**
 * The sink `settings` choose, offering what it plays on the reference channel (hands-free flows)
 * unless that is "none"; a browser sink's routes and listeners are undone by `cleanups`.
 */
export function makeSink(RED: NodeAPI, node: Node, settings: SinkSettings, cleanups: Cleanup[], onListeners: (sink: BrowserSink) => void): AudioSink {
  const sink = chosenSink(RED, node, settings, cleanups, onListeners);
  return settings.reference === "none" ? sink : new ReferenceTapSink(sink, referenceChannel(settings.reference));
}

function chosenSink(RED: NodeAPI, node: Node, settings: SinkSettings, cleanups: Cleanup[], onListeners: (sink: BrowserSink) => void): AudioSink {
  switch (settings.sink) {
    case "speaker":
      return new SpeakerSink({ player: settings.player || "auto", device: settings.device, sampleRate: settings.sampleRate });
    case "file":
      return new FileSink(fileTemplate(RED, settings.path ?? ""));
    case "null":
      return new NullSink();
    case "browser":
      return browserSink(RED, node, settings, cleanups, onListeners);
  }
}

// A relative path would otherwise land wherever Node-RED was started from (often / under
// systemd): anchor it to the user directory, as the voice-model cache is.
function fileTemplate(RED: NodeAPI, template: string): string {
  const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
  return template.trim() === "" || path.isAbsolute(template) || !userDir ? template : path.join(userDir, template);
}

function browserSink(RED: NodeAPI, node: Node, settings: SinkSettings, cleanups: Cleanup[], onListeners: (sink: BrowserSink) => void): BrowserSink {
  const mounted = mountVoiceChannel(RED, node, `/voice-stream/player/${node.id}`, { page: "player", sampleRate: settings.sampleRate, title: settings.title });
  const sink = new BrowserSink(mounted.channel);
  cleanups.push(() => mounted.close());
  const listenerSub = sink.listeners$.subscribe(() => onListeners(sink));
  cleanups.push(() => listenerSub.unsubscribe());
  return sink;
}
