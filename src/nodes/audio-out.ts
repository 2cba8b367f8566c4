/**
 * audio-out: plays audio chunks as they arrive (PROTOCOL §2) through a sink (audio-out-sinks.ts).
 * `msg.is_final === true` plays what is queued, then sends {event: "drained"} (once per stream:
 * a late is_final is ignored); `msg.cancel === true` or a cancelled chunk silences at once
 * ({event: "stopped"}); `msg.pause` / `msg.resume` hold and continue. A stream whose msgs carry
 * `hold: true` waits unplayed until `msg.release` (audio-out-hold.ts). Output: {event, stream_id}
 * messages for started / drained / stopped / underrun.
 */
import type { Node, NodeAPI, NodeDef } from "node-red";
import { hasNonFinite, toFloat32 } from "../core/audio/pcm";
import { Player, type PlayerEvent } from "../core/audio/player";
import { AUDIO_OUT_SETTINGS as SETTINGS, CHUNK_RATE, type AudioOutSettings as Settings } from "./audio-out-settings";
import { HeldStreams } from "./audio-out-hold";
import { annotateText, idleText, makeSink, type Cleanup } from "./audio-out-sinks";
import { NodeRuntime, type Done } from "./shared/node-runtime";
import { deploySettings, readSettings, SettingError } from "./shared/settings";
import { hasStreamId, isCancel, type NodeMessage } from "./shared/stream-msg";
import type { StreamEntry } from "./shared/stream-map";

/** Used when no stream_id comes with the audio: such chunks form one stream. */
const DEFAULT_STREAM = "default";

/** A stream the player holds audio of: remembered so a late is_final is recognised. */
type PlayStream = StreamEntry & { /** Seconds queued so far: where the browser page shows the next msg.text. */ queuedSeconds: number };
const entry = (id: string): PlayStream => ({ id, waiting: [], stop: () => undefined, cancel: () => undefined, queuedSeconds: 0 });

