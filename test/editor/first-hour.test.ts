/**
 * A newcomer's first hour, walked in Chromium through the real editor of a fresh `npm start`
 * (the same user-dir setup, the demo flow copied in): find the nodes by searching the palette
 * for "voice", open every node's dialog and help, pick a model in the voice-model dialog and
 * download it with progress (a local hub stands in for huggingface.co), see the codec-only
 * settings hidden for an eSpeak voice, import every example through Import → Examples and
 * deploy it, then run the demo and read the story in the debug sidebar.
 *
 * Every step leaves a screenshot in test-artifacts/first-hour/ (FIRST_HOUR_ARTIFACTS
 * overrides); UPDATE_DOCS_SCREENSHOT=1 also refreshes docs/first-hour-demo.png for the README.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { chromium, type Browser, type Page } from "playwright-core";
import { fixtureDir } from "../helpers/fixtures";
import { startHubServer, type HubServer } from "../helpers/hub-server";
import { NodeRedProcess, exampleFlows } from "../helpers/node-red-process";
import { repoRoot } from "../helpers/paths";
import { needTool } from "../helpers/system-tools";
import { linkDashboard } from "../helpers/dashboard";
import { piperVoiceFolder, piperVoicesRepo } from "../helpers/piper-voices-repo";

const FLOW_TYPES = ["llm-stream", "tts-streamer", "whisper-streamer", "audio-out", "audio-in", "ui-voice"];
/** Dashboard 2.0's config nodes that the "Dashboard voice assistant" example uses around ui-voice. */
const DASHBOARD_CONFIG_TYPES = ["ui-base", "ui-page", "ui-group", "ui-theme"];
const DEMO_INJECT = "d3m0000000000003";
const DEMO_TTS = "d3m0000000000005";
const DEMO_LLM_MODEL = "d3m0000000000010";
const DEMO_STORY_DEBUG = "d3m0000000000008";
/** Chromium as a test runner wants it: headless, no GPU, no background traffic, no sandbox (root in CI). */
/** A download size as the picker shows an exact one. */
const shownSize = (bytes: number) =>
  bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : bytes >= 1e3 ? `${(bytes / 1e3).toFixed(1)} kB` : `${bytes} B`;
const sizeOf = (dir: string, rels: string[]) => rels.reduce((sum, rel) => sum + fs.statSync(path.join(dir, rel)).size, 0);
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-extensions", "--disable-sync", "--no-first-run", "--mute-audio"];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyRed = any;

