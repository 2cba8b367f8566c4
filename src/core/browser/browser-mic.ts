/**
 * A page's microphone as audio-in frames: a cold Observable that, on subscribe, opens a
 * capture on one page session of a VoiceChannel, emits its audio (16 kHz mono) cut into
 * frames of `frameSize`, and completes when the page stops or goes away. Unsubscribing
 * closes the capture (the page stops sending and releases its microphone).
 */
import { Observable } from "rxjs";
import { FrameSplitter } from "../audio/capture";
import type { VoiceChannel } from "./voice-channel";

export interface BrowserMicOptions {
  frameSize: number;
  /** The page session to capture; default the page that connected last. */
  session?: string;
  /** Shown by the page ("push-to-talk" or "always-on"). */
  mode?: string;
  /** Id for the capture (the stream_id the frames will carry). */
  captureId?: string;
  /** Where the page is, for the error when none is open. */
  pageUrl?: string;
}

export class NoPageError extends Error {}

export function browserMicFrames(channel: VoiceChannel, options: BrowserMicOptions): Observable<Float32Array> {
  return new Observable<Float32Array>((subscriber) => {
    const sessions = channel.sessionIds();
    const session = options.session ?? sessions[sessions.length - 1];
    const where = options.pageUrl ? ` at ${options.pageUrl}` : "";
    if (session === undefined) {
      subscriber.error(new NoPageError(`no browser page is open${where}: open it (and allow the microphone), then start again`));
      return;
    }
    if (channel.captureOf(session) !== undefined) {
      subscriber.error(new Error(`the browser page ${session.slice(0, 8)} is already capturing for another stream`));
      return;
    }
    const splitter = new FrameSplitter(options.frameSize);
    let captureId: string | undefined;
    const sub = channel.events$.subscribe((e) => {
      if (e.type === "frame" && e.capture === captureId) {
        for (const frame of splitter.push(e.samples)) subscriber.next(frame);
      } else if (e.type === "capture-end" && e.capture === captureId) {
        captureId = undefined;
        const rest = splitter.flush();
        if (rest) subscriber.next(rest);
        subscriber.complete();
      }
    });
    captureId = channel.startCapture(session, { id: options.captureId, mode: options.mode });
    if (captureId === undefined) {
      sub.unsubscribe();
      subscriber.error(new NoPageError(`the browser page${where} (session ${session.slice(0, 8)}) has gone; open it again`));
      return;
    }
    return () => {
      sub.unsubscribe();
      if (captureId !== undefined) channel.stopCapture(captureId);
    };
  });
}
