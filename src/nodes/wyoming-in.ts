/**
 * wyoming-in: a Wyoming service made of a flow (PROTOCOL §7), like http in. It listens on a
 * TCP port, answers `describe` from its settings (or the voice-model nodes it names), and
 * turns each client request into messages that share one `stream_id`:
 *   transcribe + audio → audio frames (Float32Array + sample_rate), then `finish: true`;
 *   synthesize → one whole text; synthesize-start/-chunk/-stop → deltas (`is_final: false`,
 *   then `is_final: true`); detect + audio → frames. A client that goes away sends `cancel: true`.
 * A wyoming-out node sends the flow's answer back on the session of the msg's stream_id.
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import { WyomingServer, type ListeningAddress } from "../core/wyoming/server";
import type { WyomingSession } from "../core/wyoming/session";
import type { ServicesSpec } from "../core/wyoming/info";
import { parseAllowList } from "../core/wyoming/allow-list";
import { advertise, type Advertisement } from "../core/wyoming/zeroconf";
import type { LoadedModel, TtsEngine } from "../core/types";
import { isVoiceModelNode } from "./shared/model-status";
import { addSession, removeSession } from "./shared/wyoming-sessions";
import type { NodeMessage } from "./shared/stream-msg";

interface WyomingInDef extends NodeDef {
  host?: string;
  port?: string | number;
  zeroconf?: boolean;
  zeroconfName?: string;
  allow?: string;
  asr?: boolean;
  asrName?: string;
  asrLanguages?: string;
  asrModel?: string;
  tts?: boolean;
  ttsName?: string;
  ttsVoices?: string;
  ttsLanguages?: string;
  ttsModel?: string;
  wake?: boolean;
  wakeNames?: string;
  streamTranscripts?: boolean;
  maxAudioSeconds?: string | number;
  answerTimeout?: string | number;
}

const DEFAULT_PORT = 10700;
/** After a detect's audio-stop, how long the flow may still report a detection before not-detected goes out. */
const DETECT_SETTLE_MS = 500;
const STATUS_INTERVAL_MS = 500;
/** How long describe waits for a named voice-model to load (for its voices and languages). */
const MODEL_WAIT_MS = 3000;

function list(text: string | undefined): string[] {
  return String(text ?? "").split(/[\s,;]+/).map((s) => s.trim()).filter((s) => s !== "");
}

