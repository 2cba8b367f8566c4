import { strict as assert } from "assert";
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as net from "net";
import { lastValueFrom, Subject, toArray } from "rxjs";
import { WyomingAsrEngine } from "../../src/core/asr/engines/wyoming/wyoming-asr-engine";
import { WyomingTtsEngine } from "../../src/core/tts/engines/wyoming/wyoming-tts-engine";
import { WyomingWakeEngine } from "../../src/core/wake/engines/wyoming/wyoming-wake-engine";
import { loadModel } from "../../src/core/registry";
import type { AsrEvent, TtsStreamChunk } from "../../src/core/types";
import { fakeService, FAKE_INFO, type FakeConnection, type FakeService } from "../helpers/fake-wyoming-service";
import { pcm16 } from "../helpers/wyoming-spec-client";

function collect<T>(o: import("rxjs").Observable<T>): { items: T[]; done: Promise<T[]> } {
  const items: T[] = [];
  const done = new Promise<T[]>((resolve, reject) => o.subscribe({ next: (v) => items.push(v), complete: () => resolve(items), error: reject }));
  return { items, done };
}

/** Stereo s16le of `frames` frames with left = right = value. */
function stereo(frames: number, value: number): Buffer {
  const mono = pcm16(new Float32Array(frames).fill(value));
  const out = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    mono.copy(out, 4 * i, 2 * i, 2 * i + 2);
    mono.copy(out, 4 * i + 2, 2 * i, 2 * i + 2);
  }
  return out;
}

/** A speech-to-text service: counts audio, then streams "hello " "world" and the transcript. */
function asrScript(event: { type: string; data: Record<string, unknown>; payload?: Buffer }, c: FakeConnection & { samples?: number }) {
  if (event.type === "audio-chunk") c.samples = (c.samples ?? 0) + (event.payload?.length ?? 0) / 2;
  if (event.type === "audio-stop") {
    c.send("transcript-start", { language: "en" });
    c.send("transcript-chunk", { text: "hello " });
    c.send("transcript-chunk", { text: "world" });
    c.send("transcript", { text: `hello world ${c.samples}` });
    c.send("transcript-stop");
  }
}

