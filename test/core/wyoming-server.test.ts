import { strict as assert } from "assert";
import { WyomingServer, type WyomingServerOptions } from "../../src/core/wyoming/server";
import type { WyomingSession } from "../../src/core/wyoming/session";
import { SpecClient, frameEvent, pcm16, sendAudio, audioSamples } from "../helpers/wyoming-spec-client";

/** A scripted service on the real server: answers say what the session received. */
function scripted(log: { sessions: WyomingSession[]; cancelled: string[] }) {
  return (session: WyomingSession) => {
    log.sessions.push(session);
    let samples = 0;
    let rate = 0;
    let frames = 0;
    session.input$.subscribe((input) => {
      if (input.kind === "cancel") log.cancelled.push(session.id);
      if (session.request.type === "transcribe") {
        if (input.kind === "audio") {
          samples += input.samples.length;
          rate = input.rate;
          if (frames++ === 0) session.transcriptChunk("first ");
        } else if (input.kind === "end") setTimeout(() => session.transcript(`heard ${samples} samples at ${rate}`, "en"), 5);
      } else if (session.request.type === "synthesize") {
        if (input.kind === "text" && session.request.streaming) session.audio(new Float32Array(100).fill(0.1), 22050);
        if (input.kind === "end") {
          session.audio(new Float32Array(session.text.length * 10).fill(0.2), 22050);
          session.audioEnd(22050);
        }
      } else if (input.kind === "audio") {
        samples += input.samples.length;
        if (samples >= 8000 && session.detectionCount === 0) session.detection("ok_nabu", (samples / 16000) * 1000);
      } else if (input.kind === "end") session.detectEnd();
    });
  };
}

async function start(extra: Partial<WyomingServerOptions> = {}) {
  const log = { sessions: [] as WyomingSession[], cancelled: [] as string[] };
  const server = new WyomingServer({
    port: 0,
    offers: { asr: true, tts: true, wake: true },
    services: () => ({
      asr: { name: "test-asr", models: [{ name: "tiny", languages: ["en"] }], supportsTranscriptStreaming: true },
      tts: { name: "test-tts", voices: [{ name: "en-us", languages: ["en-us"] }], supportsSynthesizeStreaming: true },
      wake: { name: "test-wake", models: [{ name: "ok_nabu", languages: ["en"] }] },
    }),
    onSession: scripted(log),
    ...extra,
  });
  const address = await server.listen();
  return { server, log, port: address.port, address };
}

async function pingPong(client: SpecClient): Promise<void> {
  client.send("ping", { text: "still there?" });
  const events = await client.until("pong");
  assert.equal(events[events.length - 1].data.text, "still there?");
}

