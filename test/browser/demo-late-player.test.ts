/**
 * The offline demo in a real Node-RED, with its browser player page opened 4 s after the
 * inject (issue: a listener that arrives late hears the whole story): the page must play
 * every sample of the story, the same audio the flow's other audio-out writes to a WAV file.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { Browser } from "playwright-core";
import { decodeWav } from "../../src/core/audio/wav";
import { needTool } from "../helpers/system-tools";
import { artifactPath, launchChromium } from "../helpers/chromium";
import { NodeRedProcess } from "../helpers/node-red-process";

const INJECT = "d3m0000000000003";
const PLAYER = "d3m0000000000006";

interface PageState {
  connected: boolean;
  audio: string;
  receivedSamples: number;
  playedSamples: number;
  droppedSamples: number;
  text: string;
}

describe("demo: the browser player page opened 4 s after the inject plays the whole story", function () {
  this.timeout(240000);
  let red: NodeRedProcess;
  let browser: Browser;

  before(async function () {
    const executablePath = needTool(this, "chromium");
    red = await NodeRedProcess.start({ demo: true, env: { HF_ENDPOINT: "http://127.0.0.1:9" } });
    browser = await launchChromium(executablePath);
  });
  after(async () => {
    await browser?.close();
    await red?.stop();
  });

  it("plays all samples of the story WAV the same flow writes", async () => {
    const res = await red.request("POST", `/inject/${INJECT}`);
    assert.equal(res.status, 200, res.text);
    await new Promise((r) => setTimeout(r, 4000));
    const page = await browser.newPage();
    await page.goto(`${red.url}/voice-stream/player/${PLAYER}`);
    assert.equal(await page.locator("#title").textContent(), "browser player");
    await page.click("text=Click to enable audio");
    const storyDir = path.join(red.userDir, "stories");
    await red.waitFor(() => red.debug.filter((d) => /drained/.test(String(d.msg))).length >= 2, 200000, "both audio-outs to drain");
    const files = fs.readdirSync(storyDir).filter((f) => f.endsWith(".wav"));
    assert.equal(files.length, 1);
    const wav = decodeWav(fs.readFileSync(path.join(storyDir, files[0])));
    const wavSeconds = wav.samples.length / wav.sampleRate;
    // The page plays at 24 kHz, the WAV is written at its own rate: compare in time.
    const expected = Math.round(wavSeconds * 24000);
    const state = () => page.evaluate(() => (window as unknown as { __voiceStream: PageState }).__voiceStream);
    const end = Date.now() + 120000;
    let s = await state();
    while (s.playedSamples < expected - 48 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 250));
      s = await state();
    }
    await new Promise((r) => setTimeout(r, 500));
    s = await state();
    console.log(`      story ${wavSeconds.toFixed(2)} s (${wav.samples.length} samples at ${wav.sampleRate} Hz); page received ${s.receivedSamples}, played ${s.playedSamples} at 24 kHz, dropped ${s.droppedSamples}`);
    assert.ok(wavSeconds > 4.5, `the story (${wavSeconds.toFixed(1)} s) outlasts the 4 s wait, so the page did arrive late`);
    assert.equal(s.droppedSamples, 0);
    assert.equal(s.playedSamples, s.receivedSamples, "everything received was played");
    if (wav.sampleRate === 24000) assert.equal(s.playedSamples, wav.samples.length, "every sample of the WAV");
    // At another rate, resampling to 24 kHz rounds at the stream's end: within 2 ms of the WAV.
    else assert.ok(Math.abs(s.playedSamples - expected) <= 48, `played ${s.playedSamples} samples, the WAV is ${expected} at 24 kHz`);
    assert.notEqual(s.text, "", "the page shows the text being spoken");
    await page.screenshot({ path: artifactPath("player-page.png") });
    await page.close();
  });
});