describe("wyoming client engines", function () {
  this.timeout(30000);
  const services: FakeService[] = [];
  const fake = async (...args: Parameters<typeof fakeService>) => {
    const s = await fakeService(...args);
    services.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
  });

  it("asr: transcribe + audio → transcript-chunks as partials, then the final; the registry opens wyoming:// without files", async () => {
    const service = await fake(asrScript);
    const engine = (await loadModel("asr", { enginesPath: service.url, config: { model: "tiny" } })) as WyomingAsrEngine;
    assert.ok(engine instanceof WyomingAsrEngine);
    const streamer = engine.openStreamer({ language: "en" });
    const events = collect<AsrEvent>(streamer.partials$);
    for (let i = 0; i < 10; i++) streamer.send(new Float32Array(320).fill(0.1));
    assert.equal(await streamer.finish(), "hello world 3200");
    const all = await events.done;
    assert.deepEqual(all.map((e) => [e.kind, e.text]), [["partial", "hello "], ["partial", "hello world"], ["final", "hello world 3200"]]);
    const final = all[2] as Extract<AsrEvent, { kind: "final" }>;
    assert.equal(final.language, "en");
    assert.equal(final.audio_seconds, 0.2);
    const conn = service.connections[service.connections.length - 1];
    assert.deepEqual(conn.events.slice(0, 2).map((e) => [e.type, e.data]), [["transcribe", { language: "en", name: "tiny" }], ["audio-start", { rate: 16000, width: 2, channels: 1 }]]);
    assert.equal(conn.events[conn.events.length - 1].type, "audio-stop");
    // describe was asked once for this target, however many streams.
    await engine.transcribe(new Float32Array(1600));
    assert.equal(service.connections.filter((c) => c.events.some((e) => e.type === "describe")).length, 1);
    await engine.dispose();
  });

  it("tts without streaming support: one synthesize per sentence, stereo 22.05 kHz audio becomes mono at sample_rate_out", async () => {
    const service = await fake((event, c) => {
      if (event.type !== "synthesize") return;
      const text = String(event.data.text);
      c.send("audio-start", { rate: 22050, width: 2, channels: 2 });
      c.send("audio-chunk", { rate: 22050, width: 2, channels: 2 }, stereo(text.length * 100, 0.25));
      c.send("audio-stop");
    });
    const engine = (await loadModel("tts", { enginesPath: service.url })) as WyomingTtsEngine;
    assert.deepEqual(engine.voices, ["alice", "bob"]);
    const streamer = engine.openStreamer({ voice: "bob", sample_rate_out: 24000 });
    const out = collect<TtsStreamChunk>(streamer.output$);
    streamer.send("Hello there. ");
    streamer.send("How are you?");
    streamer.finish();
    const chunks = await out.done;
    const audio = chunks.filter((c) => c.kind === "audio" && c.audio.length > 0) as Extract<TtsStreamChunk, { kind: "audio" }>[];
    assert.deepEqual([...new Set(audio.map((c) => c.text))], ["Hello there.", "How are you?"]);
    assert.ok(audio.every((c) => c.sample_rate === 24000));
    // 2 × 1200 frames at 22.05 kHz resampled to 24 kHz; the level survives the mixdown.
    const total = audio.reduce((n, c) => n + c.audio.length, 0);
    assert.ok(Math.abs(total - (2400 * 24000) / 22050) <= 2, String(total));
    assert.ok(Math.abs(audio[1].audio[100] - 0.25) < 0.01, String(audio[1].audio[100]));
    const final = chunks[chunks.length - 1] as Extract<TtsStreamChunk, { kind: "audio" }>;
    assert.equal(final.is_final, true);
    assert.ok(Math.abs((final.audio_seconds ?? 0) - total / 24000) < 1e-6);
    const synths = service.connections.flatMap((c) => c.events.filter((e) => e.type === "synthesize"));
    assert.deepEqual(synths.map((e) => e.data), [{ text: "Hello there.", voice: { name: "bob" } }, { text: "How are you?", voice: { name: "bob" } }]);
    assert.throws(() => engine.openStreamer({ voice: "carol" }), /has no voice 'carol'; it offers alice, bob/);
  });

  it("tts without streaming support: first_span_words makes the first synthesize the sentence's first words; bad stream settings are refused as for every voice", async () => {
    const service = await fake((event, c) => {
      if (event.type !== "synthesize") return;
      c.send("audio-start", { rate: 22050, width: 2, channels: 1 });
      c.send("audio-chunk", { rate: 22050, width: 2, channels: 1 }, Buffer.alloc(400));
      c.send("audio-stop");
    });
    const engine = (await loadModel("tts", { enginesPath: service.url })) as WyomingTtsEngine;
    assert.throws(() => engine.openStreamer({ first_span_words: 1.5 }), /first_span_words must be a whole number of words from 0 \(off\) to 100, got 1.5/);
    assert.throws(() => engine.openStreamer({ sample_rate_out: 100 }), /sample_rate_out must be a whole number of Hz between 8000 and 192000, got 100/);
    const streamer = engine.openStreamer({ first_span_words: 3 });
    const out = collect<TtsStreamChunk>(streamer.output$);
    streamer.send("The kitchen light in the north wing is on now. Goodbye.");
    streamer.finish();
    await out.done;
    const synths = service.connections.flatMap((c) => c.events.filter((e) => e.type === "synthesize"));
    assert.deepEqual(synths.map((e) => e.data.text), ["The kitchen light", "in the north wing is on now.", "Goodbye."]);
  });

  it("tts with streaming support: synthesize-start, chunks as they come, the compat synthesize, synthesize-stop → audio until synthesize-stopped", async () => {
    const info = { ...FAKE_INFO, tts: [{ ...FAKE_INFO.tts[0], supports_synthesize_streaming: true }] };
    const service = await fake((event, c) => {
      if (event.type === "synthesize-chunk") {
        c.send("audio-start", { rate: 16000, width: 2, channels: 1 });
        c.send("audio-chunk", { rate: 16000, width: 2, channels: 1 }, pcm16(new Float32Array(160).fill(0.5)));
        c.send("audio-stop");
      }
      if (event.type === "synthesize-stop") c.send("synthesize-stopped");
    }, info);
    const engine = (await loadModel("tts", { enginesPath: service.url })) as WyomingTtsEngine;
    const streamer = engine.openStreamer({});
    const out = collect<TtsStreamChunk>(streamer.output$);
    streamer.send("Hello. ");
    // The first audio comes back before the text is finished.
    while (out.items.length === 0) await new Promise((r) => setTimeout(r, 5));
    streamer.send("Bye.");
    streamer.finish();
    const chunks = await out.done;
    assert.equal(chunks.filter((c) => c.kind === "audio" && c.audio.length > 0).length, 2);
    const types = service.connections[service.connections.length - 1].events.map((e) => e.type);
    assert.deepEqual(types, ["synthesize-start", "synthesize-chunk", "synthesize-chunk", "synthesize", "synthesize-stop"]);
  });

  it("wake: detect + audio → detection events, then the stream ends", async () => {
    const service = await fake((event, c: FakeConnection & { samples?: number; heard?: boolean }) => {
      if (event.type === "audio-chunk") {
        c.samples = (c.samples ?? 0) + (event.payload?.length ?? 0) / 2;
        if (c.samples >= 8000 && !c.heard) {
          c.heard = true;
          c.send("detection", { name: "ok_nabu", timestamp: 500 });
        }
      }
      if (event.type === "audio-stop" && !c.heard) c.send("not-detected");
    });
    const engine = await WyomingWakeEngine.open({ enginesPath: service.url });
    assert.deepEqual(engine.wakeWords, ["ok_nabu"]);
    const frames = new Subject<Float32Array>();
    const result = lastValueFrom(engine.detect(frames, { names: ["ok_nabu"] }).pipe(toArray()));
    for (let i = 0; i < 50; i++) frames.next(new Float32Array(320));
    frames.complete();
    assert.deepEqual(await result, [{ kind: "wake", name: "ok_nabu", score: 1, audio_seconds: 0.5 }]);
    const quiet = new Subject<Float32Array>();
    const none = lastValueFrom(engine.detect(quiet).pipe(toArray()));
    quiet.next(new Float32Array(320));
    quiet.complete();
    assert.deepEqual(await none, []);
  });

  it("wake: a voice-model of kind wake at wyoming:// loads as the wake family's engine, paces frames and detects", async () => {
    const service = await fake((event, c: FakeConnection & { samples?: number; heard?: boolean }) => {
      if (event.type === "audio-chunk") {
        c.samples = (c.samples ?? 0) + (event.payload?.length ?? 0) / 2;
        if (c.samples >= 8000 && !c.heard) {
          c.heard = true;
          c.send("detection", { name: "ok_nabu", timestamp: 500 });
        }
      }
    });
    const engine = (await loadModel("wake", { enginesPath: service.url })) as WyomingWakeEngine;
    assert.equal(engine.kind, "wake");
    assert.deepEqual(engine.names, ["ok_nabu"]);
    let taken = 0;
    const frames = new Subject<Float32Array>();
    const result = lastValueFrom(engine.detect(frames, { onFrame: () => taken++ }).pipe(toArray()));
    for (let i = 0; i < 50; i++) frames.next(new Float32Array(320));
    frames.complete();
    assert.deepEqual(await result, [{ kind: "wake", name: "ok_nabu", score: 1, audio_seconds: 0.5 }]);
    assert.equal(taken, 50, "every frame acknowledged once");
    await engine.dispose();
  });
});