describe("wyoming server: conformance", function () {
  this.timeout(30000);
  let ctx: Awaited<ReturnType<typeof start>>;
  beforeEach(async () => (ctx = await start()));
  afterEach(() => ctx.server.close());

  it("binds to 127.0.0.1 by default and says it stays on this machine", () => {
    assert.equal(ctx.address.host, "127.0.0.1");
    assert.equal(ctx.address.beyondLoopback, false);
  });

  it("describe → info in the spec's shape (asr models, tts voices, wake models, streaming flags), with version and data_length", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("describe");
    const info = await client.next();
    assert.equal(info.type, "info");
    assert.equal(typeof info.header.version, "string");
    assert.ok(Number(info.header.data_length) > 0);
    const asr = (info.data.asr as Record<string, unknown>[])[0];
    const tts = (info.data.tts as Record<string, unknown>[])[0];
    const wake = (info.data.wake as Record<string, unknown>[])[0];
    assert.equal(asr.supports_transcript_streaming, true);
    assert.equal(tts.supports_synthesize_streaming, true);
    assert.deepEqual((asr.models as { name: string; languages: string[] }[]).map((m) => [m.name, m.languages]), [["tiny", ["en"]]]);
    assert.equal((tts.voices as { name: string; installed: boolean; attribution: unknown }[])[0].name, "en-us");
    assert.equal((tts.voices as { installed: boolean }[])[0].installed, true);
    assert.equal((wake.models as { name: string }[])[0].name, "ok_nabu");
    client.destroy();
  });

  it("ping → pong with the text; unknown event types are ignored", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("some-future-event", { x: 1 }, Buffer.from([1, 2, 3]));
    await pingPong(client);
    assert.deepEqual(client.received.map((e) => e.type), ["pong"]);
    client.destroy();
  });

  it("takes data inline in the header, as a data section, or both (the section wins)", async () => {
    const client = await SpecClient.connect(ctx.port);
    const extra = Buffer.from(JSON.stringify({ language: "de" }));
    client.raw(Buffer.concat([Buffer.from(JSON.stringify({ type: "transcribe", data: { language: "en", name: "tiny" }, data_length: extra.length }) + "\n"), extra]));
    sendAudio(client, new Float32Array(1600).fill(0.1));
    await client.until("transcript-stop");
    assert.deepEqual(ctx.log.sessions[0].request, { type: "transcribe", language: "de", name: "tiny" });
    client.destroy();
  });

  it("transcribe streams transcript-start, transcript-chunk, transcript, transcript-stop; the audio arrives as sent", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("transcribe", { language: "en" });
    sendAudio(client, new Float32Array(4800).fill(0.25), 48000, 480);
    const events = await client.until("transcript-stop");
    assert.deepEqual(events.map((e) => e.type), ["transcript-start", "transcript-chunk", "transcript", "transcript-stop"]);
    assert.equal(events[2].data.text, "heard 4800 samples at 48000");
    assert.equal(events[2].data.language, "en");
    // The connection takes the next request.
    await pingPong(client);
    client.destroy();
  });

  it("audio without transcribe is a transcription (transcribe is optional)", async () => {
    const client = await SpecClient.connect(ctx.port);
    sendAudio(client, new Float32Array(320));
    const events = await client.until("transcript");
    assert.equal(events[events.length - 1].data.text, "heard 320 samples at 16000");
    client.destroy();
  });

  it("stereo audio is mixed to mono", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("transcribe");
    client.send("audio-start", { rate: 16000, width: 2, channels: 2 });
    client.send("audio-chunk", { rate: 16000, width: 2, channels: 2 }, pcm16(new Float32Array(640)));
    client.send("audio-stop");
    const events = await client.until("transcript");
    assert.equal(events[events.length - 1].data.text, "heard 320 samples at 16000");
    client.destroy();
  });

  it("plain synthesize: audio-start, audio-chunks, audio-stop (no synthesize-stopped)", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("synthesize", { text: "Hello there.", voice: { name: "en-us" } });
    const events = await client.until("audio-stop");
    assert.equal(events[0].type, "audio-start");
    assert.deepEqual(events[0].data, { rate: 22050, width: 2, channels: 1 });
    assert.equal(audioSamples(events), 120);
    assert.deepEqual(ctx.log.sessions[0].request, { type: "synthesize", streaming: false, voice: { name: "en-us" } });
    await pingPong(client);
    assert.ok(!client.received.some((e) => e.type === "synthesize-stopped"));
    client.destroy();
  });

  it("streaming synthesize: audio before the stop, the compat synthesize is not spoken again, synthesize-stopped last", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("synthesize-start", { voice: { name: "en-us" } });
    client.send("synthesize-chunk", { text: "Hello. " });
    const first = await client.until("audio-chunk");
    assert.equal(first[0].type, "audio-start");
    client.send("synthesize-chunk", { text: "Bye." });
    client.send("synthesize", { text: "Hello. Bye." });
    client.send("synthesize-stop");
    const rest = await client.until("synthesize-stopped");
    assert.equal(rest[rest.length - 2].type, "audio-stop");
    // 100 + 100 streamed samples, then 11 characters × 10 at the end: the compat text added nothing.
    assert.equal(audioSamples([...first, ...rest]), 200 + 110);
    assert.equal(ctx.log.sessions.length, 1);
    client.destroy();
  });

  it("detect: a detection, then not-detected is not sent; a detect without any gets not-detected", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("detect", { names: ["ok_nabu"] });
    sendAudio(client, new Float32Array(16000));
    const events = await client.until("detection");
    assert.equal(events[events.length - 1].data.name, "ok_nabu");
    assert.equal(events[events.length - 1].data.timestamp, 500);
    await pingPong(client);
    assert.ok(!client.received.some((e) => e.type === "not-detected"));
    client.send("detect");
    sendAudio(client, new Float32Array(1600));
    await client.until("not-detected");
    client.destroy();
  });

  it("a client that disconnects cancels its session", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("transcribe");
    client.send("audio-start", { rate: 16000, width: 2, channels: 1 });
    client.send("audio-chunk", { rate: 16000, width: 2, channels: 1 }, pcm16(new Float32Array(320)));
    await client.until("transcript-chunk");
    client.destroy();
    await waitFor(() => ctx.log.cancelled.length === 1);
    assert.equal(ctx.log.cancelled[0], ctx.log.sessions[0].id);
    assert.equal(ctx.server.sessionCount, 0);
  });

  it("8 sessions at once each get their own answer", async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => SpecClient.connect(ctx.port)));
    clients.forEach((c, i) => {
      c.send("transcribe");
      sendAudio(c, new Float32Array(160 * (i + 1)), 16000, 100);
    });
    const answers = await Promise.all(clients.map(async (c) => (await c.until("transcript")).pop()!.data.text));
    assert.deepEqual(answers, clients.map((_, i) => `heard ${160 * (i + 1)} samples at 16000`));
    assert.equal(new Set(ctx.log.sessions.map((s) => s.id)).size, 8);
    clients.forEach((c) => c.destroy());
  });

  it("stop ends open sessions with an error event (server-stopping) and closes the connections", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("synthesize-start");
    client.send("synthesize-chunk", { text: "Hello. " });
    await client.until("audio-chunk");
    await ctx.server.close();
    const events = await client.drainToEnd();
    assert.equal(events[events.length - 1].type, "error");
    assert.equal(events[events.length - 1].data.code, "server-stopping");
    assert.equal(ctx.log.cancelled.length, 1);
  });
});

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("wyoming server: bad input gets an error event and never hurts other sessions", function () {
  this.timeout(30000);
  let ctx: Awaited<ReturnType<typeof start>>;
  beforeEach(async () => (ctx = await start({ maxAudioSeconds: 1 })));
  afterEach(() => ctx.server.close());

  async function expectError(client: SpecClient, code: string): Promise<void> {
    const events = await client.until("error");
    const error = events[events.length - 1];
    assert.equal(error.data.code, code, JSON.stringify(error.data));
    assert.ok(typeof error.data.text === "string" && error.data.text.length > 10, JSON.stringify(error.data));
  }

  it("a header that is not JSON: error header-not-json, and the connection goes on", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.raw("{this is not json\n");
    await expectError(client, "header-not-json");
    await pingPong(client);
    client.destroy();
  });

  it("a header over 1 MB: error header-too-large, the connection closes, another session finishes untouched", async () => {
    const other = await SpecClient.connect(ctx.port);
    other.send("synthesize-start");
    other.send("synthesize-chunk", { text: "Hi. " });
    await other.until("audio-chunk");
    const client = await SpecClient.connect(ctx.port);
    client.raw(Buffer.alloc(1024 * 1024 + 10, 0x61));
    await expectError(client, "header-too-large");
    await client.drainToEnd();
    assert.ok(client.ended);
    other.send("synthesize-stop");
    await other.until("synthesize-stopped");
    other.destroy();
  });

  it("a payload shorter than declared: error payload-truncated when the client ends, then a clean close", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("transcribe");
    client.send("audio-start", { rate: 16000, width: 2, channels: 1 });
    client.raw(Buffer.concat([Buffer.from(JSON.stringify({ type: "audio-chunk", data: { rate: 16000, width: 2, channels: 1 }, payload_length: 1000 }) + "\n"), Buffer.alloc(10)]));
    client.end();
    await expectError(client, "payload-truncated");
    await client.drainToEnd();
    await waitFor(() => ctx.log.cancelled.length === 1);
  });

  it("audio of an unsupported width or channel count: error unsupported-audio, the connection goes on", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("transcribe");
    client.send("audio-start", { rate: 16000, width: 3, channels: 1 });
    await expectError(client, "unsupported-audio");
    client.send("transcribe");
    client.send("audio-start", { rate: 16000, width: 2, channels: 0 });
    await expectError(client, "unsupported-audio");
    client.send("transcribe");
    client.send("audio-start", { rate: 16000, width: 2, channels: 1 });
    client.send("audio-chunk", { rate: 16000, width: 2, channels: 1 }, Buffer.alloc(3));
    await expectError(client, "unsupported-audio");
    await pingPong(client);
    client.destroy();
  });

  it("synthesize with empty text: error empty-text", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("synthesize", { text: "   " });
    await expectError(client, "empty-text");
    client.send("synthesize", {});
    await expectError(client, "empty-text");
    client.send("synthesize-start");
    client.send("synthesize-stop");
    await expectError(client, "empty-text");
    await pingPong(client);
    client.destroy();
  });

  it("transcribe with no audio: error no-audio", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("transcribe");
    client.send("audio-start", { rate: 16000, width: 2, channels: 1 });
    client.send("audio-stop");
    await expectError(client, "no-audio");
    await pingPong(client);
    client.destroy();
  });

  it("audio past the per-session limit: error audio-too-long, the session is cancelled", async () => {
    const client = await SpecClient.connect(ctx.port);
    client.send("transcribe");
    sendAudio(client, new Float32Array(16000 * 2), 16000, 1600);
    await expectError(client, "audio-too-long");
    await pingPong(client);
    assert.equal(ctx.log.cancelled.length, 1);
    client.destroy();
  });

  it("a service the server does not offer: error no-service", async () => {
    const only = await start({ offers: { tts: true } });
    const client = await SpecClient.connect(only.port);
    client.send("transcribe");
    await expectError(client, "no-service");
    await pingPong(client);
    client.destroy();
    await only.server.close();
  });

  it("an address not on the allow-list is refused with an error event", async () => {
    const guarded = await start({ allow: "10.1.2.3, 192.168.0.0/16" });
    const client = await SpecClient.connect(guarded.port);
    await expectError(client, "forbidden");
    await client.drainToEnd();
    await guarded.server.close();
    const open = await start({ allow: "127.0.0.0/8" });
    const allowed = await SpecClient.connect(open.port);
    await pingPong(allowed);
    allowed.destroy();
    await open.server.close();
  });

  it("frames written byte by byte decode the same", async () => {
    const client = await SpecClient.connect(ctx.port);
    const bytes = frameEvent("ping", { text: "slow" });
    for (const b of bytes) {
      client.raw(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    const pong = await client.until("pong");
    assert.equal(pong[0].data.text, "slow");
    client.destroy();
  });
});
