/**
 * `npm start` as a newcomer runs it (scripts/start.js, a fresh user dir): Node-RED comes up
 * with the demo flow, the palette manager may install nodes (so node-red-dashboard can be
 * added), and the log has no warning or error beyond Node-RED's own two named notes.
 */
import { strict as assert } from "assert";
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort } from "../helpers/node-red-process";
import { repoRoot } from "../helpers/paths";

const EXPECTED_WARNINGS = [/\[warn\] .*unencrypted credentials/, /\[warn\] Projects disabled/];

describe("e2e: npm start", function () {
  this.timeout(120000);
  let child: ChildProcess | undefined;
  let log = "";
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-npm-start-"));
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it("starts the demo with the palette manager able to install, and no unexpected warning", async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), NODE_RED_USER_DIR: userDir };
    delete env.NODE_RED_PALETTE_INSTALL;
    child = spawn(process.execPath, [path.join(repoRoot(), "scripts", "start.js")], { cwd: repoRoot(), env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
    const until = Date.now() + 90000;
    while (!/Started flows/.test(log)) {
      assert.equal(child.exitCode, null, `npm start exited:\n${log}`);
      assert.ok(Date.now() < until, `Node-RED did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(log, /demo flow "Tell me a story" copied/);
    const res = await fetch(`http://127.0.0.1:${port}/settings`, { headers: { Accept: "application/json" } });
    const settings = (await res.json()) as { externalModules?: { palette?: { allowInstall?: boolean } } };
    assert.equal(settings.externalModules?.palette?.allowInstall, true, "Menu → Manage palette → Install is available");
    await new Promise((r) => setTimeout(r, 2000)); // the demo's models load
    const problems = log.split("\n").filter((l) => /\[(warn|error)\]/.test(l) && !EXPECTED_WARNINGS.some((w) => w.test(l)));
    assert.deepEqual(problems, []);
  });
});
