import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Player, type PlayerEvent } from "../../src/core/audio/player";
import { choosePlayer, SpeakerSink } from "../../src/core/audio/sinks/speaker-sink";
import { statusTextOf } from "../../src/core/status-text";
import { needTool } from "../helpers/system-tools";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const waitFor = async (check: () => boolean, ms = 5000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("audio speaker sink (real aplay on the ALSA null device)", function () {
  this.timeout(20000);

  it("plays and drains after the audio's duration; stop and close kill the child", async function () {
    needTool(this, "aplay");
    const sink = new SpeakerSink({ player: "aplay", device: "null", sampleRate: 16000 });
    const player = new Player(sink);
    const events: PlayerEvent[] = [];
    player.events$.subscribe((e) => events.push(e));
    const tone = new Float32Array(8000).map((_, i) => 0.3 * Math.sin(i * 0.1));
    const t0 = performance.now();
    player.enqueue(tone, 16000, "sp");
    // The player starts through the process launcher: its pid is known once it started.
    await waitFor(() => sink.pid !== undefined);
    const pid = sink.pid!;
    assert.ok(pid > 0 && alive(pid));
    assert.equal(await player.drain("sp"), "drained");
    assert.ok(performance.now() - t0 >= 495, "drain came before 0.5 s of audio could play");
    assert.equal(sink.bytesWritten, 16000);
    assert.deepEqual(events.map((e) => e.type), ["started", "drained"]);
    // stop: silence now, the child goes; the next audio starts a fresh one.
    player.enqueue(tone, 16000, "sp2");
    player.stop();
    await waitFor(() => !alive(pid));
    player.enqueue(tone, 16000, "sp3");
    await waitFor(() => sink.pid !== undefined);
    const pid2 = sink.pid!;
    assert.ok(pid2 !== pid && alive(pid2));
    await player.close();
    await waitFor(() => !alive(pid2));
    assert.ok(!events.some((e) => e.type === "error"), JSON.stringify(events));
  });

  it("a missing player gives a clear error naming the apt package", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "vs-nopath-"));
    try {
      assert.throws(() => new SpeakerSink({ envPath: empty }), /no audio player found \(looked for aplay, pw-play, paplay, ffplay, play\).*apt-get install alsa-utils/);
      assert.throws(() => choosePlayer("pw-play", empty), /pw-play is not installed: sudo apt-get install pipewire-bin/);
      assert.throws(() => choosePlayer("vlc"), /unknown audio player "vlc"/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it("reports a player that exits on its own (bad device) as an error event, without crashing", async function () {
    needTool(this, "aplay");
    const sink = new SpeakerSink({ player: "aplay", device: "no_such_device_xyz", sampleRate: 16000 });
    const player = new Player(sink);
    const errors: Error[] = [];
    const events: PlayerEvent[] = [];
    player.events$.subscribe((e) => (events.push(e), e.type === "error" && errors.push(e.error)));
    player.enqueue(new Float32Array(1600), 16000, "bad");
    await waitFor(() => errors.length > 0);
    assert.match(errors[0].message, /aplay exited unexpectedly \(code \d+\)/);
    assert.equal(statusTextOf(errors[0]), "no audio device", "aplay says: audio open error");
    // The rest of that stream is dropped, not one failure per chunk; it was not played.
    player.enqueue(new Float32Array(1600), 16000, "bad");
    assert.equal(await player.drain("bad"), "failed");
    assert.equal(errors.length, 1);
    assert.ok(!events.some((e) => e.type === "started" || e.type === "drained"), JSON.stringify(events));
    // The next stream tries the player again (and fails again: the device is still wrong).
    player.enqueue(new Float32Array(1600), 16000, "bad2");
    await waitFor(() => errors.length === 2);
    await player.close();
  });
});
