/**
 * The tts-streamer's voice picker and speed field in the real editor (Chromium): with a
 * deployed Kokoro voice-model (tiny-kokoro), the voice field suggests the model's voices from
 * the admin endpoint; a speed outside 0.25–4 is flagged.
 */
import { strict as assert } from "assert";
import { chromium, type Browser, type Page } from "playwright-core";
import { fixtureDir } from "../helpers/fixtures";
import { NodeRedProcess } from "../helpers/node-red-process";

describe("editor: tts-streamer voice picker with Kokoro (Chromium)", function () {
  this.timeout(120000);
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;

  before(async function () {
    red = await NodeRedProcess.start({ env: { HF_ENDPOINT: "http://127.0.0.1:9" } });
    const dir = await fixtureDir("tiny-kokoro");
    await red.deploy([
      { id: "t1", type: "tab", label: "kokoro" },
      { id: "m_kokoro", type: "voice-model", name: "kokoro", kind: "tts", enginesPath: dir, revision: "main", dtype: "", provider: "cpu", voice: "", engine: "", config: "" },
      { id: "n_tts", type: "tts-streamer", z: "t1", name: "", model: "m_kokoro", voice: "", speed: "", x: 200, y: 100, wires: [[]] },
    ]);
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
    page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
    await page.goto(red.url + "/");
    await page.waitForFunction(() => !!(window as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED?.nodes?.node("n_tts"), undefined, { timeout: 60000 });
  });
  after(async () => {
    await browser?.close();
    await red?.stop();
  });

  it("suggests the model's voices and flags a speed outside 0.25–4", async () => {
    await page.evaluate(() => {
      const R = (window as unknown as { RED: any }).RED;
      R.editor.edit(R.nodes.node("n_tts"));
    });
    await page.locator("#node-input-voice").waitFor({ state: "visible", timeout: 10000 });
    // The model loads after deploy; the picker asks the endpoint (and the folder) for the voices.
    await page.waitForFunction(() => document.querySelectorAll("#node-input-voice-list option").length === 3, undefined, { timeout: 30000 });
    const voices = await page.evaluate(() => Array.from(document.querySelectorAll("#node-input-voice-list option"), (o) => (o as HTMLOptionElement).value));
    assert.deepEqual(voices, ["af_heart", "am_adam", "bf_emma"]);
    const speed = page.locator("#node-input-speed");
    await speed.fill("9");
    await speed.dispatchEvent("change");
    await speed.press("Tab");
    await page.waitForFunction(() => document.querySelector("#node-input-speed")?.classList.contains("input-error"), undefined, { timeout: 5000 });
    await speed.fill("1.5");
    await speed.dispatchEvent("change");
    await speed.press("Tab");
    await page.waitForFunction(() => !document.querySelector("#node-input-speed")?.classList.contains("input-error"), undefined, { timeout: 5000 });
    await page.locator("#node-input-voice").fill("af_heart:0.7,am_adam:0.3");
    await page.locator("#node-dialog-ok").click();
    await page.waitForFunction(() => document.querySelector("#node-dialog-ok") === null, undefined, { timeout: 10000 });
    const saved = await page.evaluate(() => {
      const n = (window as unknown as { RED: any }).RED.nodes.node("n_tts");
      return { speed: String(n.speed), voice: String(n.voice) };
    });
    assert.deepEqual(saved, { speed: "1.5", voice: "af_heart:0.7,am_adam:0.3" });
  });
});
