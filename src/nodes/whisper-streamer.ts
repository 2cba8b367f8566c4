/**
 * whisper-streamer: live captions from audio frames (PROTOCOL §2). Frames of a turn
 * (`stream_id`, or the node's default turn when absent) go into one AsrStreamer; committed
 * partials leave on output 1, the final transcript (or the cancelled chunk) on output 2 — and,
 * with `emit_speculative`, the speculative final before it (`kind: "speculative"`).
 * `msg.flush` commits settled text, `msg.finish` / `msg.is_final` ends the turn, `msg.cancel`
 * aborts it. Frames after a turn's end are dropped; a turn whose model failed reports once.
 */
import type { Node, NodeAPI } from "node-red";
import type { Subscription } from "rxjs";
import { InferenceCore } from "../core/inference-core";
import type { AsrEngine, AsrEvent, AsrStreamer, VadEngine } from "../core/types";
import type { StreamingResampler } from "../core/audio/resample";
import { readAudioFrame, to16k } from "./shared/audio-frame";
import { startModelNode, type Done, type ModelNodeDef, type Send } from "./shared/node-runtime";
import { deploySettings, type Setting } from "./shared/settings";
import { chunkMessage, hasStreamId, streamIdOf, without, type ChunkLike, type NodeMessage } from "./shared/stream-msg";

interface Turn {
  id: string;
  streamer: AsrStreamer;
  subscription?: Subscription;
  input: NodeMessage; // the opening msg minus audio and controls: its topic etc. ride along
  index: number;
  resampler: StreamingResampler | undefined;
  waiting: Done[];
  stop(): void;
  cancel(): void;
}

const SETTINGS: readonly Setting[] = [
  { key: "language", editor: "language", type: "string", default: "auto" },
  { key: "task", editor: "task", type: "string", choices: ["transcribe", "translate"], default: "transcribe" },
  { key: "partial_interval_ms", editor: "partialIntervalMs", type: "number", min: 0, default: 600 },
  { key: "autoFlush", editor: "autoFlush", type: "boolean", default: false },
  { key: "speculative_final", editor: "speculativeFinal", type: "boolean", default: true },
  { key: "emit_speculative", editor: "emitSpeculative", type: "boolean", default: false },
];
type Settings = { language: string; task: "transcribe" | "translate"; partial_interval_ms: number; autoFlush: boolean; speculative_final: boolean; emit_speculative: boolean };

/** Input fields that describe the incoming frame or control it, not the outgoing chunks. */
const INPUT_ONLY = ["payload", "sample_rate", "is_final", "kind", "finish", "flush", "cancel", "parts", "text", "delta"];

