import { strict as assert } from "assert";
import type { AsrEvent, TtsChunk, TtsEngine, TtsStreamChunk } from "../../../src/core/types";
import { builtInSpeech, builtInTranscript, MODELS, startOpenAiTestServer, type OpenAiTestServer } from "../../helpers/openai-test-server";
import { collect, remoteAsr, remoteTts } from "./support";

const SPEECH = "/v1/audio/speech";

function audioOf(chunks: TtsStreamChunk[]): Float32Array {
  const parts = chunks.filter((c): c is TtsChunk => c.kind === "audio" && !c.is_final).map((c) => c.audio);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function expectedSpeech(text: string, voice: string): Float32Array {
  return Float32Array.from(builtInSpeech(text, voice), (s) => s / 32768);
}

function joined(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe("openai tts engine: /audio/speech", function () {
  let server: OpenAiTestServer;
  let engine: TtsEngine | undefined;
  beforeEach(async () => {
    server = await startOpenAiTestServer();
  });
  afterEach(async () => {
    await engine?.dispose();
    engine = undefined;
    await server.close();
  });

  it("one pcm request per span with model, input, voice, speed; the 24 kHz body streams out sample-exact", async () => {
    engine = await remoteTts(server.url, { model: MODELS.tts, voice: "nova", speed: 1.25 });
    const streamer = engine.openStreamer({});
    const done = collect(streamer.output$);
    streamer.send("Hello there. ");
    streamer.send("How are you today?");
    streamer.finish();
    const { chunks, error } = await done;
    assert.equal(error, undefined);
    const speech = server.requests.filter((r) => r.path === SPEECH);
    assert.deepEqual(speech.map((r) => r.json!.input), ["Hello there.", "How are you today?"]);
    for (const r of speech) {
      assert.equal(r.json!.response_format, "pcm");
      assert.equal(r.json!.voice, "nova");
      assert.equal(r.json!.speed, 1.25);
      assert.equal(r.json!.model, MODELS.tts);
    }
    assert.ok(chunks.length > 3, "the body came out in several chunks, not one per span");
    assert.ok(chunks.every((c) => (c as TtsChunk).sample_rate === 24000));
    assert.deepEqual(audioOf(chunks), joined(expectedSpeech("Hello there.", "nova"), expectedSpeech("How are you today?", "nova")));
    const spans = chunks.filter((c) => !c.is_final).map((c) => (c as TtsChunk).text);
    assert.deepEqual([...new Set(spans)], ["Hello there.", "How are you today?"]);
    const final = chunks[chunks.length - 1] as TtsChunk;
    assert.equal(final.is_final, true);
    assert.equal(chunks.filter((c) => c.is_final).length, 1);
    assert.equal(typeof final.time_to_first_audio, "number");
    assert.ok(Math.abs(final.audio_seconds! - (12 + 18) * 0.01) < 1e-9);
    assert.deepEqual(chunks.map((c) => (c as TtsChunk).chunk_index), chunks.map((_, i) => i));
  });

  it("first_span_words: the first request is the sentence's first clause or first words, so the first audio comes sooner", async () => {
    engine = await remoteTts(server.url, { model: MODELS.tts, voice: "nova" });
    const before = server.requests.length;
    const streamer = engine.openStreamer({ first_span_words: 3 });
    const done = collect(streamer.output$);
    streamer.send("The kitchen light in the north wing is on now. Goodbye.");
    streamer.finish();
    const { error } = await done;
    assert.equal(error, undefined);
    const inputs = server.requests.slice(before).filter((r) => r.path === SPEECH).map((r) => r.json!.input);
    assert.deepEqual(inputs, ["The kitchen light", "in the north wing is on now.", "Goodbye."]);
  });

  it("runs the next span's request one ahead while the current one streams", async () => {
    await server.close();
    server = await startOpenAiTestServer({ speechPieceDelayMs: 3 });
    engine = await remoteTts(server.url, { model: MODELS.tts, voice: "a" });
    const streamer = engine.openStreamer({});
    const done = collect(streamer.output$);
    streamer.send("First sentence is here. Second one follows. Third comes last.");
    streamer.finish();
    const { error } = await done;
    assert.equal(error, undefined);
    assert.equal(server.requests.length, 3);
    const [a, b, c] = server.requests;
    // The second request arrived while the first answer still streamed; the third only after the first was done.
    assert.ok(b.receivedAt < a.finishedAt!, "span 2 was requested while span 1 streamed");
    assert.ok(c.receivedAt >= a.finishedAt!, `never more than one ahead ${JSON.stringify(server.requests.map((r) => [r.receivedAt, r.finishedAt]))}`);
    assert.deepEqual(server.requests.map((r) => r.json!.input), ["First sentence is here.", "Second one follows.", "Third comes last."]);
  });

  it("accepts a WAV body from a server that ignores pcm (22050 Hz brought to 24000)", async () => {
    engine = await remoteTts(server.url, { model: MODELS.wavTts, voice: "a" });
    const streamer = engine.openStreamer({});
    const done = collect(streamer.output$);
    streamer.send("Some words to say.");
    streamer.finish();
    const { chunks, error } = await done;
    assert.equal(error, undefined);
    const audio = audioOf(chunks);
    assert.ok(chunks.every((c) => (c as TtsChunk).sample_rate === 24000));
    const expected = expectedSpeech("Some words to say.", "a").length;
    assert.ok(Math.abs(audio.length - expected) <= 48, `${audio.length} samples ≈ ${expected}`);
    assert.ok(audio.some((s) => Math.abs(s) > 0.2), "the tone came through");
  });

  it("resamples to sample_rate_out", async () => {
    engine = await remoteTts(server.url, { model: MODELS.tts, voice: "a" });
    const streamer = engine.openStreamer({ sample_rate_out: 16000 });
    const done = collect(streamer.output$);
    streamer.send("Short.");
    streamer.finish();
    const { chunks } = await done;
    assert.ok(chunks.every((c) => (c as TtsChunk).sample_rate === 16000));
    assert.ok(Math.abs(audioOf(chunks).length - 6 * 160) <= 16);
  });

  it("cancel aborts what is in flight: the cancelled final, nothing after, the server sees the close", async () => {
    await server.close();
    server = await startOpenAiTestServer({ speechPieceDelayMs: 10 });
    engine = await remoteTts(server.url, { model: MODELS.tts, voice: "a" });
    const streamer = engine.openStreamer({});
    const chunks: TtsStreamChunk[] = [];
    streamer.output$.subscribe((c) => {
      chunks.push(c);
      if (chunks.length === 2) streamer.cancel();
    });
    streamer.send("A fairly long sentence that takes a while to speak out loud. And another one.");
    streamer.finish();
    const closed = await server.clientClosed(SPEECH);
    assert.equal(closed.closedByClient, true);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(chunks.length, 3);
    assert.equal(chunks[2].kind, "cancelled");
  });

  it("a server that dies mid-body: the chunks already out stay, then an error naming the URL", async () => {
    engine = await remoteTts(server.url, { model: MODELS.dieMidStream, voice: "a" });
    const streamer = engine.openStreamer({});
    const done = collect(streamer.output$);
    streamer.send("This sentence is long enough to be cut in half by the server.");
    streamer.finish();
    const { chunks, error } = await done;
    assert.ok(chunks.length > 0, "audio before the cut was emitted");
    assert.ok(!chunks.some((c) => c.is_final));
    assert.match(String(error?.message), new RegExp(`${server.url}/audio/speech closed the connection mid-stream`));
  });

  it("a voice the server does not have: its message", async () => {
    engine = await remoteTts(server.url, { model: MODELS.tts, voice: "nobody" });
    const streamer = engine.openStreamer({});
    const done = collect(streamer.output$);
    streamer.send("Hi.");
    streamer.finish();
    const { error } = await done;
    assert.match(String(error?.message), /answered 400: Voice 'nobody' not found/);
  });
});

describe("openai asr engine: /audio/transcriptions", function () {
  let server: OpenAiTestServer;
  beforeEach(async () => {
    server = await startOpenAiTestServer();
  });
  afterEach(() => server.close());

  const tone = (seconds: number) => Float32Array.from({ length: Math.round(seconds * 16000) }, (_, i) => 0.1 * Math.sin(i / 10));

  it("a WAV of the uncommitted audio at each flush and at finish; partials per flush; the final covers all", async () => {
    const engine = await remoteAsr(server.url, { model: MODELS.asr });
    const streamer = engine.openStreamer({ language: "en" });
    const events: AsrEvent[] = [];
    const ended = new Promise<void>((resolve, reject) => streamer.partials$.subscribe({ next: (e) => events.push(e), complete: resolve, error: reject }));
    streamer.send(tone(0.5));
    streamer.send(tone(0.5));
    streamer.flush();
    streamer.send(tone(0.75));
    const text = await streamer.finish();
    await ended;
    const uploads = server.requests.filter((r) => r.path === "/v1/audio/transcriptions");
    assert.deepEqual(uploads.map((r) => r.audioSamples), [16000, 12000]);
    assert.equal(uploads[0].fields!.model, MODELS.asr);
    assert.equal(uploads[0].fields!.language, "en");
    assert.equal(uploads[1].fields!.prompt, builtInTranscript(16000, 16000));
    const expected = `${builtInTranscript(16000, 16000)} ${builtInTranscript(12000, 16000)}`;
    assert.equal(text, expected);
    const partials = events.filter((e) => e.kind === "partial");
    assert.deepEqual(partials.map((p) => p.text), [builtInTranscript(16000, 16000), expected]);
    const final = events[events.length - 1];
    assert.equal(final.kind, "final");
    assert.equal(final.text, expected);
    assert.equal((final as { audio_seconds: number }).audio_seconds, 1.75);
    assert.equal((final as { passes: number }).passes, 2);
    assert.equal((final as { language: string }).language, "en");
  });

  it("SSE transcript deltas become partials that only grow", async () => {
    const engine = await remoteAsr(server.url, { model: MODELS.streamingAsr });
    const streamer = engine.openStreamer({});
    const events: AsrEvent[] = [];
    streamer.partials$.subscribe((e) => events.push(e));
    streamer.send(tone(1));
    const text = await streamer.finish();
    assert.equal(text, builtInTranscript(16000, 16000));
    const partials = events.filter((e) => e.kind === "partial");
    assert.equal(partials.length, text.split(" ").length);
    for (let i = 1; i < partials.length; i++) assert.ok(partials[i].text.startsWith(partials[i - 1].text));
    assert.equal(partials.map((p) => (p as { delta: string }).delta).join(""), text);
    assert.equal(server.requests[0].fields!.stream, "true");
  });

  it("cancel aborts the upload in flight and ends with the cancelled event", async () => {
    const engine = await remoteAsr(server.url, { model: MODELS.streamingAsr });
    const streamer = engine.openStreamer({});
    const events: AsrEvent[] = [];
    streamer.partials$.subscribe((e) => {
      events.push(e);
      if (events.length === 1) streamer.cancel();
    });
    streamer.send(tone(1));
    void streamer.finish();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(events[events.length - 1].kind, "cancelled");
    assert.equal(events.filter((e) => e.is_final).length, 1);
  });

  it("a failing server errors the stream with its message; transcribe() is one request", async () => {
    const bad = await remoteAsr(server.url, { model: MODELS.serverError });
    const streamer = bad.openStreamer({});
    streamer.send(tone(0.5));
    await assert.rejects(streamer.finish(), /answered 503 \(server error\): transcriber overloaded/);
    const good = await remoteAsr(server.url, { model: MODELS.asr });
    assert.deepEqual(await good.transcribe(tone(2)), { text: builtInTranscript(32000, 16000), language: "" });
  });
});
