/**
 * The suite in the real Node-RED editor, in Chromium (playwright-core; the system chromium, skipped without it outside CI):
 * palette entries with icons under "voice stream", each edit dialog flags an invalid value
 * and saves a valid one, each node's help has its Inputs/Outputs sections, Import → Examples
 * lists the suite's flows. Also saves the demo-flow screenshot used by the README.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { chromium, type Browser, type Page } from "playwright-core";
import { needTool } from "../helpers/system-tools";
import { repoRoot } from "../helpers/paths";
import { NodeRedProcess, exampleFlows } from "../helpers/node-red-process";
import { MODELS, startOpenAiTestServer } from "../helpers/openai-test-server";
import { fakeService } from "../helpers/fake-wyoming-service";

/** Flow node types, a field of each edit dialog, a value its validator rejects and one it accepts. */
const EDITS: { type: string; field: string; invalid: string; valid: string }[] = [
  { type: "llm-stream", field: "maxNewTokens", invalid: "-3", valid: "64" },
  { type: "tts-streamer", field: "sampleRateOut", invalid: "100", valid: "16000" },
  { type: "whisper-streamer", field: "partialIntervalMs", invalid: "-1", valid: "800" },
  { type: "audio-out", field: "volume", invalid: "9", valid: "0.5" },
  { type: "audio-in", field: "frameMs", invalid: "2", valid: "40" },
  { type: "wyoming-in", field: "port", invalid: "70000", valid: "10701" },
  // The own-voice guard's rows are one partial the build puts into both dialogs.
  { type: "vad", field: "guardMarginDb", invalid: "99", valid: "6" },
  { type: "wake-word", field: "guardMarginDb", invalid: "-41", valid: "3" },
  { type: "wake-word", field: "threshold", invalid: "2", valid: "0.6" },
];
const FLOW_TYPES = [...new Set(EDITS.map((e) => e.type))];

