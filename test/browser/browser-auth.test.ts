/**
 * The browser pages and their sockets behind Node-RED's httpNodeAuth, in a real Node-RED with
 * Dashboard 2.0: without credentials the microphone page, the dashboard and both WebSockets
 * are refused (401); with them, the pages connect.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Browser } from "playwright-core";
import { WebSocket } from "ws";
import { needTool } from "../helpers/system-tools";
import { launchChromium } from "../helpers/chromium";
import { linkDashboard } from "../helpers/dashboard";
import { NodeRedProcess, exampleFlows } from "../helpers/node-red-process";
import { repoRoot } from "../helpers/paths";

const WIDGET = "d5000000000003";
const MIC = "auth_mic";

function upgrade(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on("message", (data) => {
      resolve(JSON.parse(String(data)).type);
      ws.close();
    });
    ws.on("unexpected-response", (_req, res) => resolve(`HTTP ${res.statusCode}`));
    ws.on("error", (err) => resolve(`error ${err.message}`));
  });
}

describe("browser pages behind httpNodeAuth, dashboard.middleware and dashboard.ioMiddleware (Node-RED + Dashboard 2.0, headless Chromium)", function () {
  this.timeout(120000);
  let red: NodeRedProcess;
  let browser: Browser;
  const auth = "Basic " + Buffer.from("voice:secret").toString("base64");

  before(async function () {
    const executablePath = needTool(this, "chromium");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bcrypt = require(require.resolve("bcryptjs", { paths: [path.dirname(require.resolve("node-red/package.json", { paths: [repoRoot()] }))] }));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-auth-"));
    const settingsFile = path.join(dir, "settings.js");
    const base = path.join(repoRoot(), "scripts", "node-red-settings.js");
    const hash = bcrypt.hashSync("secret", 8);
    // Dashboard's own gate (dashboard.middleware) too: here a session cookie a login would set.
    const dashboardGate = `function (req, res, next) { if (/(^|; )dash=ok(;|$)/.test(req.headers.cookie || "")) return next(); res.status(403).end(); }`;
    // And its socket gate (dashboard.ioMiddleware, socket.io style): a second cookie, read off the handshake.
    const socketGate = `function (socket, next) { if (/(^|; )io=ok(;|$)/.test(socket.handshake.headers.cookie || "")) return next(); next(new Error("not signed in")); }`;
    fs.writeFileSync(
      settingsFile,
      `module.exports = { ...require(${JSON.stringify(base)}), httpNodeAuth: { user: "voice", pass: ${JSON.stringify(hash)} }, dashboard: { middleware: ${dashboardGate}, ioMiddleware: ${socketGate} } };\n`,
    );
    red = await NodeRedProcess.start({ settingsFile, prepare: linkDashboard });
    browser = await launchChromium(executablePath);
    const example = exampleFlows().find((e) => e.title === "Dashboard voice assistant")!;
    // The widget and its dashboard only (no models needed), and an audio-in with the browser source.
    const keep = example.flow.filter((n) => ["tab", "ui-voice", "ui-group", "ui-page", "ui-base", "ui-theme"].includes(n.type as string));
    for (const n of keep) if (n.type === "ui-voice") n.wires = [[]];
    keep.push({ id: MIC, type: "audio-in", z: "d5000000000001", source: "browser", browserMode: "push-to-talk", wires: [[]] });
    await red.deploy(keep);
  });
  after(async () => {
    await browser?.close();
    await red?.stop();
  });

  it("refuses a page and a socket without credentials", async () => {
    const page = await browser.newPage();
    for (const route of [`/voice-stream/mic/${MIC}`, "/dashboard/voice", `/voice-stream/mic/${MIC}/player.js`]) {
      assert.equal((await red.request("GET", route)).status, 401, route);
      // Chromium answers a Basic challenge it has no credentials for with a navigation error.
      const outcome = await page.goto(red.url + route).then(
        (res) => `HTTP ${res?.status()}`,
        (err: Error) => err.message,
      );
      assert.match(outcome, /HTTP 401|ERR_INVALID_AUTH_CREDENTIALS/, route);
    }
    await page.close();
    const ws = red.url.replace(/^http/, "ws");
    assert.equal(await upgrade(`${ws}/voice-stream/mic/${MIC}/ws`), "HTTP 401");
    assert.equal(await upgrade(`${ws}/voice-stream/ui-voice/${WIDGET}/ws`), "HTTP 401");
    assert.equal(await upgrade(`${ws}/voice-stream/ui-voice/${WIDGET}/ws`, { Authorization: "Basic " + Buffer.from("voice:wrong").toString("base64") }), "HTTP 401");
    // The widget's socket also passes Dashboard's middleware, as the dashboard page does.
    assert.equal(await upgrade(`${ws}/voice-stream/ui-voice/${WIDGET}/ws`, { Authorization: auth }), "HTTP 401");
    // And Dashboard's socket middleware, as Dashboard's own socket.io does.
    assert.equal(await upgrade(`${ws}/voice-stream/ui-voice/${WIDGET}/ws`, { Authorization: auth, Cookie: "dash=ok" }), "HTTP 401");
    assert.equal(await upgrade(`${ws}/voice-stream/ui-voice/${WIDGET}/ws`, { Authorization: auth, Cookie: "dash=ok; io=ok" }), "hello");
    assert.equal(await upgrade(`${ws}/voice-stream/mic/${MIC}/ws`, { Authorization: auth }), "hello");
  });

  it("with credentials the microphone page and the dashboard widget connect", async () => {
    const context = await browser.newContext({ httpCredentials: { username: "voice", password: "secret" } });
    await context.addCookies([
      { name: "dash", value: "ok", url: red.url },
      { name: "io", value: "ok", url: red.url },
    ]);
    const mic = await context.newPage();
    await mic.goto(`${red.url}/voice-stream/mic/${MIC}`);
    await mic.waitForFunction(() => (window as unknown as { __voiceStream?: { connected: boolean } }).__voiceStream?.connected === true, undefined, { timeout: 15000 });
    const dash = await context.newPage();
    await dash.goto(`${red.url}/dashboard/voice`);
    await dash.waitForFunction((id) => (window as unknown as { __uiVoice?: Record<string, { connected: boolean }> }).__uiVoice?.[id]?.connected === true, WIDGET, { timeout: 30000 });
    await context.close();
  });
});
