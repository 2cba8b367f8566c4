import { strict as assert } from "assert";
import { readWavFile } from "../../src/core/audio/wav";
import { EchoGuard } from "../../src/core/audio/echo-guard";
import { ReferenceChannel } from "../../src/core/audio/reference-bus";
import { Player } from "../../src/core/audio/player";
import { ManualClock } from "../../src/core/audio/clock";
import { NullSink } from "../../src/core/audio/sinks/null-sink";
import { ReferenceTapSink } from "../../src/core/audio/sinks/reference-tap";
import { VoiceActivity } from "../../src/core/vad/activity-stream";
import { builtinVad } from "../../src/core/vad/shared";
import { sharedDir } from "../helpers/paths";

const RATE = 16000;
const FRAME = 320;

async function clip(name: string): Promise<Float32Array> {
  return (await readWavFile(sharedDir("audio", `${name}.wav`))).samples;
}

/** The assistant's speech published as played from t = 0 and heard `delayMs` later at `gain`, plus `user` from `userAt` s. */
function scene(assistant: Float32Array, gain: number, delayMs: number, user?: Float32Array, userAt = 0) {
  const channel = new ReferenceChannel("test");
  channel.publish(assistant, RATE, 0);
  const d = Math.round((delayMs / 1000) * RATE);
  const length = Math.max(assistant.length + d, user ? Math.round(userAt * RATE) + user.length : 0) + RATE;
  const mic = new Float32Array(length);
  for (let i = 0; i < assistant.length; i++) mic[i + d] += gain * assistant[i];
  if (user) for (let i = 0; i < user.length; i++) mic[Math.round(userAt * RATE) + i] += user[i];
  return { channel, mic };
}

/** Speech starts the VAD reports over `mic` (real speech clips), with and without the guard. */
async function speechStarts(mic: Float32Array, channel: ReferenceChannel): Promise<{ on: number[]; off: number[]; guard: EchoGuard }> {
  const vad = await builtinVad();
  const guard = new EchoGuard(channel);
  const on = new VoiceActivity(vad.openState(), { min_silence_ms: 300 }, guard);
  const off = new VoiceActivity(vad.openState(), { min_silence_ms: 300 });
  const result = { on: [] as number[], off: [] as number[], guard };
  for (let at = 0; at + FRAME <= mic.length; at += FRAME) {
    const frame = mic.subarray(at, at + FRAME);
    const endMs = ((at + FRAME) / RATE) * 1000;
    for (const e of await on.push(frame, endMs)) if (e.kind === "speech-start") result.on.push(e.audio_seconds);
    for (const e of await off.push(frame, endMs)) if (e.kind === "speech-start") result.off.push(e.audio_seconds);
  }
  return result;
}

describe("own-voice guard (reference channel + echo guard) on real speech", function () {
  this.timeout(60000);

  it("the assistant's voice at −6 dB, 80 ms late, starts no speech with the guard; without it, it does", async () => {
    const assistant = await clip("neg_16k");
    const { channel, mic } = scene(assistant, 0.5, 80);
    const { on, off, guard } = await speechStarts(mic, channel);
    assert.ok(off.length >= 1, "without the guard the echo is speech");
    assert.deepEqual(on, [], "with the guard the echo is not");
    assert.ok(guard.delayMs !== undefined && Math.abs(guard.delayMs - 80) <= 20, `measured delay ${guard.delayMs} ms`);
    const coupling = 10 * Math.log10(guard.coupling!);
    assert.ok(Math.abs(coupling - -6) < 2, `measured echo level ${coupling.toFixed(1)} dB`);
  });

  it("a person speaking over the assistant (6 dB over its echo) still starts speech with the guard on", async () => {
    const assistant = await clip("neg_16k");
    const person = await clip("count_16k");
    const { channel, mic } = scene(assistant, 0.5, 80, person, 3);
    const { on } = await speechStarts(mic, channel);
    assert.ok(on.some((t) => t > 2.5 && t < 4.5), `speech starts with the guard: ${on.join(", ")}`);
  });

  it("audio-out's tap publishes what the player writes at the time it sounds, and a stop silences the rest", () => {
    const clock = new ManualClock();
    const channel = new ReferenceChannel("tap");
    const player = new Player(new ReferenceTapSink(new NullSink(16000), channel, () => clock.now()), { clock, leadMs: 200 });
    player.enqueue(new Float32Array(16000).fill(0.5), 16000, "s");
    assert.ok(channel.playing(100) && channel.bins.power(0, 100) > 0.2, "the first 200 ms are published for 0–200 ms");
    assert.equal(channel.bins.power(300, 400), 0, "not yet written");
    clock.advance(150);
    assert.ok(channel.bins.power(200, 300) > 0.2, "topped up as playback goes");
    player.stop();
    assert.equal(channel.bins.power(160, 400), 0, "audio dropped by stop never sounds");
    assert.equal(channel.playing(200), false);
  });
});
