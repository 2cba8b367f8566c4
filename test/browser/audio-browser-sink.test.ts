import { strict as assert } from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import { chromium, type Browser, type Page } from "playwright-core";
import { needTool } from "../helpers/system-tools";
import { WebSocket } from "ws";
import { Player } from "../../src/core/audio/player";
import { BrowserSink } from "../../src/core/audio/sinks/browser-sink";

const BASE = "/voice-stream/player/n_test";

interface PageState {
  connected: boolean;
  audio: string;
  chunks: number;
  receivedSamples: number;
  droppedSamples: number;
  playedSamples: number;
}

async function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => (window as unknown as { __voiceStream: PageState }).__voiceStream);
}

async function waitForState(page: Page, check: (s: PageState) => boolean, ms = 15000): Promise<PageState> {
  const until = Date.now() + ms;
  for (;;) {
    const s = await pageState(page);
    if (check(s)) return s;
    if (Date.now() > until) throw new Error("timed out; page state " + JSON.stringify(s));
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("audio browser sink in headless Chromium", function () {
  this.timeout(60000);
  let server: http.Server;
  let sink: BrowserSink;
  let browser: Browser;
  let url: string;
  const credentials = "Basic " + Buffer.from("user:secret").toString("base64");
  let requireAuth = false;

  before(async function () {
    const executablePath = needTool(this, "chromium");
    sink = new BrowserSink({
      basePath: BASE,
      sampleRate: 24000,
      authorize: async (req) => !requireAuth || req.headers.authorization === credentials,
    });
    server = http.createServer((req, res) => {
      if (!sink.handleRequest(req, res)) res.writeHead(404).end();
    });
    server.on("upgrade", (req, socket, head) => {
      if (!sink.handleUpgrade(req, socket, head)) socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${BASE}`;
    browser = await chromium.launch({ executablePath, args: ["--autoplay-policy=no-user-gesture-required"] });
  });

  after(async () => {
    await browser?.close();
    await sink?.close();
    if (server) await new Promise((r) => server.close(r));
  });

  it("two listeners receive every chunk and their worklets play exactly the samples sent", async () => {
    const pages = [await browser.newPage(), await browser.newPage()];
    for (const page of pages) {
      await page.goto(url);
      assert.equal(await page.locator("#enable").textContent(), "Click to enable audio");
      await page.click("#enable");
      await waitForState(page, (s) => s.connected && s.audio === "on");
    }
    assert.equal(sink.listeners, 2);
    const player = new Player(sink, { leadMs: 200 });
    // 1 s at the sink's rate in uneven chunks, plus 0.5 s at 16 kHz (resampled to 24 kHz).
    const sizes = [2400, 1, 4799, 3000, 7000, 6800];
    let sent = 0;
    for (const n of sizes) {
      player.enqueue(new Float32Array(n).map((_, i) => 0.2 * Math.sin((sent + i) * 0.05)), 24000, "b1");
      sent += n;
    }
    assert.equal(sent, 24000);
    assert.equal(await player.drain("b1"), "drained");
    player.enqueue(new Float32Array(8000).fill(0.1), 16000, "b2");
    assert.equal(await player.drain("b2"), "drained");
    const total = 24000 + 12000;
    for (const page of pages) {
      const s = await waitForState(page, (st) => st.playedSamples >= total);
      assert.equal(s.receivedSamples, total);
      assert.equal(s.droppedSamples, 0);
      assert.equal(s.playedSamples, total);
      assert.ok(s.chunks > sizes.length, `chunks on the wire ${s.chunks}`);
    }
    // (player.close() would close the shared sink too; the player is idle now.)
    for (const page of pages) await page.close();
  });

  it("stop silences the page at once: its worklet drops what it holds", async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.click("#enable");
    await waitForState(page, (s) => s.connected && s.audio === "on");
    const player = new Player(sink, { leadMs: 500 });
    player.enqueue(new Float32Array(48000).fill(0.05), 24000, "long"); // 2 s
    const first = await waitForState(page, (s) => s.playedSamples > 0);
    player.stop();
    await new Promise((r) => setTimeout(r, 300));
    const after = await pageState(page);
    await new Promise((r) => setTimeout(r, 500));
    const later = await pageState(page);
    assert.equal(later.playedSamples, after.playedSamples, "still playing after stop");
    assert.ok(later.playedSamples < later.receivedSamples, `played ${later.playedSamples} of ${later.receivedSamples} received`);
    assert.ok(later.receivedSamples < 48000 && first.playedSamples < 48000);
    const buffered = await page.evaluate(() => (window as unknown as { __voiceStream: { bufferedSamples: number } }).__voiceStream.bufferedSamples);
    assert.equal(buffered, 0);
    await page.close();
  });

  it("checks authorization on the WebSocket upgrade", async () => {
    const fresh = new BrowserSink({ basePath: "/p2", authorize: async (req) => req.headers.authorization === credentials });
    const srv = http.createServer();
    srv.on("upgrade", (req, socket, head) => fresh.handleUpgrade(req, socket, head) || socket.destroy());
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const wsUrl = `ws://127.0.0.1:${(srv.address() as AddressInfo).port}/p2/ws`;
    const attempt = (headers: Record<string, string>) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(wsUrl, { headers });
        ws.on("message", (data) => {
          resolve(String(data));
          ws.close();
        });
        ws.on("unexpected-response", (_req, res) => resolve(`HTTP ${res.statusCode}`));
        ws.on("error", (err) => resolve(`error ${err.message}`));
      });
    assert.equal(await attempt({}), "HTTP 401");
    assert.equal(await attempt({ Authorization: "Basic " + Buffer.from("user:wrong").toString("base64") }), "HTTP 401");
    const hello = JSON.parse(await attempt({ Authorization: credentials }));
    assert.equal(hello.type, "hello");
    assert.equal(hello.sampleRate, 24000);
    assert.match(hello.session, /^[0-9a-f-]{36}$/);
    await fresh.close();
    await new Promise((r) => srv.close(r));
  });
});