module.exports = function register(RED: NodeAPI) {
  function WhisperStreamerNode(this: Node, config: ModelNodeDef) {
    const node = this;
    const { rt, handle } = startModelNode<Turn, AsrEngine>(RED, this, config, "asr");
    const settings = deploySettings<Settings>(SETTINGS, config);
    // Auto flush at pauses: the built-in VAD, shared through the core like any model.
    const vad = !(settings instanceof Error) && settings.autoFlush ? InferenceCore.shared().share<VadEngine>("vad", { enginesPath: "silero" }) : undefined;
    if (vad) rt.onClose(() => vad.release());
    /** The id of the turn frames without stream_id belong to. */
    let defaultTurnId: string | undefined;

    const listening = () => {
      const turns = rt.streams.all();
      const seconds = turns.reduce((s, t) => s + t.streamer.audioSeconds, 0).toFixed(1);
      return turns.length ? { fill: "blue" as const, shape: "dot" as const, text: `${turns.length === 1 ? "listening" : `${turns.length} turns`} · ${seconds} s` } : undefined;
    };

    const openTurn = async (id: string, msg: NodeMessage, send: Send): Promise<Turn> => {
      if (settings instanceof Error) throw settings;
      const engine = await handle.get();
      const { language, task, partial_interval_ms, speculative_final, emit_speculative } = settings;
      const streamer = engine.openStreamer({ language, task, partial_interval_ms, speculative_final, emit_speculative, pauseDetector: vad && (await vad.model).openDetector({ min_silence_ms: 300 }) });
      const turn: Turn = {
        id, streamer, input: without(msg, INPUT_ONLY), index: 0, resampler: undefined, waiting: [],
        stop: () => turn.subscription?.unsubscribe(),
        cancel: () => streamer.cancel(),
      };
      rt.streams.add(turn);
      const ended = () => {
        rt.streams.end(turn);
        if (defaultTurnId === id) defaultTurnId = undefined;
      };
      turn.subscription = streamer.partials$.subscribe({
        next: (event: AsrEvent) => {
          // A final always lists dropped audio (engines without Whisper's no-speech rule leave it out).
          const chunk = event.kind === "final" ? { ...event, dropped: event.dropped ?? [] } : event;
          const out = chunkMessage(turn.input, chunk as unknown as ChunkLike, id, turn.index++, event.kind === "cancelled" ? String(event.text ?? "") : event.text);
          // Output 2 carries what may end the turn: the final, and the speculative final before it.
          send(event.is_final || event.kind === "speculative" ? [null, out] : [out, null]);
          if (!event.is_final) return;
          ended();
          if (event.kind === "final") rt.status.show({ fill: "green", shape: "dot", text: `done · ${event.audio_seconds.toFixed(1)} s` });
          else rt.status.show({ fill: "yellow", shape: "ring", text: "cancelled" });
          for (const done of turn.waiting.splice(0)) done();
        },
        error: (err: Error) => {
          ended();
          const waiting = turn.waiting.splice(0);
          if (waiting.length === 0) rt.fail(err, undefined, turn.input);
          for (const done of waiting) rt.fail(err, done);
        },
      });
      return turn;
    };

    rt.onInput(async (msg, send, done) => {
      if (msg.cancel === true) {
        rt.cancel(msg);
        return done();
      }
      const finishes = msg.finish === true || msg.is_final === true;
      // Convert before anything opens: a bad frame changes no turn.
      const frame = readAudioFrame(msg);
      const id = hasStreamId(msg) ? streamIdOf(msg) : (defaultTurnId ??= streamIdOf({}));
      let turn = rt.streams.get(id);
      if (!turn) {
        const hasAudio = !!frame && frame.samples.length > 0;
        const failed = rt.streams.hasFailed(id);
        const late = !failed && hasAudio && rt.streams.isLate(id);
        // A turn whose model failed had its one error: the rest of it is dropped until its end.
        if (failed && finishes) rt.streams.clearFailed(id);
        if (late) node.warn(`turn '${id}' has already finished; frames sent after its end were dropped`);
        // Control messages (and empty frames) for a turn that does not exist open nothing.
        if (!hasAudio || failed || late) {
          if (id === defaultTurnId && (finishes || !hasAudio)) defaultTurnId = undefined;
          return done();
        }
        try {
          turn = await openTurn(id, msg, send);
        } catch (err) {
          rt.streams.markFailed(id);
          return rt.fail(err, done);
        }
        if (rt.closed) return done();
      }
      if (frame && frame.samples.length > 0) {
        const samples = to16k(turn, frame);
        if (samples.length > 0) turn.streamer.send(samples);
        rt.status.progress(listening);
      }
      if (msg.flush === true) turn.streamer.flush();
      if (!finishes) return done();
      // Frames without stream_id that come after this one start the next default turn.
      if (defaultTurnId === id) defaultTurnId = undefined;
      const tail = turn.resampler?.flush();
      turn.resampler = undefined;
      if (tail && tail.length > 0) turn.streamer.send(tail);
      rt.streams.finish(turn);
      turn.waiting.push(done);
      rt.status.show({ fill: "blue", shape: "ring", text: "finishing" });
      void turn.streamer.finish();
    }, true);
  }

  RED.nodes.registerType("whisper-streamer", WhisperStreamerNode);
};

