import { strict as assert } from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import type { Browser, Page } from "playwright-core";
import { WebSocket } from "ws";
import { readWavFile } from "../../src/core/audio/wav";
import { browserMicFrames } from "../../src/core/browser/browser-mic";
import { VoiceChannel } from "../../src/core/browser/voice-channel";
import { needTool } from "../helpers/system-tools";
import { launchChromium } from "../helpers/chromium";
import { sharedDir } from "../helpers/paths";

interface ClientState {
  connected: boolean;
  session: string | null;
  audio: string;
  receivedSamples: number;
  playedSamples: number;
  droppedSamples: number;
  heldSamples: number;
  capturing: boolean;
  mic: string;
  sentSamples: number;
  text: string;
  error: string;
}

async function state(page: Page): Promise<ClientState> {
  return page.evaluate(() => (window as unknown as { __voiceStream: ClientState }).__voiceStream);
}

async function until(page: Page, check: (s: ClientState) => boolean, ms = 20000): Promise<ClientState> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await state(page);
    if (check(s)) return s;
    if (Date.now() > end) throw new Error("timed out; page state " + JSON.stringify(s));
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** RMS of each 20 ms window at 16 kHz. */
function envelope(x: Float32Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 320 <= x.length; i += 320) {
    let e = 0;
    for (let j = i; j < i + 320; j++) e += x[j] * x[j];
    out.push(Math.sqrt(e / 320));
  }
  return out;
}