function positive(value: string | number | undefined, fallback: number, what: string): number {
  if (value === undefined || value === null || String(value).trim() === "") return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${what} must be a positive number, got '${value}'`);
  return n;
}

/** A voice named like a language ("en-us", "de") speaks that language. */
function voiceLanguages(name: string, fallback: string[]): string[] {
  return /^[a-z]{2,3}(?:[-_][a-z]{2,4})?$/i.test(name) ? [name.toLowerCase()] : fallback;
}

module.exports = function register(RED: NodeAPI) {
  /** The loaded model of a voice-model config node, or undefined when none is set or it is not ready in time. */
  async function modelOf(id: string | undefined): Promise<{ model?: LoadedModel; name?: string }> {
    const config = id ? (RED.nodes.getNode(id) as unknown) : undefined;
    if (!isVoiceModelNode(config)) return {};
    const model = await Promise.race([config.model().catch(() => undefined), new Promise<undefined>((r) => (setTimeout(r, MODEL_WAIT_MS) as unknown as NodeJS.Timeout).unref())]);
    return { model, name: config.name || (config as unknown as { spec?: { enginesPath?: string } }).spec?.enginesPath };
  }

  function WyomingInNode(this: Node, def: WyomingInDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let server: WyomingServer | undefined;
    let ad: Advertisement | undefined;
    let address: ListeningAddress | undefined;
    let statusTimer: NodeJS.Timeout | undefined;
    let closing = false;
    const sessions = new Set<WyomingSession>();
    (node as unknown as { address: () => ListeningAddress | undefined }).address = () => address;

    const offers = { asr: def.asr !== false, tts: def.tts !== false, wake: def.wake === true };

    const services = async (): Promise<ServicesSpec> => {
      const spec: ServicesSpec = {};
      if (offers.asr) {
        const { model, name } = await modelOf(def.asrModel);
        const codes = (model as unknown as { model?: { languageCodes?: () => string[] } })?.model?.languageCodes?.();
        const languages = list(def.asrLanguages).length > 0 ? list(def.asrLanguages) : codes && codes.length > 0 ? codes : ["en"];
        const serviceName = def.asrName?.trim() || name || "node-red-whisper";
        spec.asr = { name: serviceName, description: "speech-to-text by a Node-RED flow", models: [{ name: serviceName, languages }], supportsTranscriptStreaming: def.streamTranscripts !== false };
      }
      if (offers.tts) {
        const { model, name } = await modelOf(def.ttsModel);
        const languages = list(def.ttsLanguages).length > 0 ? list(def.ttsLanguages) : ["en"];
        const serviceName = def.ttsName?.trim() || name || "node-red-tts";
        const fromModel = (model as TtsEngine | undefined)?.voices ?? [];
        const voices = list(def.ttsVoices).length > 0 ? list(def.ttsVoices) : fromModel.length > 0 ? fromModel : [serviceName];
        spec.tts = {
          name: serviceName,
          description: "text-to-speech by a Node-RED flow",
          voices: voices.map((v) => ({ name: v, languages: list(def.ttsLanguages).length > 0 ? languages : voiceLanguages(v, languages) })),
          supportsSynthesizeStreaming: true,
        };
      }
      if (offers.wake) {
        const names = list(def.wakeNames);
        spec.wake = { name: "node-red-wake", description: "wake word detection by a Node-RED flow", models: (names.length > 0 ? names : ["wake_word"]).map((n) => ({ name: n, languages: ["en"], phrase: n.replace(/_/g, " ") })) };
      }
      return spec;
    };

    const showStatus = () => {
      statusTimer = undefined;
      if (!address || closing) return;
      const where = `${address.host}:${address.port}`;
      const count = sessions.size > 0 ? ` · ${sessions.size} session${sessions.size === 1 ? "" : "s"}` : "";
      if (address.beyondLoopback) node.status({ fill: "yellow", shape: "dot", text: `open to the network on ${where}${count}` });
      else node.status({ fill: "green", shape: "dot", text: `listening on ${where}${count}` });
    };
    const scheduleStatus = () => {
      statusTimer ??= setTimeout(showStatus, STATUS_INTERVAL_MS);
    };

    const onSession = (session: WyomingSession) => {
      sessions.add(session);
      addSession(session);
      scheduleStatus();
      const request = session.request;
      const wyoming: Record<string, unknown> =
        request.type === "transcribe"
          ? { type: "transcribe", language: request.language, name: request.name, client: session.options.remote }
          : request.type === "synthesize"
            ? { type: "synthesize", voice: request.voice, streaming: request.streaming, client: session.options.remote }
            : { type: "detect", names: request.names, client: session.options.remote };
      const base = (): NodeMessage => ({ stream_id: session.id, topic: request.type, wyoming: { ...wyoming } });
      const out = (msg: NodeMessage) => node.send(msg as never);
      session.input$.subscribe((input) => {
        switch (input.kind) {
          case "audio":
            return out({ ...base(), payload: input.samples, sample_rate: input.rate });
          case "text": {
            const msg: NodeMessage = { ...base(), payload: input.text };
            if (request.type === "synthesize" && request.voice?.name) msg.voice = request.voice.name;
            // A plain synthesize is one whole text (no is_final); a streamed chunk is a delta.
            if (request.type === "synthesize" && request.streaming) msg.is_final = false;
            return out(msg);
          }
          case "end":
            if (request.type === "synthesize") {
              if (request.streaming) out({ ...base(), payload: "", is_final: true, ...(request.voice?.name ? { voice: request.voice.name } : {}) });
            } else {
              out({ ...base(), finish: true });
              if (request.type === "detect") setTimeout(() => session.detectEnd(), DETECT_SETTLE_MS).unref();
            }
            return;
          case "cancel":
            // The flow stops working on it: whisper-streamer and tts-streamer take cancel with the stream_id.
            if (!closing) out({ ...base(), cancel: true, reason: input.reason });
            return;
        }
      });
      // Session over (answered, failed or gone): forget it once the input completes.
      session.input$.subscribe({
        complete: () => {
          sessions.delete(session);
          removeSession(session);
          scheduleStatus();
        },
      });
    };

    try {
      parseAllowList(def.allow);
      if (!offers.asr && !offers.tts && !offers.wake) throw new Error("offer at least one service: speech-to-text, text-to-speech or wake word");
      const port = def.port === undefined || String(def.port).trim() === "" ? DEFAULT_PORT : Number(def.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port must be a whole number from 1 to 65535, got '${def.port}'`);
      server = new WyomingServer({
        host: def.host?.trim() || "127.0.0.1",
        port,
        allow: def.allow,
        offers,
        services,
        onSession,
        streamTranscripts: def.streamTranscripts !== false,
        maxAudioSeconds: positive(def.maxAudioSeconds, 300, "max audio seconds"),
        answerTimeoutMs: positive(def.answerTimeout, 120, "answer timeout") * 1000,
        log: (level, message) => (level === "warn" ? node.warn(message) : level === "info" ? node.log(message) : node.debug(message)),
      });
    } catch (err) {
      node.status({ fill: "red", shape: "ring", text: (err as Error).message.slice(0, 60) });
      node.error(`wyoming in: ${(err as Error).message}`);
    }

    const started = server
      ?.listen()
      .then((listening) => {
        address = listening;
        if (closing) return;
        showStatus();
        if (listening.beyondLoopback) {
          node.warn(
            `listening on ${listening.host}:${listening.port}, open to the network: Wyoming has no authentication` +
              (list(def.allow).length > 0 ? `; only ${list(def.allow).join(", ")} may connect` : "; set an allow-list of client addresses"),
          );
        } else node.log(`listening on ${listening.host}:${listening.port}`);
        if (def.zeroconf !== false) {
          if (listening.beyondLoopback) {
            const name = def.zeroconfName?.trim() || `node-red-${listening.port}`;
            ad = advertise(name, listening.port, (err) => node.warn(`zeroconf: ${err.message}`));
            node.log(`zeroconf: advertising _wyoming._tcp as '${name}'`);
          } else node.log(`zeroconf: not advertised while bound to ${listening.host} (set a host such as 0.0.0.0 for Home Assistant to find it)`);
        }
      })
      .catch((err: Error) => {
        node.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
        node.error(`wyoming in: ${err.message}`);
      });

    node.on("close", (_removed: boolean, done: () => void) => {
      closing = true;
      if (statusTimer) clearTimeout(statusTimer);
      const stops: Promise<unknown>[] = [];
      if (ad) stops.push(ad.stop());
      if (server) stops.push(Promise.resolve(started).then(() => server!.close()));
      Promise.all(stops).then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType("wyoming-in", WyomingInNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
