/**
 * A streamer holds its events only until the first subscriber: a long turn must not keep
 * every partial it has delivered (each carries all text so far, so a full replay buffer grows
 * with the square of the turn's length — the soak's 1-hour turn showed RSS climbing).
 */
import { strict as assert } from "assert";
import { WhisperStreamer } from "../../src/core/asr/streamer";
import { Parrot } from "../helpers/parrot-transcriber";
import type { AsrEvent } from "../../src/core/types";

const waitFor = async (check: () => boolean) => {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(check(), "timed out");
};

describe("asr: streamer event retention", () => {
  it("events before the first subscriber reach it (nothing is lost)", async () => {
    const streamer = new WhisperStreamer(new Parrot(), { partial_interval_ms: 60000 });
    streamer.send(new Float32Array(16000));
    streamer.flush();
    await streamer.finish();
    const events: AsrEvent[] = [];
    await new Promise<void>((resolve) => streamer.partials$.subscribe({ next: (e) => events.push(e), complete: resolve }));
    assert.deepEqual(events.map((e) => e.kind), ["partial", "final"]);
  });

  it("once delivered, events are not kept: a later subscriber gets only what comes after it", async () => {
    const streamer = new WhisperStreamer(new Parrot(), { partial_interval_ms: 60000 });
    const first: AsrEvent[] = [];
    streamer.partials$.subscribe((e) => first.push(e));
    streamer.send(new Float32Array(16000));
    streamer.flush();
    await waitFor(() => first.length === 1);
    const later: AsrEvent[] = [];
    streamer.partials$.subscribe((e) => later.push(e));
    await streamer.finish();
    assert.deepEqual(first.map((e) => e.kind), ["partial", "final"]);
    assert.deepEqual(later.map((e) => e.kind), ["final"], "the partial was not replayed: it was not retained");
  });
});