function pearson(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Best envelope correlation of `captured` against `source` over lags of 0..1 s. */
function bestMatch(source: Float32Array, captured: Float32Array): { r: number; lagMs: number } {
  const a = envelope(source);
  const b = envelope(captured);
  let best = { r: -1, lagMs: 0 };
  for (let lag = 0; lag <= 50 && lag < b.length; lag++) {
    const r = pearson(a, b.slice(lag));
    if (r > best.r) best = { r, lagMs: lag * 20 };
  }
  return best;
}

describe("browser voice channel in headless Chromium (fake microphone)", function () {
  this.timeout(90000);
  const wavPath = sharedDir("audio", "weather_16k.wav");
  let server: http.Server;
  let browser: Browser;
  let origin: string;
  const channels: VoiceChannel[] = [];

  const mount = (channel: VoiceChannel) => channels.push(channel);

  before(async function () {
    const executablePath = needTool(this, "chromium");
    server = http.createServer((req, res) => {
      for (const c of channels) if (c.handleRequest(req, res)) return;
      res.writeHead(404).end();
    });
    server.on("upgrade", (req, socket, head) => {
      for (const c of channels) if (c.handleUpgrade(req, socket, head)) return;
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium(executablePath, { micWav: wavPath });
  });

  after(async () => {
    await browser?.close();
    for (const c of channels) await c.close();
    await new Promise((r) => server?.close(r));
  });

  it("the mic page streams the microphone (a speech WAV) as 16 kHz frames matching the file", async () => {
    const channel = new VoiceChannel({ basePath: "/voice-stream/mic/t1", page: "mic", title: "kitchen mic" });
    mount(channel);
    const page = await browser.newPage();
    await page.goto(origin + "/voice-stream/mic/t1");
    assert.equal(await page.locator("h1").textContent(), "kitchen mic");
    await until(page, (s) => s.connected && s.session !== null);
    const frames: Float32Array[] = [];
    let completed = false;
    const sub = browserMicFrames(channel, { frameSize: 320 }).subscribe({ next: (f) => frames.push(f), complete: () => (completed = true) });
    await until(page, (s) => s.capturing && s.mic === "on");
    const source = (await readWavFile(wavPath)).samples;
    // The file lasts 3.56 s; wait until that much (and a little more) has arrived.
    const want = source.length + 16000;
    const end = Date.now() + 20000;
    while (frames.reduce((n, f) => n + f.length, 0) < want && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    sub.unsubscribe();
    assert.equal(completed, false, "the capture ended only when the server closed it");
    const s = await until(page, (st) => !st.capturing && st.mic === "off");
    assert.ok(frames.every((f) => f.length === 320), "every frame is 20 ms");
    const captured = new Float32Array(frames.length * 320);
    frames.forEach((f, i) => captured.set(f, i * 320));
    assert.ok(captured.length >= want, `captured ${captured.length} samples, want ≥ ${want}`);
    assert.ok(s.sentSamples >= captured.length, `page sent ${s.sentSamples}`);
    const match = bestMatch(source, captured);
    console.log(`      envelope correlation ${match.r.toFixed(3)} at ${match.lagMs} ms lag; ${captured.length} samples captured`);
    assert.ok(match.r > 0.8, `envelope correlation with the WAV ${match.r.toFixed(3)} at ${match.lagMs} ms`);
    assert.equal(s.error, "");
    await page.close();
  });

  it("a player page opened while a stream plays gets it from its start: every sample plays", async () => {
    const channel = new VoiceChannel({ basePath: "/voice-stream/player/t2", page: "player", sampleRate: 24000, title: "story" });
    mount(channel);
    // 3 s of audio in 100 ms chunks, sent in real time, with the text of each second.
    const chunk = 2400;
    const total = 30 * chunk;
    let sent = 0;
    let page: Page | undefined;
    for (let i = 0; i < 30; i++) {
      if (i % 10 === 0) channel.annotate("s1", `second ${i / 10 + 1}`, i / 10);
      channel.play(new Float32Array(chunk).fill(0.01 * ((i % 5) + 1)), "s1");
      sent += chunk;
      if (i === 15) {
        // 1.5 s in: a listener arrives.
        page = await browser.newPage();
        await page.goto(origin + "/voice-stream/player/t2");
        await page.click("#enable");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    channel.endStream("s1");
    assert.equal(sent, total);
    const s = await until(page!, (st) => st.playedSamples >= total);
    assert.equal(s.receivedSamples, total);
    assert.equal(s.playedSamples, total);
    assert.equal(s.droppedSamples, 0);
    assert.equal(s.text, "second 3");
    assert.equal(await page!.locator("#title").textContent(), "story");
    // A page opened after the stream ended gets nothing of it.
    const later = await browser.newPage();
    await later.goto(origin + "/voice-stream/player/t2");
    const ls = await until(later, (st) => st.connected);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await state(later)).receivedSamples, 0, JSON.stringify(ls));
    await page!.close();
    await later.close();
  });

  it("the player page's Stop skips the rest of the playing stream on that page only; the next stream plays; volume", async () => {
    const channel = new VoiceChannel({ basePath: "/voice-stream/player/t3", page: "player", sampleRate: 24000 });
    mount(channel);
    const page = await browser.newPage();
    await page.goto(origin + "/voice-stream/player/t3");
    await page.click("#enable");
    await until(page, (s) => s.connected && s.audio === "on");
    channel.play(new Float32Array(48000).fill(0.1), "s1");
    await until(page, (s) => s.playedSamples > 4800);
    await page.click("#stop");
    await new Promise((r) => setTimeout(r, 300));
    const stopped = await state(page);
    channel.play(new Float32Array(4800).fill(0.1), "s1");
    await new Promise((r) => setTimeout(r, 500));
    const later = await state(page);
    assert.equal(later.playedSamples, stopped.playedSamples, "the rest of s1 does not play here");
    assert.ok(later.playedSamples < 48000);
    assert.equal(later.receivedSamples, 52800, "it still arrives (other pages may be listening)");
    channel.endStream("s1");
    channel.play(new Float32Array(4800).fill(0.1), "s2");
    channel.endStream("s2");
    const next = await until(page, (s) => s.playedSamples >= later.playedSamples + 4800);
    assert.equal(next.playedSamples, later.playedSamples + 4800, "the next stream plays whole");
    await page.locator("#volume").fill("0.5");
    assert.equal((await state(page) as unknown as { volume: number }).volume, 0.5);
    await page.close();
  });

  it("refuses microphone frames without a capture, too large or too fast, with clear errors", async () => {
    const channel = new VoiceChannel({ basePath: "/raw", page: "none", micLimits: { maxFrameSamples: 1600, burstSeconds: 0.5, maxRealtimeFactor: 1.5 } });
    mount(channel);
    const refused: string[] = [];
    channel.events$.subscribe((e) => e.type === "refused" && refused.push(e.error.message));
    const ws = new WebSocket(origin.replace("http", "ws") + "/raw/ws");
    const messages: Record<string, unknown>[] = [];
    ws.on("message", (d, binary) => !binary && messages.push(JSON.parse(String(d))));
    await new Promise((r) => ws.once("open", r));
    await new Promise((r) => setTimeout(r, 100));
    const session = messages[0].session as string;
    ws.send(new Float32Array(320).buffer);
    await new Promise((r) => setTimeout(r, 100));
    assert.match(refused[0], /no capture is open/);
    const frames: Float32Array[] = [];
    channel.events$.subscribe((e) => e.type === "frame" && frames.push(e.samples));
    assert.ok(channel.startCapture(session));
    ws.send(new Float32Array(320).fill(0.5).buffer);
    ws.send(new Float32Array(3200).buffer);
    ws.send(Buffer.alloc(6));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(frames.length, 1);
    assert.deepEqual([...frames[0].slice(0, 2)], [0.5, 0.5]);
    assert.match(refused[1], /3200 samples is over the limit of 1600/);
    assert.match(refused[2], /6 bytes is not float32/);
    // 0.5 s of burst: 8000 samples at once is accepted up to the bucket, then refused.
    for (let i = 0; i < 10; i++) ws.send(new Float32Array(1600).buffer);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(refused.some((m) => /faster than real time/.test(m)), refused.join("\n"));
    const errors = messages.filter((m) => m.type === "error").map((m) => m.message);
    assert.ok(errors.length >= 4, "the page is told why");
    ws.close();
  });
});
