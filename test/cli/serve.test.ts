import { strict as assert } from "assert";
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { repoRoot, sharedDir } from "../helpers/paths";
import { readWavFile } from "../../src/core/audio/wav";
import { SpecClient, sendAudio, audioSamples, type SpecEvent } from "../helpers/wyoming-spec-client";
import { fakeService, type FakeConnection } from "../helpers/fake-wyoming-service";
import { wakeModelFolder } from "../helpers/wake-models";

const BIN = path.join(repoRoot(), "bin", "voice-stream.js");

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 120000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Served {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `voice-stream serve --port 0 …` and reads the port it listens on from its first line. */
function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (d) => {
      err += String(d);
      const m = /listening on [^\s]+:(\d+)/.exec(err);
      if (m) resolve({ child, port: Number(m[1]), stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

async function transcribe(port: number, samples: Float32Array): Promise<SpecEvent[]> {
  const client = await SpecClient.connect(port);
  client.send("transcribe", { language: "en" });
  sendAudio(client, samples);
  const events = await client.until("transcript-stop", 120000);
  client.destroy();
  return events;
}

describe("cli: voice-stream serve (acceptance, a client written from the spec)", function () {
  this.timeout(240000);
  let served: Served;
  let whisper: string;
  const wav = sharedDir("audio", "hello_16k.wav");

  before(async () => {
    whisper = await fixtureDir("tiny-whisper");
    served = await serve(["--asr", whisper, "--tts", "espeak"]);
  });
  after(async () => {
    served?.child.kill("SIGINT");
    await served?.exited;
  });

  it("info offers asr and tts, both streaming", async () => {
    const client = await SpecClient.connect(served.port);
    client.send("describe");
    const info = await client.next();
    client.destroy();
    assert.equal(info.type, "info");
    const asr = info.data.asr as { name: string; supports_transcript_streaming: boolean; models: { languages: string[] }[] }[];
    const tts = info.data.tts as { supports_synthesize_streaming: boolean; voices: { name: string }[] }[];
    assert.equal(asr.length, 1);
    assert.equal(asr[0].name, "tiny-whisper");
    assert.equal(asr[0].supports_transcript_streaming, true);
    assert.ok(asr[0].models[0].languages.includes("en"));
    assert.equal(tts.length, 1);
    assert.equal(tts[0].supports_synthesize_streaming, true);
    assert.ok(tts[0].voices.some((v) => v.name === "en-us"));
  });

  it("two sessions at once get the transcript `voice-stream asr` prints for the same WAV", async () => {
    const reference = cli(["asr", "--model", whisper, "--input", wav, "--language", "en", "--json"]);
    assert.equal(reference.status, 0, reference.stderr);
    const final = JSON.parse(reference.stdout.trim().split("\n").pop()!);
    assert.equal(final.kind, "final");
    assert.ok(final.text.trim().length > 0, "the tiny model transcribes something");
    const audio = (await readWavFile(wav)).samples;
    const [a, b] = await Promise.all([transcribe(served.port, audio), transcribe(served.port, audio)]);
    for (const events of [a, b]) {
      const transcript = events.find((e) => e.type === "transcript")!;
      assert.equal(transcript.data.text, final.text);
      assert.equal(events[0].type, "transcript-start");
      assert.equal(events[events.length - 1].type, "transcript-stop");
    }
  });

  it("`voice-stream asr --model wyoming://…` against it prints the same final", async () => {
    const local = JSON.parse(cli(["asr", "--model", whisper, "--input", wav, "--language", "en", "--json"]).stdout.trim().split("\n").pop()!);
    const remote = cli(["asr", "--model", `wyoming://127.0.0.1:${served.port}`, "--input", wav, "--language", "en", "--json"]);
    assert.equal(remote.status, 0, remote.stderr);
    const final = JSON.parse(remote.stdout.trim().split("\n").pop()!);
    assert.equal(final.kind, "final");
    assert.equal(final.text, local.text);
  });

  it("plain synthesize: audio-start, audio, audio-stop", async () => {
    const client = await SpecClient.connect(served.port);
    client.send("synthesize", { text: "Hello from Node-RED.", voice: { name: "en-us" } });
    const events = await client.until("audio-stop", 60000);
    client.destroy();
    assert.equal(events[0].type, "audio-start");
    assert.equal(events[0].data.rate, 24000);
    assert.ok(audioSamples(events) > 24000 * 0.5, String(audioSamples(events)));
  });

  it("streaming synthesize speaks its first sentence before its last text chunk arrives, and ends in synthesize-stopped", async () => {
    const client = await SpecClient.connect(served.port);
    const t0 = Date.now();
    client.send("synthesize-start", { voice: { name: "en-us" } });
    client.send("synthesize-chunk", { text: "The first sentence is short. " });
    client.send("synthesize-chunk", { text: "The second" });
    // Order, not time: the last chunk is held back until audio has come, so audio first proves it.
    const before = await client.until("audio-chunk", 60000);
    const firstAudio = Date.now() - t0;
    assert.ok(audioSamples(before) > 0);
    client.send("synthesize-chunk", { text: " one ends here." });
    client.send("synthesize", { text: "The first sentence is short. The second one ends here." });
    client.send("synthesize-stop");
    const rest = await client.until("synthesize-stopped", 60000);
    client.destroy();
    const types = [...before, ...rest].map((e) => e.type);
    assert.equal(types.filter((t) => t === "audio-start").length, 1);
    assert.equal(types[types.length - 2], "audio-stop");
    const total = audioSamples([...before, ...rest]);
    assert.ok(total > audioSamples(before));
    console.log(`      first audio ${firstAudio} ms after synthesize-start, ${(total / 24000).toFixed(2)} s spoken once`);
  });

  it("`voice-stream tts --model wyoming://…` against it streams chunks and a final", () => {
    const r = cli(["tts", "--model", `wyoming://127.0.0.1:${served.port}`, "--text", "Hello there. How are you?", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const final = lines.pop();
    assert.equal(final.is_final, true);
    assert.ok(lines.length >= 2 && lines.every((l) => l.samples > 0 && l.sample_rate === 24000), r.stdout);
    // The server streams synthesis, so the engine sent the text as it came: chunks carry the text sent so far.
    assert.deepEqual([...new Set(lines.map((l) => l.text))], ["Hello there. How are you?"]);
    assert.ok(final.audio_seconds > 0.5, JSON.stringify(final));
  });

  it("--wake wyoming://… offers that service's wake words and passes its detections on", async () => {
    const wake = await fakeService((event, c: FakeConnection & { samples?: number }) => {
      if (event.type === "audio-chunk") {
        const before = c.samples ?? 0;
        c.samples = before + (event.payload?.length ?? 0) / 2;
        if (before < 8000 && c.samples >= 8000) c.send("detection", { name: "ok_nabu", timestamp: 500 });
      }
    });
    const own = await serve(["--wake", wake.url]);
    try {
      const client = await SpecClient.connect(own.port);
      client.send("describe");
      const info = await client.next();
      assert.deepEqual((info.data.wake as { models: { name: string }[] }[])[0].models.map((m) => m.name), ["ok_nabu"]);
      client.send("detect", { names: ["ok_nabu"] });
      sendAudio(client, new Float32Array(16000));
      const events = await client.until("detection");
      assert.equal(events[events.length - 1].data.name, "ok_nabu");
      assert.equal(events[events.length - 1].data.timestamp, 500);
      client.destroy();
    } finally {
      own.child.kill("SIGINT");
      await own.exited;
      await wake.close();
    }
  });

  it("--wake <openWakeWord folder> offers its heads and detects hey jarvis in real speech", async () => {
    const own = await serve(["--wake", wakeModelFolder(["hey_jarvis_v0.1"])]);
    try {
      const client = await SpecClient.connect(own.port);
      client.send("describe");
      const info = await client.next();
      assert.deepEqual((info.data.wake as { models: { name: string }[] }[])[0].models.map((m) => m.name), ["hey_jarvis_v0.1"]);
      client.send("detect", { names: ["hey_jarvis_v0.1"] });
      const speech = await readWavFile(sharedDir("audio", "hey_jarvis_16k.wav"));
      assert.equal(speech.sampleRate, 16000);
      sendAudio(client, speech.samples);
      const events = await client.until("detection");
      assert.equal(events[events.length - 1].data.name, "hey_jarvis_v0.1");
      client.destroy();
    } finally {
      own.child.kill("SIGINT");
      await own.exited;
    }
  });

  it("bad command lines are one line and exit 2", () => {
    for (const args of [["serve"], ["serve", "--port", "x", "--tts", "espeak"], ["serve", "--port", "0"], ["serve", "--port", "0", "--wake", "/some/dir"]]) {
      const r = cli(args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /^voice-stream serve: /);
    }
  });

  it("asr and tts against a Wyoming address where nothing listens: one line naming it, exit 1", async () => {
    const net = await import("net");
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const port = (probe.address() as import("net").AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    for (const args of [["asr", "--model", `wyoming://127.0.0.1:${port}`, "--input", wav], ["tts", "--model", `wyoming://127.0.0.1:${port}`, "--text", "Hi."]]) {
      const r = cli(args);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^voice-stream ${args[0]}: Wyoming service wyoming://127.0.0.1:${port} refused the connection`));
    }
  });

  it("Ctrl-C ends an open session with an error event and exits 0", async () => {
    const own = await serve(["--tts", "espeak"]);
    const client = await SpecClient.connect(own.port);
    client.send("synthesize-start");
    client.send("synthesize-chunk", { text: "Still talking" });
    await new Promise((r) => setTimeout(r, 200));
    own.child.kill("SIGINT");
    const events = await client.drainToEnd(20000);
    assert.equal(events[events.length - 1].type, "error");
    assert.equal(events[events.length - 1].data.code, "server-stopping");
    assert.equal(await own.exited, 0);
  });
});
