/**
 * whisper-streamer: live captions from audio frames (PROTOCOL §2). Frames of a turn
 * (`stream_id`, or the node's default turn when absent) go into one AsrStreamer; committed
 * partials leave on output 1, the final transcript (or the cancelled chunk) on output 2.
 * `msg.flush` commits settled text, `msg.finish` / `msg.is_final` ends the turn, `msg.cancel`
 * aborts it. Frames are converted to 16 kHz mono floats here (any rate, Float32Array,
 * Int16Array, Buffer of s16le or number[]).
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Subscription } from "rxjs";
import type { AsrEngine, AsrEvent, AsrStreamer } from "../core/types";
import { firstNonFiniteIndex, toFloat32 } from "../core/audio/pcm";
import { StreamingResampler } from "../core/audio/resample";
import { builtinVad } from "../core/vad/engines/silero/shared";
import { attachModel } from "./shared/model-client";
import { chunkMessage, streamIdOf, type ChunkLike, type NodeMessage } from "./shared/stream-msg";

interface WhisperStreamerNodeDef extends NodeDef {
  model?: string;
  language?: string;
  task?: "transcribe" | "translate";
  partialIntervalMs?: string | number;
  autoFlush?: boolean;
}

type Send = (msg: (NodeMessage | null)[]) => void;
type Done = (err?: Error) => void;

interface Turn {
  id: string;
  streamer: AsrStreamer;
  subscription: Subscription;
  /** The msg that opened the turn, minus its audio and controls: its properties (topic, ...) ride along. */
  input: NodeMessage;
  index: number;
  resampler: StreamingResampler | undefined;
  /** done() callbacks of msgs that wait for the turn's end (finish). */
  waiting: Done[];
}

const TARGET_RATE = 16000;
const STATUS_INTERVAL_MS = 250;
/** Input fields that describe the incoming frame or control it, not the outgoing chunks. */
const INPUT_ONLY = ["payload", "sample_rate", "is_final", "kind", "finish", "flush", "cancel", "parts", "text", "delta"];

function numberSetting(value: string | number | undefined, fallback: number): number {
  if (value === undefined || value === null || String(value).trim() === "") return fallback;
  return Number(value);
}