describe("wyoming client faults name the service and what to check", function () {
  this.timeout(30000);
  const services: FakeService[] = [];
  const fake = async (...args: Parameters<typeof fakeService>) => {
    const s = await fakeService(...args);
    services.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
  });

  it("connection refused", async () => {
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, "127.0.0.1", () => r()));
    const port = (free.address() as net.AddressInfo).port;
    await new Promise<void>((r) => free.close(() => r()));
    await assert.rejects(WyomingAsrEngine.open({ enginesPath: `wyoming://127.0.0.1:${port}` }), new RegExp(`wyoming://127.0.0.1:${port} refused the connection: check that the service runs`));
  });

  it("unknown host, and an address that is not wyoming://host:port", async () => {
    await assert.rejects(WyomingTtsEngine.open({ enginesPath: "wyoming://no-such-host.invalid:10200" }), /wyoming:\/\/no-such-host.invalid:10200: unknown host 'no-such-host.invalid'; check the host name/);
    await assert.rejects(WyomingTtsEngine.open({ enginesPath: "wyoming://host-without-port" }), /write it as wyoming:\/\/host:port/);
  });

  it("a service that offers none of the family", async () => {
    const service = await fake(() => undefined, { asr: [], tts: [], wake: [] });
    await assert.rejects(WyomingAsrEngine.open({ enginesPath: service.url }), /offers no speech-to-text/);
  });

  it("a header that is not JSON fails the stream; partials already sent stay", async () => {
    const service = await fake((event, c) => {
      if (event.type === "audio-stop") {
        c.send("transcript-chunk", { text: "kept" });
        c.raw("<html>not wyoming</html>\n");
      }
    });
    const engine = await WyomingAsrEngine.open({ enginesPath: service.url });
    const streamer = engine.openStreamer({});
    const out = collect<AsrEvent>(streamer.partials$);
    streamer.send(new Float32Array(320));
    await assert.rejects(streamer.finish(), new RegExp(`Wyoming service ${service.url} sent a malformed event \\(header-not-json\\)`));
    await assert.rejects(out.done);
    assert.deepEqual(out.items.map((e) => e.text), ["kept"]);
  });

  it("a payload shorter than declared", async () => {
    const service = await fake((event, c) => {
      if (event.type !== "synthesize") return;
      c.send("audio-start", { rate: 22050, width: 2, channels: 1 });
      c.raw(Buffer.concat([Buffer.from(JSON.stringify({ type: "audio-chunk", data: { rate: 22050, width: 2, channels: 1 }, payload_length: 1000 }) + "\n"), Buffer.alloc(10)]));
      c.socket.end();
    });
    const engine = await WyomingTtsEngine.open({ enginesPath: service.url });
    const streamer = engine.openStreamer({});
    const out = collect<TtsStreamChunk>(streamer.output$);
    streamer.send("Hello.");
    streamer.finish();
    await assert.rejects(out.done, new RegExp(`Wyoming service ${service.url} closed the connection mid-event: .*payload_length 1000`));
  });

  it("a service that closes mid-session", async () => {
    const service = await fake((event, c) => {
      if (event.type === "audio-stop") c.socket.end();
    });
    const engine = await WyomingAsrEngine.open({ enginesPath: service.url });
    const streamer = engine.openStreamer({});
    streamer.partials$.subscribe({ error: () => undefined });
    streamer.send(new Float32Array(320));
    await assert.rejects(streamer.finish(), new RegExp(`Wyoming service ${service.url} closed the connection before sending the transcript`));
  });

  it("an error event from the service", async () => {
    const service = await fake((event, c) => {
      if (event.type === "synthesize") c.send("error", { text: "voice not installed", code: "no-voice" });
    });
    const engine = await WyomingTtsEngine.open({ enginesPath: service.url });
    const streamer = engine.openStreamer({});
    streamer.send("Hi.");
    streamer.finish();
    await assert.rejects(lastValueFrom(streamer.output$), /answered with an error \(no-voice\): voice not installed/);
  });

  it("connect timeout (a listener whose queue is full) and idle timeout (a service that never answers), both settable", async function () {
    if (spawnSync("python3", ["--version"]).error && !process.env.CI) {
      console.log("      skipped: needs python3 (apt-get install python3) to hold a listener with a full accept queue");
      this.skip();
    }
    let python: ChildProcess | undefined;
    const filler: net.Socket[] = [];
    try {
      python = spawn("python3", ["-c", "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)"]);
      const port = await new Promise<number>((resolve, reject) => {
        python!.on("error", reject);
        python!.stdout!.once("data", (d) => resolve(Number(String(d).trim())));
      });
      // Fill the accept queue: the next connection hangs in the handshake.
      for (let i = 0; i < 2; i++) filler.push(net.connect({ port, host: "127.0.0.1" }).on("error", () => undefined));
      await new Promise((r) => setTimeout(r, 100));
      await assert.rejects(
        WyomingAsrEngine.open({ enginesPath: `wyoming://127.0.0.1:${port}`, config: { connect_timeout_ms: 300 } }),
        new RegExp(`wyoming://127.0.0.1:${port} did not accept a connection within 0.3 s`),
      );
    } finally {
      filler.forEach((s) => s.destroy());
      python?.kill();
    }
    const silent = await fake(() => undefined);
    const engine = await WyomingAsrEngine.open({ enginesPath: silent.url, config: { idle_timeout_ms: 300 } });
    const streamer = engine.openStreamer({});
    streamer.partials$.subscribe({ error: () => undefined });
    streamer.send(new Float32Array(320));
    await assert.rejects(streamer.finish(), new RegExp(`${silent.url} sent nothing for 0.3 s while an answer was due`));
  });

  it("a service that ignores cancel: the cancelled final at once, nothing after it, and the service sees the connection closed", async () => {
    const service = await fake((event, c) => {
      if (event.type !== "synthesize") return;
      c.send("audio-start", { rate: 16000, width: 2, channels: 1 });
      const timer = setInterval(() => {
        if (c.closed) return clearInterval(timer);
        c.send("audio-chunk", { rate: 16000, width: 2, channels: 1 }, pcm16(new Float32Array(160)));
      }, 5);
    });
    const engine = await WyomingTtsEngine.open({ enginesPath: service.url });
    const streamer = engine.openStreamer({});
    const chunks: TtsStreamChunk[] = [];
    let completed = false;
    streamer.output$.subscribe({ next: (c) => chunks.push(c), complete: () => (completed = true) });
    streamer.send("Go on forever.");
    streamer.finish();
    while (chunks.length < 3) await new Promise((r) => setTimeout(r, 5));
    streamer.cancel();
    assert.equal(chunks[chunks.length - 1].kind, "cancelled");
    assert.equal(completed, true);
    const count = chunks.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(chunks.length, count);
    const conn = service.connections.find((c) => c.events.some((e) => e.type === "synthesize"))!;
    const until = Date.now() + 5000;
    while (!conn.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.equal(conn.closed, true);
  });
});