describe("first hour: the README walked in the editor (Chromium, screenshots)", function () {
  this.timeout(180000);
  let hub: HubServer;
  let llmDir: string;
  let piperDir: string;
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;
  const artifacts = path.resolve(process.env.FIRST_HOUR_ARTIFACTS || path.join(repoRoot(), "test-artifacts", "first-hour"));
  let shot = 0;

  /** A numbered screenshot of the whole editor window, kept as a test artifact. */
  async function screenshot(name: string): Promise<string> {
    const file = path.join(artifacts, `${String(++shot).padStart(2, "0")}-${name.replace(/[^A-Za-z0-9-]+/g, "-")}.png`);
    await page.screenshot({ path: file });
    assert.ok(fs.statSync(file).size > 5000, `${file} holds a picture`);
    return file;
  }

  const red$ = (fn: (R: AnyRed, arg: unknown) => unknown, arg?: unknown) =>
    page.evaluate(([source, a]) => new Function("R", "a", `return (${source})(R, a)`)((window as unknown as { RED: AnyRed }).RED, a), [fn.toString(), arg] as const);

  before(async function () {
    const executablePath = needTool(this, "chromium");
    fs.rmSync(artifacts, { recursive: true, force: true });
    fs.mkdirSync(artifacts, { recursive: true });
    llmDir = await fixtureDir("tiny-llm");
    piperDir = await piperVoicesRepo(["en_US-lessac-medium", "en_GB-alan-medium", "de_DE-thorsten-medium", "fr_FR-siwis-medium"]);
    hub = await startHubServer({
      repos: { "onnx-community/Qwen3-0.6B-ONNX": llmDir, "onnx-community/whisper-base": await fixtureDir("tiny-whisper"), "rhasspy/piper-voices": piperDir },
    });
    // `npm start` links Dashboard 2.0 (a devDependency) into the user dir: so does this walk.
    red = await NodeRedProcess.start({ demo: true, env: { HF_ENDPOINT: hub.url, VOICE_STREAM_CACHE: "" }, prepare: linkDashboard });
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1440, height: 860 } });
    await page.goto(red.url + "/");
    await page.waitForFunction(() => {
      const w = window as unknown as { RED?: AnyRed };
      return !!w.RED?.nodes?.getType("llm-stream") && document.querySelector("#red-ui-workspace-chart .red-ui-flow-node") !== null;
    }, undefined, { timeout: 60000 });
  });
  after(async () => {
    await browser?.close();
    await red?.stop();
    await hub?.close();
  });

  it("opens the editor on the demo flow", async () => {
    const tabs = (await red$((R) => R.nodes.filterNodes({ type: "llm-stream" }).length)) as number;
    assert.equal(tabs, 1, "the demo's llm-stream is on the canvas");
    await screenshot("editor-demo-flow");
  });

  it("finds every node of the suite by searching the palette for 'voice'", async () => {
    const search = page.locator("#red-ui-palette-search input");
    await search.fill("voice");
    await page.waitForTimeout(300);
    const visible = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>(".red-ui-palette-node"))
        .filter((el) => el.offsetParent !== null)
        .map((el) => el.getAttribute("data-palette-type")),
    );
    for (const type of FLOW_TYPES) assert.ok(visible.includes(type), `palette search 'voice' shows ${type} (shown: ${visible.join(", ")})`);
    await screenshot("palette-search-voice");
    await search.fill("");
    // npm start installs Dashboard 2.0 for the Dashboard example: its widgets are in the palette, its config nodes known.
    await page.waitForTimeout(300);
    const palette = await page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>(".red-ui-palette-node")).map((el) => el.getAttribute("data-palette-type")));
    assert.ok(palette.includes("ui-button"), `Dashboard 2.0's ui-button is in the palette (shown: ${palette.join(", ")})`);
    for (const type of DASHBOARD_CONFIG_TYPES) assert.ok(await red$((R, t) => !!R.nodes.getType(t), type), `Dashboard 2.0's ${type} is known to the editor`);
  });

  for (const type of FLOW_TYPES) {
    it(`${type}: its dialog opens and its help reads`, async () => {
      const id = (await red$(
        (R, t) => {
          const existing = R.nodes.filterNodes({ type: t })[0];
          if (existing) return existing.id;
          const nid = "fh" + String(t).replace(/-/g, "");
          R.view.importNodes([{ id: nid, type: t, x: 300, y: 420, z: R.workspaces.active(), wires: [] }], { generateIds: false });
          return nid;
        },
        type,
      )) as string;
      await red$((R, nid) => R.editor.edit(R.nodes.node(nid)), id);
      await page.locator("#node-dialog-ok").waitFor({ state: "visible", timeout: 10000 });
      await page.waitForTimeout(300);
      await screenshot(`dialog-${type}`);
      await page.locator("#node-dialog-cancel").click();
      await page.waitForFunction(() => document.querySelector("#node-dialog-ok") === null, undefined, { timeout: 10000 });
      await red$((R, t) => R.sidebar.help.show(t), type);
      await page.waitForFunction(() => Array.from(document.querySelectorAll(".red-ui-help h3")).some((h) => h.textContent?.trim() === "Inputs"), undefined, { timeout: 10000 });
      await screenshot(`help-${type}`);
      // A node added only to see its dialog goes again: unconfigured, it would hold up the deploys below.
      await red$((R, nid) => {
        if (!String(nid).startsWith("fh")) return;
        R.nodes.remove(nid);
        R.nodes.dirty(true);
        R.view.redraw(true);
      }, id);
    });
  }

  it("tts streamer: the codec-only chunk settings are hidden for the eSpeak voice, with a hint", async () => {
    await red$((R, nid) => R.editor.edit(R.nodes.node(nid)), DEMO_TTS);
    await page.locator("#node-dialog-ok").waitFor({ state: "visible", timeout: 10000 });
    assert.equal(await page.locator("#node-input-framesPerChunk").isVisible(), false, "chunk setting hidden for espeak");
    assert.equal(await page.locator(".tts-not-codec").isVisible(), true, "the hint says why");
    await screenshot("dialog-tts-espeak-voice");
    await page.locator("#node-dialog-cancel").click();
    await page.waitForFunction(() => document.querySelector("#node-dialog-ok") === null, undefined, { timeout: 10000 });
  });

  it("voice-model: 'Model' with a picker of tested models, and 'Download now' fetches one with progress", async () => {
    await red$((R, cid) => R.editor.editConfig("", "voice-model", cid), DEMO_LLM_MODEL);
    try {
      await pickAndDownload();
    } finally {
      // Leave the demo's model as it was, and no dialog open for the next steps.
      if (await page.locator("#node-config-dialog-cancel").isVisible()) await page.locator("#node-config-dialog-cancel").click();
      await page.waitForFunction(() => document.querySelector("#node-config-dialog-ok") === null, undefined, { timeout: 10000 });
    }
  });

  async function pickAndDownload(): Promise<void> {
    const label = page.locator('label[for="node-config-input-enginesPath"]');
    await label.waitFor({ state: "visible", timeout: 10000 });
    assert.equal((await label.textContent())?.trim(), "Model");
    const picker = page.locator("#voice-model-picker");
    await page.waitForFunction(() => document.querySelectorAll("#voice-model-picker option").length > 1, undefined, { timeout: 10000 });
    const options = await picker.locator("option").allTextContents();
    const qwen = options.find((o) => o.startsWith("Qwen3 0.6B"));
    assert.ok(qwen, options.join(" | "));
    // The exact size asked of the (test) hub: the q4 download is every file but the fp32 graph.
    const q4Files = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model_q4.onnx"];
    assert.equal(qwen, `Qwen3 0.6B (4-bit) · ${shownSize(sizeOf(llmDir, q4Files))} · Apache-2.0`);
    await picker.selectOption({ label: qwen! });
    assert.equal(await page.locator("#node-config-input-enginesPath").inputValue(), "onnx-community/Qwen3-0.6B-ONNX");
    assert.equal(await page.locator("#node-config-input-dtype").inputValue(), "q4");
    await screenshot("model-picker");
    // The test hub serves a tiny stand-in for the repo; fetch all its variants.
    await page.locator("#node-config-input-dtype").selectOption("");
    await page.locator("#voice-model-download").click();
    const progress = page.locator("#voice-model-download-progress");
    await page.waitForFunction(() => /in the cache|failed/.test(document.querySelector("#voice-model-download-progress")?.textContent ?? ""), undefined, { timeout: 60000 });
    assert.match(String(await progress.textContent()), /^in the cache · \d+ MB$/);
    // The picker now lists it under "Already downloaded".
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#voice-model-picker optgroup:last-child option')).some((o) => o.textContent?.startsWith("onnx-community/Qwen3-0.6B-ONNX")), undefined, { timeout: 10000 });
    await screenshot("model-downloaded");
    assert.ok(hub.requests.some((r) => r.url.includes("Qwen3-0.6B-ONNX")), "the download went to the (test) hub");
    await pickPiperVoice();
  }

  /** Kind tts: the piper voices are offered with the exact size of one voice's files and their licence pointer; picking one fills Model, Engine and Voice. */
  async function pickPiperVoice(): Promise<void> {
    await page.locator("#node-config-input-kind").selectOption("tts");
    await page.waitForFunction(() => Array.from(document.querySelectorAll("#voice-model-picker option")).some((o) => o.textContent?.startsWith("Piper ")), undefined, { timeout: 10000 });
    const options = await page.locator("#voice-model-picker option").allTextContents();
    const folder = piperVoiceFolder("en_US-lessac-medium");
    const voiceBytes = sizeOf(piperDir, [`${folder}/en_US-lessac-medium.onnx`, `${folder}/en_US-lessac-medium.onnx.json`, `${folder}/MODEL_CARD`]);
    const lessac = options.find((o) => o.startsWith("Piper en_US lessac"));
    assert.equal(lessac, `Piper en_US lessac (medium) · ${shownSize(voiceBytes)} · see the voice's MODEL_CARD`, options.join(" | "));
    for (const locale of ["en_GB", "de_DE", "fr_FR"]) assert.ok(options.some((o) => o.startsWith(`Piper ${locale}`) && / · see the voice's MODEL_CARD$/.test(o)), `${locale}: ${options.join(" | ")}`);
    await page.locator("#voice-model-picker").selectOption({ label: lessac! });
    assert.equal(await page.locator("#node-config-input-enginesPath").inputValue(), "rhasspy/piper-voices");
    assert.equal(await page.locator("#node-config-input-engine").inputValue(), "piper");
    assert.equal(await page.locator("#node-config-input-voice").inputValue(), "en_US-lessac-medium");
    await screenshot("model-picker-piper-voice");
  }

  /** Clicks Deploy and waits until it is done; if it is not, fails with what the editor shows and the runtime's last log lines. */
  async function deploy(): Promise<void> {
    await page.locator("#red-ui-header-button-deploy").click();
    try {
      await page.waitForFunction(() => document.querySelector("#red-ui-header-button-deploy")?.classList.contains("disabled"), undefined, { timeout: 30000 });
    } catch (err) {
      const shown = await page.evaluate(() => Array.from(document.querySelectorAll(".red-ui-notification"), (n) => (n.textContent ?? "").trim()));
      throw new Error(`the deploy did not finish in 30 s (${(err as Error).message.split("\n")[0]}); notifications: ${JSON.stringify(shown)}; runtime log:\n${red.log().split("\n").slice(-25).join("\n")}`);
    }
  }

  for (const { title, flow } of exampleFlows()) {
    it(`imports '${title}' through Import → Examples and deploys it`, async () => {
      await red$((R) => R.actions.invoke("core:show-examples-import-dialog"));
      const module = page.locator(".red-ui-clipboard-dialog-tabs-content .red-ui-treeList-label", { hasText: "node-red-contrib-voice-stream" }).first();
      await module.waitFor({ state: "visible", timeout: 10000 });
      await module.click();
      // The whole label: hasText alone matches substrings, and "Voice assistant" is inside "Dashboard voice assistant".
      const whole = new RegExp(`^\\s*${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`);
      const entry = page.locator(".red-ui-clipboard-dialog-tabs-content .red-ui-treeList-label", { hasText: whole }).first();
      await entry.waitFor({ state: "visible", timeout: 10000 });
      await entry.click();
      await page.locator("#red-ui-clipboard-dialog-ok").click();
      const tab = flow.find((n) => n.type === "tab")!;
      // The example arrives as a new tab of its own: find it by its label and open it.
      const tabId = (label: string) => {
        const R = (window as unknown as { RED: AnyRed }).RED;
        return (R.nodes.getWorkspaceOrder() as string[]).find((id) => R.nodes.workspace(id)?.label === label) ?? "";
      };
      await page.waitForFunction(`(${tabId.toString()})(${JSON.stringify(tab.label)}) !== ""`, undefined, { timeout: 10000 });
      const nodes = (await red$((R, label) => {
        const id = (R.nodes.getWorkspaceOrder() as string[]).find((w) => R.nodes.workspace(w)?.label === label);
        R.workspaces.show(id);
        return R.nodes.filterNodes({ z: id }).length;
      }, tab.label)) as number;
      assert.equal(nodes, flow.filter((n) => n.type !== "tab" && n.z).length, "every node of the example is on its tab");
      await deploy();
      await page.waitForTimeout(1500);
      await screenshot(`example-${title}`);
      assert.doesNotMatch(red.log(), /Waiting for missing types/);
    });
  }

  it("runs the demo: the inject button starts a story that streams into the debug sidebar", async () => {
    await red$((R) => R.workspaces.show("d3m0000000000001"));
    await red$((R) => R.sidebar.show("debug"));
    const debugFrom = red.debug.length;
    // The button on the inject node's left edge, as a user clicks it.
    const button = page.locator(`#${DEMO_INJECT} .red-ui-flow-node-button`);
    await button.click();
    await red.waitFor(() => red.debug.slice(debugFrom).some((d) => /drained/.test(String(d.msg))), 150000, "the story to be spoken and drained");
    // The "story text" debug node shows the whole story once it is written.
    const story = red.debug.slice(debugFrom).find((d) => d.id === DEMO_STORY_DEBUG);
    assert.ok(story && String(story.msg).length > 20, `the story text reached the debug sidebar: ${JSON.stringify(story)}`);
    const opening = String(story!.msg).replace(/^"|"$/g, "").slice(0, 20);
    await page.waitForFunction((text) => (document.querySelector(".red-ui-debug-content")?.textContent ?? "").includes(text), opening, { timeout: 10000 });
    const file = await screenshot("demo-story-in-debug-sidebar");
    if (process.env.UPDATE_DOCS_SCREENSHOT) fs.copyFileSync(file, path.join(repoRoot(), "docs", "first-hour-demo.png"));
  });
});