module.exports = function (RED: NodeAPI) {
  function WhisperStreamerNode(this: Node, config: WhisperStreamerNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const handle = attachModel<AsrEngine>(RED, node, config.model, "asr");
    const language = (config.language ?? "").trim() || "auto";
    const interval = numberSetting(config.partialIntervalMs, 600);
    const turns = new Map<string, Turn>();
    /** The id of the turn frames without stream_id belong to. */
    let defaultTurnId: string | undefined;
    /** Inputs are handled one after another, so a frame never overtakes the model load or an earlier frame. */
    let queue: Promise<void> = Promise.resolve();
    let statusTimer: NodeJS.Timeout | undefined;

    const showStatus = () => {
      statusTimer = undefined;
      if (turns.size === 0) return;
      const seconds = [...turns.values()].reduce((s, t) => s + t.streamer.audioSeconds, 0);
      const text = turns.size === 1 ? `listening · ${seconds.toFixed(1)} s` : `${turns.size} turns · ${seconds.toFixed(1)} s`;
      node.status({ fill: "blue", shape: "dot", text });
    };
    const scheduleStatus = () => {
      statusTimer ??= setTimeout(showStatus, STATUS_INTERVAL_MS);
    };

    const fail = (err: Error, done: Done) => {
      node.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
      done(err);
    };

    const closeTurn = (turn: Turn) => {
      turns.delete(turn.id);
      if (defaultTurnId === turn.id) defaultTurnId = undefined;
    };

    const openTurn = async (id: string, msg: NodeMessage): Promise<Turn> => {
      const engine = await handle.get();
      const input: NodeMessage = { ...msg };
      for (const field of INPUT_ONLY) delete input[field];
      const streamer = engine.openStreamer({
        language,
        task: config.task === "translate" ? "translate" : "transcribe",
        partial_interval_ms: interval,
        pauseDetector: config.autoFlush ? (await builtinVad()).openDetector({ min_silence_ms: 300 }) : undefined,
      });
      const turn: Turn = { id, streamer, input, index: 0, resampler: undefined, waiting: [], subscription: undefined as unknown as Subscription };
      turns.set(id, turn);
      const send = (event: AsrEvent) => {
        const out = chunkMessage(turn.input, event as unknown as ChunkLike, id, turn.index++, event.kind === "cancelled" ? String(event.text ?? "") : event.text);
        (node.send as Send)(event.is_final ? [null, out] : [out, null]);
      };
      turn.subscription = streamer.partials$.subscribe({
        next: (event) => {
          send(event);
          if (event.is_final) {
            closeTurn(turn);
            if (event.kind === "final") node.status({ fill: "green", shape: "dot", text: `done · ${event.audio_seconds.toFixed(1)} s` });
            else node.status({ fill: "yellow", shape: "ring", text: "cancelled" });
            for (const d of turn.waiting.splice(0)) d();
          }
        },
        error: (err: Error) => {
          closeTurn(turn);
          const waiting = turn.waiting.splice(0);
          if (waiting.length === 0) {
            node.status({ fill: "red", shape: "ring", text: err.message.slice(0, 60) });
            node.error(err, turn.input);
          }
          for (const d of waiting) fail(err, d);
        },
      });
      return turn;
    };

    const handleInput = async (msg: NodeMessage, done: Done): Promise<void> => {
      if (msg.cancel === true) {
        const target = msg.stream_id !== undefined ? turns.get(String(msg.stream_id)) : undefined;
        for (const turn of target ? [target] : msg.stream_id === undefined ? [...turns.values()] : []) turn.streamer.cancel();
        return done();
      }
      const finishes = msg.finish === true || msg.is_final === true;
      const hasFrame = msg.payload !== undefined && msg.payload !== null;
      // Convert before anything opens: a bad frame changes no turn.
      let samples: Float32Array | undefined;
      let rate = TARGET_RATE;
      if (hasFrame) {
        try {
          samples = toFloat32(msg.payload, "msg.payload");
        } catch (err) {
          return fail(err as Error, done);
        }
        const bad = firstNonFiniteIndex(samples);
        if (bad >= 0) return fail(new Error(`audio frame sample ${bad} is ${samples[bad]}; samples must be finite numbers (the frame was dropped)`), done);
        if (msg.sample_rate !== undefined) {
          rate = Number(msg.sample_rate);
          // The resampler converts between whole rates (its filter phases come from their ratio).
          if (!Number.isInteger(rate) || rate <= 0) {
            return fail(new Error(`msg.sample_rate must be a positive whole number of samples per second, e.g. 16000 or 48000 (got ${String(msg.sample_rate)})`), done);
          }
        }
      }
      let id: string;
      if (msg.stream_id !== undefined && msg.stream_id !== null && msg.stream_id !== "") id = streamIdOf(msg);
      else id = defaultTurnId ??= streamIdOf({});
      let turn = turns.get(id);
      if (!turn) {
        // Control messages (and empty frames) for a turn that does not exist open nothing.
        if (!samples || samples.length === 0) {
          if (id === defaultTurnId) defaultTurnId = undefined;
          return done();
        }
        turn = await openTurn(id, msg);
      }
      if (samples && samples.length > 0) {
        if (rate !== TARGET_RATE && (!turn.resampler || turn.resampler.fromRate !== rate)) turn.resampler = new StreamingResampler(rate, TARGET_RATE);
        const frame = rate === TARGET_RATE ? samples.slice() : turn.resampler!.push(samples);
        if (frame.length > 0) turn.streamer.send(frame);
        scheduleStatus();
      }
      if (msg.flush === true) turn.streamer.flush();
      if (!finishes) return done();
      // Frames without stream_id that come after this one start the next default turn.
      if (defaultTurnId === id) defaultTurnId = undefined;
      const tail = turn.resampler?.flush();
      // A flushed resampler takes no more input; a late frame gets the streamer's "ended" error instead.
      turn.resampler = undefined;
      if (tail && tail.length > 0) turn.streamer.send(tail);
      turn.waiting.push(done);
      node.status({ fill: "blue", shape: "ring", text: "finishing" });
      void turn.streamer.finish();
    };

    node.on("input", (msg: NodeMessage, _send: unknown, done: Done) => {
      queue = queue.then(() => handleInput(msg, done)).catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err)), done));
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      if (statusTimer) clearTimeout(statusTimer);
      for (const turn of [...turns.values()]) {
        turn.streamer.cancel();
        turn.subscription.unsubscribe();
      }
      turns.clear();
      handle.detach().then(() => done(), () => done());
    });
  }

  RED.nodes.registerType("whisper-streamer", WhisperStreamerNode);
};
