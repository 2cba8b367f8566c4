/**
 * How a node with a browser microphone (audio-in's "browser" source, ui-voice) answers its
 * pages: push-to-talk opens a capture on the page's talk button and closes it on release;
 * always-on opens one as soon as a page connects. Refused frames (too large, too fast, no
 * capture open) are reported as one error per page per few seconds, so a broken page cannot
 * flood the log, and the socket is closed by the channel when they go on.
 */
import type { Observable } from "rxjs";
import { browserMicFrames } from "../../core/browser/browser-mic";
import type { NodeAPI } from "node-red";
import { mountVoiceChannel, type MountedChannel } from "./browser-page";
import type { NodeRuntime } from "./node-runtime";
import type { NodeMessage } from "./stream-msg";

export type MicMode = "push-to-talk" | "always-on";

export interface MicHandlers {
  start(session: string): void;
  stop(session: string): void;
  /** Whether `session`'s page (with none: any page) has a capture open. */
  capturing(session?: string): boolean;
}

const REPORT_EVERY_MS = 5000;

/** The msg's page session (msg.voice_session), if it names one. */
export function sessionOf(msg: NodeMessage): string | undefined {
  return typeof msg.voice_session === "string" && msg.voice_session !== "" ? msg.voice_session : undefined;
}

/** Frames of a capture on `session` (default: the newest page); `where` names the page in errors. */
export function pageFrames(page: MountedChannel, options: { frameSize: number; captureId: string; mode: MicMode; session?: string; where?: string }): Observable<Float32Array> {
  const { frameSize, captureId, mode, session, where } = options;
  return browserMicFrames(page.channel, { frameSize, session, captureId, mode, pageUrl: where ?? page.url });
}

/** The page session whose open capture is `captureId`: where that turn's answer goes back. */
export function captureSession(page: MountedChannel, captureId: string): string | undefined {
  return page.channel.sessionIds().find((s) => page.channel.captureOf(s) === captureId);
}

/** Mounts a microphone page for `rt`'s node at `route` and answers its pages with `handlers`. */
export function openMicPage(RED: NodeAPI, rt: NodeRuntime, route: string, title: string, mode: MicMode, handlers: MicHandlers): MountedChannel {
  const page = mountVoiceChannel(RED, rt.node, route, { page: "mic", title, sampleRate: 24000 });
  rt.status.show({ fill: "grey", shape: "ring", text: "0 pages" });
  controlBrowserMic(rt, page, mode, handlers);
  return page;
}

export function controlBrowserMic(rt: NodeRuntime, page: MountedChannel, mode: MicMode, handlers: MicHandlers): void {
  const node = rt.node;
  const reported = new Map<string, number>();
  page.channel.events$.subscribe((e) => {
    switch (e.type) {
      case "connected":
      case "disconnected":
        if (!handlers.capturing()) rt.status.show({ fill: "grey", shape: e.listeners > 0 ? "dot" : "ring", text: `${e.listeners} page${e.listeners === 1 ? "" : "s"}` });
        if (e.type === "connected" && mode === "always-on" && !handlers.capturing(e.session)) handlers.start(e.session);
        if (e.type === "disconnected") reported.delete(e.session);
        break;
      case "talk":
        if (e.action === "start" && !handlers.capturing(e.session)) handlers.start(e.session);
        else if (e.action === "stop" && mode === "push-to-talk") handlers.stop(e.session);
        break;
      case "refused": {
        const last = reported.get(e.session) ?? 0;
        if (Date.now() - last < REPORT_EVERY_MS) break;
        reported.set(e.session, Date.now());
        rt.status.show({ fill: "red", shape: "ring", text: "page audio refused" });
        node.error(new Error(`${node.type}: browser page ${e.session.slice(0, 8)} at ${page.url}: ${e.error.message}`), { voice_session: e.session, payload: e.error.message });
        break;
      }
    }
  });
}
