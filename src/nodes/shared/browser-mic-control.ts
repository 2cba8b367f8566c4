/**
 * How a node with a browser microphone (audio-in's "browser" source, ui-voice) answers its
 * pages: push-to-talk opens a capture on the page's talk button and closes it on release;
 * always-on opens one as soon as a page connects. Refused frames (too large, too fast, no
 * capture open) are reported as one error per page per few seconds, so a broken page cannot
 * flood the log, and the socket is closed by the channel when they go on.
 */
import type { Node } from "node-red";
import type { MountedChannel } from "./browser-page";

export type MicMode = "push-to-talk" | "always-on";

export interface MicHandlers {
  start(session: string): void;
  stop(session: string): void;
  capturing(): boolean;
}

const REPORT_EVERY_MS = 5000;

export function controlBrowserMic(node: Node, page: MountedChannel, mode: MicMode, handlers: MicHandlers): void {
  const reported = new Map<string, number>();
  page.channel.events$.subscribe((e) => {
    switch (e.type) {
      case "connected":
      case "disconnected":
        if (!handlers.capturing()) node.status({ fill: "grey", shape: e.listeners > 0 ? "dot" : "ring", text: `${e.listeners} page${e.listeners === 1 ? "" : "s"}` });
        if (e.type === "connected" && mode === "always-on" && !handlers.capturing()) handlers.start(e.session);
        if (e.type === "disconnected") reported.delete(e.session);
        break;
      case "talk":
        if (e.action === "start" && !handlers.capturing()) handlers.start(e.session);
        else if (e.action === "stop" && mode === "push-to-talk") handlers.stop(e.session);
        break;
      case "refused": {
        const last = reported.get(e.session) ?? 0;
        if (Date.now() - last < REPORT_EVERY_MS) break;
        reported.set(e.session, Date.now());
        node.status({ fill: "red", shape: "ring", text: "page audio refused" });
        node.error(new Error(`${node.type}: browser page ${e.session.slice(0, 8)} at ${page.url}: ${e.error.message}`), { voice_session: e.session, payload: e.error.message });
        break;
      }
    }
  });
}