module.exports = function register(RED: NodeAPI) {
  function AudioOutNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const rt = new NodeRuntime<PlayStream>(node);
    const cleanups: Cleanup[] = [];
    let player: Player | undefined;
    let startupError: Error | undefined;
    let lastStreamId = DEFAULT_STREAM;
    /** Streams a stop() in progress reported as stopped. */
    let stoppedNow: Set<string> | undefined;

    const showPlaying = () => {
      const buffered = player?.bufferedSeconds() ?? 0;
      if (!player || buffered <= 0) return;
      const what = player.paused ? "paused" : "playing";
      rt.status.show({ fill: player.paused ? "yellow" : "blue", shape: "dot", text: `${what} · ${buffered.toFixed(1)} s buffered` });
    };

    const onEvent = (event: PlayerEvent) => {
      if (event.type === "error") {
        // The player died (no audio device, ...): red, the whole reason to Catch, and an event
        // so a flow can react; the stream it cut short is never reported started or drained.
        const streamId = event.streamId ?? lastStreamId;
        rt.fail(event.error, undefined, { stream_id: streamId, payload: event.error.message });
        node.send({ event: "error", stream_id: streamId, payload: event.error.message, error: event.error.message } as never);
        return;
      }
      if (event.type === "drained") rt.status.show({ fill: "green", shape: "dot", text: "drained" });
      else if (event.type === "stopped") rt.status.show({ fill: "yellow", shape: "ring", text: "stopped" });
      else if (event.type === "underrun") rt.status.show({ fill: "yellow", shape: "ring", text: "underrun · waiting for audio" });
      if (event.type === "stopped") stoppedNow?.add(event.streamId);
      node.send({ event: event.type, stream_id: event.streamId, payload: event.type } as never);
    };

    try {
      const settings = deploySettings<Settings>(SETTINGS, config);
      if (settings instanceof Error) throw new Error(`audio-out: ${settings instanceof SettingError ? settings.brief : settings.message}`);
      const sink = makeSink(RED, node, settings, cleanups, (browser) => {
        if (player && player.bufferedSeconds() === 0) rt.status.show({ fill: "green", shape: "dot", text: idleText(browser) });
      });
      player = new Player(sink, { leadMs: settings.bufferMs, volume: settings.volume });
      const subscription = player.events$.subscribe(onEvent);
      rt.onClose(() => subscription.unsubscribe()); // no stopped events from a node being closed
      rt.status.show({ fill: "green", shape: "dot", text: idleText(sink) });
      const timer = setInterval(showPlaying, 250);
      rt.onClose(() => clearInterval(timer));
    } catch (err) {
      startupError = err as Error;
      rt.fail(startupError);
    }
    rt.onClose(() => Promise.all(cleanups.map((cleanup) => cleanup())));
    rt.onClose(() => player?.close());
    // A hold nobody released or cancelled in time: its audio is dropped, the flow hears why.
    const held = new HeldStreams((id, msgs) => {
      node.send({ event: "stopped", stream_id: id, payload: "stopped" } as never);
      const reason = new Error(
        `held stream '${id}' got no msg.release (nor a cancel) within ${held.timeoutMs / 1000} s: its audio was dropped unplayed — ` +
          "send {release: true, stream_id} once the turn is confirmed, or a cancel when it is not",
      );
      msgs.slice(0, -1).forEach(({ done }) => done());
      const last = msgs[msgs.length - 1];
      rt.fail(reason, last?.done);
    });
    rt.onClose(() => held.clear());

    const stop = (id: string, done: Done) => {
      stoppedNow = new Set();
      player!.stop();
      const stopped = stoppedNow;
      stoppedNow = undefined;
      for (const stream of rt.streams.all()) rt.streams.end(stream);
      // A cancel always answers with a stopped event for its stream, even when nothing of it was queued.
      if (!stopped.has(id)) {
        rt.status.show({ fill: "yellow", shape: "ring", text: "stopped" });
        node.send({ event: "stopped", stream_id: id, payload: "stopped" } as never);
      }
      done();
    };

    /** Queues one msg's audio (and its is_final) for stream `id`. */
    const play = (msg: NodeMessage, id: string, done: Done) => {
      const final = msg.is_final === true;
      let samples: Float32Array | undefined;
      if (!(final && (msg.payload === undefined || msg.payload === null))) {
        samples = toFloat32(msg.payload, "msg.payload");
        if (hasNonFinite(samples)) throw new Error("msg.payload holds NaN or infinite samples; the audio is broken upstream");
      }
      const { rate } = readSettings<{ rate: number }>(CHUNK_RATE, {}, msg);
      const hasAudio = !!samples && samples.length > 0;
      // A late is_final (its stream already drained, stopped or draining) gives no second drained.
      if (final && !hasAudio && !rt.streams.get(id) && rt.streams.isLate(id)) return done();
      lastStreamId = id;
      if (hasAudio) {
        annotateText(player!.sink, id, msg.text, rt.streams.get(id)?.queuedSeconds ?? 0);
        player!.enqueue(samples!, rate, id);
      }
      const stream = rt.streams.get(id) ?? rt.streams.add(entry(id));
      if (hasAudio) stream.queuedSeconds += samples!.length / rate;
      showPlaying();
      if (!final) return done();
      rt.streams.finish(stream);
      // The msg completes once its stream has played out (or was stopped).
      player!.drain(id).then(() => {
        rt.streams.end(stream);
        done();
      });
    };

    rt.onInput((msg: NodeMessage, _send, done) => {
      if (!player) return rt.fail(startupError ?? new Error("audio-out is not ready"), done);
      const id = msg.stream_id === undefined || msg.stream_id === null || msg.stream_id === "" ? DEFAULT_STREAM : String(msg.stream_id);
      if (isCancel(msg)) {
        // A cancel for every stream (no stream_id) drops the held ones too; a held stream's own only it.
        const dropped = hasStreamId(msg) ? (held.drop(id) ? [id] : []) : held.dropAll();
        for (const stream of dropped) node.send({ event: "stopped", stream_id: stream, payload: "stopped" } as never);
        return hasStreamId(msg) && dropped.length > 0 ? done() : stop(id, done);
      }
      if (held.route(msg, id, done, (m, d) => play(m, id, d), (err, d) => rt.fail(err, d))) return;
      if (msg.pause === true || msg.resume === true) {
        if (msg.pause === true) player.pause();
        else player.resume();
        showPlaying();
        return done();
      }
      play(msg, id, done);
    });
  }

  RED.nodes.registerType("audio-out", AudioOutNode as unknown as Parameters<NodeAPI["nodes"]["registerType"]>[1]);
};
