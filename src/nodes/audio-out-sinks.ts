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
}

/** What the idle status says for `sink`. */
export function idleText(sink: AudioSink): string {
  return sink instanceof BrowserSink ? `${sink.listeners} listener${sink.listeners === 1 ? "" : "s"}` : "ready";
}

/** Shows `text` on the browser page from `atSeconds` into the stream, as its audio plays; other sinks have no page. */
export function annotateText(sink: AudioSink, streamId: string, text: unknown, atSeconds: number): void {
  if (sink instanceof BrowserSink && typeof text === "string" && text !== "") sink.annotate(streamId, text, atSeconds);
}

/** The sink `settings` choose; a browser sink's routes and listeners are undone by `cleanups`. */
export function makeSink(RED: NodeAPI, node: Node, settings: SinkSettings, cleanups: Cleanup[], onListeners: (sink: BrowserSink) => void): AudioSink {
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
