/**
 * Admin endpoint behind the voice-model editor's "ask the server" button, Wyoming side:
 * GET /voice-stream/remote/describe?url=wyoming://host:port → what the service offers
 * (a fresh describe, not the engines' cache). Errors: 400 for a bad address, 502 when the
 * service cannot be asked; both `{error}` with a sentence naming the service.
 */
import type { NodeAPI } from "node-red";
import type { Request, Response } from "express";
import { describeOnce, isWyomingUrl, parseWyomingUrl } from "../../core/wyoming/client";

export const DESCRIBE_PATH = "/voice-stream/remote/describe";

/** Admin apps the route is on (a test harness may make a new one per start). */
const registered = new WeakSet<object>();

export function registerWyomingDescribe(RED: NodeAPI): void {
  if (!RED.httpAdmin || registered.has(RED.httpAdmin)) return;
  registered.add(RED.httpAdmin);
  const auth = RED.auth?.needsPermission ? RED.auth.needsPermission("voice-model.read") : (_req: Request, _res: Response, next: () => void) => next();
  RED.httpAdmin.get(DESCRIBE_PATH, auth, (req: Request, res: Response, next: () => void) => {
    const url = typeof req.query.url === "string" ? req.query.url : "";
    // Other address forms (http(s)://…/v1) belong to the OpenAI side of this endpoint.
    if (!isWyomingUrl(url)) return next();
    let target;
    try {
      target = parseWyomingUrl(url);
    } catch (err) {
      return void res.status(400).json({ error: (err as Error).message });
    }
    const timeout = Number(req.query.timeout_ms) > 0 ? Number(req.query.timeout_ms) : 5000;
    describeOnce(target, { connectTimeoutMs: timeout, idleTimeoutMs: timeout }).then(
      (info) =>
        res.json({
          kind: "wyoming",
          url: target.url,
          asr: info.asr,
          tts: info.tts,
          wake: info.wake,
          // Flat lists for the editor's pickers.
          models: [...new Set(info.asr.flatMap((p) => p.models.map((m) => m.name)))],
          voices: [...new Set(info.tts.flatMap((p) => p.voices.map((v) => v.name)))],
          wake_words: [...new Set(info.wake.flatMap((p) => p.models.map((m) => m.name)))],
        }),
      (err: Error) => res.status(502).json({ error: err.message }),
    );
  });
}
