/**
 * The ui-voice widget in a real Node-RED with Dashboard 2.0, in headless Chromium whose fake
 * microphone plays a speech WAV: the example "Dashboard voice assistant" (with the tiny test
 * Whisper, the stories260K demo LLM and espeak-ng) hears the browser's microphone, shows the
 * captions and the answer, and plays the answer's audio in the dashboard that spoke.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Browser, Page } from "playwright-core";
import { decodeWav, encodeWav } from "../../src/core/audio/wav";
import { needTool } from "../helpers/system-tools";
import { artifactPath, launchChromium } from "../helpers/chromium";
import { linkDashboard } from "../helpers/dashboard";
import { fixtureDir } from "../helpers/fixtures";
import { NodeRedProcess, exampleFlows } from "../helpers/node-red-process";
import { repoRoot, sharedDir } from "../helpers/paths";

const WIDGET = "d5000000000003";

interface WidgetState {
  connected: boolean;
  session: string | null;
  audio: string;
  capturing: boolean;
  mic: string;
  sentSamples: number;
  receivedSamples: number;
  playedSamples: number;
  droppedSamples: number;
  bufferedSamples: number;
  phase: string;
  phases: string[];
  micSettings: { echoCancellation?: boolean; noiseSuppression?: boolean; autoGainControl?: boolean; sampleRate?: number; contextRate?: number } | null;
  error: string;
}

async function widget(page: Page): Promise<WidgetState | undefined> {
  return page.evaluate((id) => (window as unknown as { __uiVoice?: Record<string, WidgetState> }).__uiVoice?.[id], WIDGET);
}

async function until(page: Page, check: (s: WidgetState) => boolean, ms: number, what: string): Promise<WidgetState> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await widget(page);
    if (s && check(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; widget state ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `samples` (16 kHz) with 0.3 s of silence before and enough after to last 8 s. */
function padded(samples: Float32Array): Float32Array {
  const out = new Float32Array(16000 * 8);
  out.set(samples, Math.round(16000 * 0.3));
  return out;
}