describe("editor: the suite in Node-RED 4's editor (Chromium)", function () {
  this.timeout(120000);
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;

  before(async function () {
    const executablePath = needTool(this, "chromium");
    red = await NodeRedProcess.start({ demo: true, env: { HF_ENDPOINT: "http://127.0.0.1:9" } });
    browser = await chromium.launch({ executablePath });
    page = await browser.newPage({ viewport: { width: 1560, height: 560 } });
    await page.goto(red.url + "/");
    await page.waitForFunction(() => {
      const w = window as unknown as { RED?: { nodes?: { getType(t: string): unknown } } };
      return !!w.RED?.nodes?.getType("llm-stream") && document.querySelector("#red-ui-workspace-chart .red-ui-flow-node") !== null;
    }, undefined, { timeout: 60000 });
  });
  after(async () => {
    await browser?.close();
    await red?.stop();
  });

  it("screenshots the demo flow (docs/demo-flow.png with UPDATE_DOCS_SCREENSHOT=1)", async () => {
    await page.evaluate(() => {
      const R = (window as unknown as { RED: any }).RED;
      R.sidebar?.hide?.();
      R.menu?.setSelected?.("menu-item-palette", false);
    });
    await page.waitForTimeout(500);
    const box = await page.locator("#red-ui-workspace-chart").boundingBox();
    assert.ok(box, "the workspace is on screen");
    // UPDATE_DOCS_SCREENSHOT=1 refreshes the README's picture; otherwise it goes to the temp user dir.
    const file = process.env.UPDATE_DOCS_SCREENSHOT ? path.join(repoRoot(), "docs", "demo-flow.png") : path.join(red.userDir, "demo-flow.png");
    await page.screenshot({ path: file, clip: { x: box.x, y: box.y, width: Math.min(box.width, 1060), height: Math.min(box.height, 290) } });
    const size = fs.statSync(file).size;
    assert.ok(size > 5000 && size < 200000, `screenshot is ${size} bytes`);
    await page.evaluate(() => {
      const R = (window as unknown as { RED: any }).RED;
      R.menu?.setSelected?.("menu-item-palette", true);
      R.sidebar?.show?.("info");
    });
  });

  it("every flow node is in the palette under 'voice stream' with its icon", async () => {
    for (const type of FLOW_TYPES) {
      const info = await page.evaluate((t) => {
        const R = (window as unknown as { RED: any }).RED;
        const def = R.nodes.getType(t);
        const el = document.querySelector(`.red-ui-palette-node[data-palette-type="${t}"]`);
        const category = el?.closest(".red-ui-palette-category")?.querySelector(".red-ui-palette-header")?.textContent?.trim();
        const icon = el?.querySelector(".red-ui-palette-icon") as HTMLElement | null;
        // A "font-awesome/fa-…" icon is drawn as an <i> in the palette, not as a background image.
        const fa = el?.querySelector(".red-ui-palette-icon-fa") as HTMLElement | null;
        return { category: def?.category, header: category, icon: icon ? getComputedStyle(icon).backgroundImage : "", iconName: def?.icon, faClass: fa?.className ?? "" };
      }, type);
      assert.equal(info.category, "voice stream", type);
      assert.match(String(info.header), /voice stream/i, `${type} palette header`);
      const fontAwesome = /^font-awesome\/(fa-[\w-]+)$/.exec(String(info.iconName));
      if (fontAwesome) {
        assert.ok(info.faClass.split(/\s+/).includes(fontAwesome[1]), `${type} palette icon ${fontAwesome[1]} (drawn as ${info.faClass || "nothing"})`);
        continue;
      }
      assert.match(info.icon, new RegExp(String(info.iconName).replace(/\./g, "\\.")), `${type} palette icon`);
      const url = info.icon.replace(/^url\("?/, "").replace(/"?\)$/, "");
      const res = await fetch(new URL(url, red.url).toString());
      assert.equal(res.status, 200, `${type} icon ${url} is served`);
      assert.match(String(res.headers.get("content-type")), /image/);
    }
  });

  for (const edit of EDITS) {
    it(`${edit.type}: the edit dialog flags '${edit.field}=${edit.invalid}' and saves '${edit.valid}'`, async () => {
      const id = await page.evaluate((t) => {
        const R = (window as unknown as { RED: any }).RED;
        const existing = R.nodes.filterNodes({ type: t })[0];
        if (existing) return existing.id as string;
        const result = R.view.importNodes([{ id: "edit" + t.replace(/-/g, ""), type: t, x: 200, y: 400, z: R.workspaces.active(), wires: [] }], { generateIds: false });
        void result;
        return "edit" + t.replace(/-/g, "");
      }, edit.type);
      await page.evaluate((nodeId) => {
        const R = (window as unknown as { RED: any }).RED;
        R.editor.edit(R.nodes.node(nodeId));
      }, id);
      const input = page.locator(`#node-input-${edit.field}`);
      await input.waitFor({ state: "visible", timeout: 10000 });
      await input.fill(edit.invalid);
      await input.dispatchEvent("change");
      await input.press("Tab");
      await page.waitForFunction((f) => document.querySelector(`#node-input-${f}`)?.classList.contains("input-error"), edit.field, { timeout: 5000 });
      await input.fill(edit.valid);
      await input.dispatchEvent("change");
      await input.press("Tab");
      await page.waitForFunction((f) => !document.querySelector(`#node-input-${f}`)?.classList.contains("input-error"), edit.field, { timeout: 5000 });
      await page.locator("#node-dialog-ok").click();
      await page.waitForFunction(() => document.querySelector("#node-dialog-ok") === null, undefined, { timeout: 10000 });
      const saved = await page.evaluate(([nodeId, f]) => String((window as unknown as { RED: any }).RED.nodes.node(nodeId)[f]), [id, edit.field]);
      assert.equal(saved, edit.valid);
    });
  }

  it("voice-model: the config dialog flags bad extra-config JSON and saves a valid one", async () => {
    const id = await page.evaluate(() => {
      let found: string | undefined;
      (window as unknown as { RED: any }).RED.nodes.eachConfig((n: { type: string; id: string }) => {
        if (!found && n.type === "voice-model") found = n.id;
      });
      return found;
    });
    assert.ok(id, "the demo has a voice-model config node");
    await page.evaluate((cid) => (window as unknown as { RED: any }).RED.editor.editConfig("", "voice-model", cid), id);
    const input = page.locator("#node-config-input-config");
    await input.waitFor({ state: "visible", timeout: 10000 });
    await input.fill("{not json");
    await input.dispatchEvent("change");
    await page.waitForFunction(() => document.querySelector("#node-config-input-config")?.classList.contains("input-error"), undefined, { timeout: 5000 });
    await input.fill('{"max_length": 512}');
    await input.dispatchEvent("change");
    await page.waitForFunction(() => !document.querySelector("#node-config-input-config")?.classList.contains("input-error"), undefined, { timeout: 5000 });
    await page.locator("#node-config-dialog-ok").click();
    await page.waitForFunction(() => document.querySelector("#node-config-dialog-ok") === null, undefined, { timeout: 10000 });
    const saved = await page.evaluate((cid) => (window as unknown as { RED: any }).RED.nodes.node(cid).config, id);
    assert.equal(saved, '{"max_length": 512}');
  });

  it("voice-model: a URL engines path shows the server-model row; 'Ask the server' lists its models to pick from", async () => {
    const server = await startOpenAiTestServer({ apiKey: "sk-editor" });
    try {
      const id = await page.evaluate(() => {
        let found: string | undefined;
        (window as unknown as { RED: any }).RED.nodes.eachConfig((n: { type: string; id: string }) => {
          if (!found && n.type === "voice-model") found = n.id;
        });
        return found;
      });
      await page.evaluate((cid) => (window as unknown as { RED: any }).RED.editor.editConfig("", "voice-model", cid), id);
      const path = page.locator("#node-config-input-enginesPath");
      await path.waitFor({ state: "visible", timeout: 10000 });
      assert.equal(await page.locator("#node-config-input-serverModel").isVisible(), false, "no server model for a local path");
      await path.fill(server.url);
      await path.dispatchEvent("input");
      await page.locator("#node-config-input-serverModel").waitFor({ state: "visible", timeout: 5000 });
      assert.equal(await page.locator("#node-config-input-caFile").isVisible(), true, "CA file for http(s)");
      assert.equal(await page.locator("#node-config-input-revision").isVisible(), false, "no revision for a server");
      await page.locator("#node-config-input-token").fill("sk-editor");
      await page.locator("#voice-model-ask-server").click();
      const list = page.locator("#voice-model-catalog");
      await list.waitFor({ state: "visible", timeout: 10000 });
      const offered = await list.locator("option").allTextContents();
      assert.ok(offered.includes(MODELS.llm), offered.join(", "));
      await list.selectOption({ label: MODELS.tts });
      assert.equal(await page.locator("#node-config-input-serverModel").inputValue(), MODELS.tts);
      assert.equal(server.requests[0].authorization, "Bearer sk-editor");
      await page.locator("#node-config-dialog-cancel").click();
      await page.waitForFunction(() => document.querySelector("#node-config-dialog-ok") === null, undefined, { timeout: 10000 });
    } finally {
      await server.close();
    }
  });

  it("voice-model: the same 'Ask the server' button asks a wyoming:// service (describe) for its voices; no CA file row", async () => {
    const service = await fakeService(() => undefined);
    try {
      const id = await page.evaluate(() => {
        let found: string | undefined;
        (window as unknown as { RED: any }).RED.nodes.eachConfig((n: { type: string; id: string }) => {
          if (!found && n.type === "voice-model") found = n.id;
        });
        return found;
      });
      await page.evaluate((cid) => (window as unknown as { RED: any }).RED.editor.editConfig("", "voice-model", cid), id);
      const path = page.locator("#node-config-input-enginesPath");
      await path.waitFor({ state: "visible", timeout: 10000 });
      await page.locator("#node-config-input-kind").selectOption("tts");
      await path.fill(service.url);
      await path.dispatchEvent("input");
      await page.locator("#node-config-input-serverModel").waitFor({ state: "visible", timeout: 5000 });
      assert.equal(await page.locator("#node-config-input-caFile").isVisible(), false, "a CA file is for https only");
      await page.locator("#voice-model-ask-server").click();
      const list = page.locator("#voice-model-catalog");
      await list.waitFor({ state: "visible", timeout: 10000 });
      const offered = await list.locator("option").allTextContents();
      assert.ok(offered.includes("voice: alice") && offered.includes("voice: bob"), offered.join(", "));
      await list.selectOption({ label: "voice: bob" });
      assert.equal(await page.locator("#node-config-input-voice").inputValue(), "bob");
      assert.ok(service.connections.some((c) => c.events.some((e) => e.type === "describe")), "the service was asked with describe");
      await page.locator("#node-config-dialog-cancel").click();
      await page.waitForFunction(() => document.querySelector("#node-config-dialog-ok") === null, undefined, { timeout: 10000 });
    } finally {
      await service.close();
    }
  });

  for (const type of [...FLOW_TYPES, "wyoming-out", "voice-model"]) {
    it(`${type}: help renders${type === "voice-model" ? "" : " with its Inputs / Outputs sections"}`, async () => {
      await page.evaluate((t) => {
        const R = (window as unknown as { RED: any }).RED;
        R.sidebar.help.show(t);
      }, type);
      await page.waitForFunction(
        (t) => Array.from(document.querySelectorAll(".red-ui-help")).some((el) => (el.textContent ?? "").length > 100 && !(el.textContent ?? "").includes("No information")) && (window as unknown as { RED: any }).RED.nodes.getNodeHelp(t),
        type,
        { timeout: 10000 },
      );
      const headings = await page.evaluate(() => Array.from(document.querySelectorAll(".red-ui-help h3")).map((h) => h.textContent?.trim()));
      if (type !== "voice-model") {
        // A node without inputs (wyoming in) or outputs (wyoming out) has no such section, as http in / http response.
        const ports = await page.evaluate((t) => {
          const def = (window as unknown as { RED: any }).RED.nodes.getType(t);
          return { inputs: def.inputs ?? 0, outputs: def.outputs ?? 0 };
        }, type);
        if (ports.inputs > 0) assert.ok(headings.includes("Inputs"), `${type} help headings: ${headings.join(", ")}`);
        if (ports.outputs > 0) assert.ok(headings.includes("Outputs"), `${type} help headings: ${headings.join(", ")}`);
      }
    });
  }

  it("Import → Examples lists the suite's flows", async () => {
    await page.evaluate(() => (window as unknown as { RED: any }).RED.actions.invoke("core:show-examples-import-dialog"));
    const module = page.locator(".red-ui-clipboard-dialog-tabs-content .red-ui-treeList-label", { hasText: "node-red-contrib-voice-stream" }).first();
    await module.waitFor({ state: "visible", timeout: 10000 });
    await module.click();
    for (const { title } of exampleFlows()) {
      await page.locator(".red-ui-clipboard-dialog-tabs-content .red-ui-treeList-label", { hasText: title }).first().waitFor({ state: "visible", timeout: 10000 });
    }
  });
});
