#!/usr/bin/env node
/**
 * `npm start`: builds when dist/ is missing, prepares .node-red-data/ (this package linked in,
 * the demo LLM converted, the demo flow copied in when no flow exists yet) and runs the
 * Node-RED from node_modules on http://127.0.0.1:1880 (PORT overrides).
 */
"use strict";
const { spawn, spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");
const { REPO, prepareUserDir, linkDashboard } = require("./node-red-env");

const userDir = path.resolve(process.env.NODE_RED_USER_DIR || path.join(REPO, ".node-red-data"));

if (!fs.existsSync(path.join(REPO, "dist", "src", "nodes", "llm-stream.js"))) {
  console.log("dist/ is missing: building first (npm run build)");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const build = spawnSync(npm, ["run", "build"], { cwd: REPO, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status || 1);
}

const prepared = prepareUserDir(userDir);
// Dashboard 2.0 from the devDependencies, so the "Dashboard voice assistant" example runs.
linkDashboard(userDir);
if (prepared.copiedDemo) console.log(`demo flow "Tell me a story" copied into ${prepared.flowPath}`);

let redJs;
try {
  redJs = require.resolve("node-red/red.js", { paths: [REPO] });
} catch {
  console.error("node-red is not installed: run 'npm install' first");
  process.exit(1);
}
const args = [redJs, "--userDir", userDir, "--settings", path.join(__dirname, "node-red-settings.js"), ...process.argv.slice(2)];
// The palette manager may install nodes (Menu → Manage palette → Install), as in a normal Node-RED.
const env = { NODE_RED_PALETTE_INSTALL: "1", ...process.env };
const child = spawn(process.execPath, args, { cwd: REPO, stdio: "inherit", env });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