function asrFinal(model: string, wav: string): string {
  const r = spawnSync(process.execPath, [path.join(repoRoot(), "bin", "voice-stream.js"), "asr", "--model", model, "--input", wav, "--language", "en", "--json"], { encoding: "utf8", timeout: 120000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  return lines[lines.length - 1].text as string;
}

describe("ui-voice: the Dashboard 2.0 widget in headless Chromium with a fake microphone", function () {
  this.timeout(300000);
  // The fake microphone loops its file from the moment the page opens it: the question, padded
  // with silence so that one capture (held 4.2 s) hears it once, whole, and never the loop's wrap.
  let speech: string;
  let red: NodeRedProcess;
  let browser: Browser;
  let whisperDir: string;
  let outDir: string;

  before(async function () {
    const executablePath = needTool(this, "chromium");
    whisperDir = await fixtureDir("tiny-whisper");
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), "ui-voice-"));
    speech = path.join(outDir, "question.wav");
    fs.writeFileSync(speech, encodeWav(padded(decodeWav(fs.readFileSync(sharedDir("audio", "weather_16k.wav"))).samples), 16000));
    red = await NodeRedProcess.start({ env: { HF_ENDPOINT: "http://127.0.0.1:9" }, prepare: linkDashboard });
    browser = await launchChromium(executablePath, { micWav: speech });
  });
  after(async () => {
    await browser?.close();
    await red?.stop();
  });

  it("speech through the browser microphone → whisper → captions, answer and its audio in the dashboard that spoke", async () => {
    const example = exampleFlows().find((e) => e.title === "Dashboard voice assistant");
    assert.ok(example, "examples/Dashboard voice assistant.json");
    const flow = example.flow.map((n) => ({ ...n }));
    const byId = (id: string) => flow.find((n) => n.id === id)!;
    // Offline models: the tiny test Whisper, the demo's stories260K, espeak-ng.
    Object.assign(byId("d5000000000010"), { enginesPath: whisperDir });
    Object.assign(byId("d5000000000011"), { enginesPath: red.modelDir, dtype: "" });
    Object.assign(byId("d5000000000005"), { system: "", maxNewTokens: "40", seed: "1" });
    Object.assign(byId("d5000000000004"), { partialIntervalMs: "0" });
    const z = "d5000000000001";
    // Taps: the microphone audio the widget sent, the answer's audio, whisper's final, playback events.
    flow.push(
      { id: "t_mic_wav", type: "audio-out", z, sink: "file", path: path.join(outDir, "mic-{stream_id}.wav"), wires: [["t_events"]] },
      { id: "t_tts_wav", type: "audio-out", z, sink: "file", path: path.join(outDir, "answer-{stream_id}.wav"), wires: [["t_events"]] },
      { id: "t_events", type: "debug", z, name: "events", active: true, tosidebar: true, complete: "event", targetType: "msg" },
      { id: "t_final", type: "debug", z, name: "final", active: true, tosidebar: true, complete: "text", targetType: "msg" },
    );
    (byId(WIDGET).wires as string[][])[0].push("t_mic_wav");
    (byId("d5000000000006").wires as string[][])[0].push("t_tts_wav");
    (byId("d5000000000004").wires as string[][])[1].push("t_final");
    await red.deploy(flow);
    await red.waitFor(() => ["d5000000000004", "d5000000000005"].every((id) => red.statusOf(id)?.text === "ready"), 60000, "whisper and the LLM to be ready");

    const [pageA, pageB] = [await browser.newPage(), await browser.newPage()];
    for (const page of [pageA, pageB]) {
      await page.goto(`${red.url}/dashboard/voice`);
      await until(page, (s) => s.connected && s.session !== null, 30000, "the widget to connect");
    }
    // Hold the talk button while the WAV plays into the microphone (3.56 s), then release.
    const talk = pageA.locator(".ui-voice-talk");
    await talk.hover();
    await pageA.mouse.down();
    const open = await until(pageA, (s) => s.capturing && s.mic === "on", 10000, "the microphone to open");
    assert.equal(open.phase, "listening");
    assert.equal(await pageA.locator(".ui-voice-state").textContent(), "listening…");
    assert.deepEqual(
      [open.micSettings?.echoCancellation, open.micSettings?.noiseSuppression, open.micSettings?.autoGainControl],
      [true, true, true],
      `the browser's microphone processing: ${JSON.stringify(open.micSettings)}`,
    );
    await until(pageA, (s) => s.sentSamples >= 16000 * 4.2, 20000, "4.2 s of microphone audio");
    await pageA.mouse.up();
    await until(pageA, (s) => !s.capturing, 5000, "the capture to end");

    await red.waitFor(() => red.debug.some((d) => d.id === "t_final"), 60000, "whisper's final");
    const final = String(red.debug.find((d) => d.id === "t_final")!.msg).replace(/^"|"$/g, "");
    const caption = pageA.locator(".ui-voice-caption");
    await caption.filter({ hasText: final }).waitFor({ timeout: 10000 });
    const shown = (await caption.textContent())!.trim();
    assert.equal(shown, final.trim());

    // The same text as `voice-stream asr` on the audio the browser sent.
    const micFiles = fs.readdirSync(outDir).filter((f) => f.startsWith("mic-"));
    await red.waitFor(() => red.debug.filter((d) => d.id === "t_events" && /drained/.test(String(d.msg))).length >= 1, 30000, "the mic WAV to be written");
    assert.equal(micFiles.length, 1, micFiles.join(", "));
    const micWav = path.join(outDir, micFiles[0]);
    const captured = decodeWav(fs.readFileSync(micWav));
    assert.equal(captured.sampleRate, 16000);
    assert.ok(captured.samples.length >= 16000 * 4, `captured ${captured.samples.length} samples`);
    const cli = asrFinal(whisperDir, micWav);
    assert.equal(shown, cli.trim(), "the widget shows what voice-stream asr hears in the captured audio");
    // And the same as `voice-stream asr` on the WAV the microphone played: what the user said.
    const onFile = asrFinal(whisperDir, speech);
    assert.equal(shown, onFile.trim(), "the widget shows what voice-stream asr hears in the WAV the microphone played");
    console.log(`      widget caption "${shown}"; voice-stream asr on the captured audio "${cli}", on the source WAV "${onFile}"`);

    // The answer streams in as text, then plays in page A (samples counted by its worklet), not in page B.
    await red.waitFor(() => red.debug.filter((d) => d.id === "t_events" && /drained/.test(String(d.msg))).length >= 2, 120000, "the answer's WAV to be written");
    const answerFile = fs.readdirSync(outDir).find((f) => f.startsWith("answer-"))!;
    const answer = decodeWav(fs.readFileSync(path.join(outDir, answerFile)));
    const expected = Math.round((answer.samples.length / answer.sampleRate) * 24000);
    const s = await until(pageA, (st) => st.playedSamples >= expected - 48 && st.bufferedSamples === 0, 120000, "the answer to play");
    assert.equal(s.droppedSamples, 0);
    assert.equal(s.playedSamples, s.receivedSamples);
    assert.ok(Math.abs(s.receivedSamples - expected) <= 48, `page A played ${s.receivedSamples} samples; the answer is ${expected} at 24 kHz`);
    const text = (await pageA.locator(".ui-voice-answer").textContent())!.trim();
    assert.ok(text.length > 0, "the answer's text is shown");
    // The state went listening → thinking (Whisper and the LLM at work) → speaking → ready.
    const phases = s.phases.slice(s.phases.indexOf("listening"));
    assert.deepEqual(phases, ["listening", "thinking", "speaking", "idle"], s.phases.join(" → "));
    assert.equal(await pageA.locator(".ui-voice-state").textContent(), "ready");
    console.log(`      microphone ${JSON.stringify(open.micSettings)}; phases ${s.phases.join(" → ")}`);
    const b = await widget(pageB);
    assert.equal(b!.receivedSamples, 0, "the other dashboard (its own session) did not play this turn");
    assert.equal(await pageB.locator(".ui-voice-answer").textContent(), "");
    console.log(`      answer "${text.slice(0, 80)}…": ${(expected / 24000).toFixed(2)} s, ${s.playedSamples} samples played in page A`);
    // Nothing went wrong on the way (Dashboard runs the widget's handler for every msg into it).
    assert.deepEqual(red.debug.filter((d) => d.level === 20).map((d) => String(d.msg)), [], "no node reported an error");
    assert.deepEqual(red.problems().filter((l) => !/unencrypted credentials|Projects disabled/.test(l)), [], "no runtime warnings or errors");
    // Dashboard's one-time "App is offline ready" notice would cover part of the picture.
    const notice = pageA.locator("text=Close");
    if (await notice.count()) await notice.first().click();
    await pageA.screenshot({ path: artifactPath("ui-voice-dashboard.png") });
    await pageA.close();
    await pageB.close();
  });

  it("the editor: ui voice in the palette, its dialog with Dashboard's group picker, and its help", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(red.url + "/");
    // The node's type is known before the editor has loaded the flows: wait for the widget itself
    // (editing before that opened no dialog on a loaded 2-core machine).
    await page.waitForFunction((id) => !!(window as unknown as { RED?: { nodes?: { node?: (i: string) => unknown } } }).RED?.nodes?.node?.(id), WIDGET, { timeout: 30000 });
    await page.locator('.red-ui-palette-node[data-palette-type="ui-voice"]').waitFor({ timeout: 10000 });
    await page.evaluate((id) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const R = (window as unknown as { RED: any }).RED;
      R.editor.edit(R.nodes.node(id));
    }, WIDGET);
    await page.locator("#node-input-group").waitFor({ state: "visible", timeout: 10000 });
    assert.equal(await page.locator("#node-input-group").inputValue(), "d5000000000020");
    assert.equal(await page.locator("#node-input-mode").inputValue(), "push-to-talk");
    assert.equal(await page.locator("#node-input-playTo").inputValue(), "session");
    assert.ok(await page.locator("#node-input-size").isVisible(), "the size button (Dashboard's element sizer)");
    await page.screenshot({ path: artifactPath("ui-voice-dialog.png") });
    await page.locator("#node-dialog-cancel").click();
    const help = await page.evaluate(() => document.querySelector('script[data-help-name="ui-voice"]')?.textContent ?? "");
    assert.match(help, /Play to/);
    await page.close();
  });
});
