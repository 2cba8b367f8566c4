#!/usr/bin/env node
/**
 * Runs a Node-RED runtime embedded in an express app (RED.init / RED.start), for a Node-RED
 * whose CLI refuses this Node.js version: Node-RED 5's red.js needs Node >= 22.9, its runtime
 * API is what the e2e test uses to check that the suite loads there on Node 20.
 * Usage: node scripts/node-red-embedded.js --userDir DIR --settings FILE  (NODE_RED_PACKAGE
 * names the installed Node-RED, default "node-red-5"; PORT/HOST as in node-red-settings.js).
 */
"use strict";
const http = require("http");
const path = require("path");

function arg(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const pkg = process.env.NODE_RED_PACKAGE || "node-red-5";
const repo = path.resolve(__dirname, "..");
const redDir = path.dirname(require.resolve(`${pkg}/package.json`, { paths: [repo] }));
const RED = require(path.join(redDir, require(path.join(redDir, "package.json")).main || "lib/red.js"));
const express = require(require.resolve("express", { paths: [redDir] }));

const settingsFile = path.resolve(arg("--settings") || path.join(__dirname, "node-red-settings.js"));
const settings = { ...require(settingsFile) };
settings.userDir = path.resolve(arg("--userDir") || path.join(repo, ".node-red-data"));
settings.httpAdminRoot = settings.httpAdminRoot ?? "/";
settings.httpNodeRoot = settings.httpNodeRoot ?? "/";
settings.settingsFile = settingsFile;

const app = express();
const server = http.createServer(app);
RED.init(server, settings);
app.use(settings.httpAdminRoot, RED.httpAdmin);
app.use(settings.httpNodeRoot, RED.httpNode);

RED.start()
  .then(() => {
    server.listen(settings.uiPort, settings.uiHost, () => {
      // The same line red.js prints: the e2e helper waits for it.
      RED.log.info(`Server now running at http://${settings.uiHost}:${settings.uiPort}${settings.httpAdminRoot}`);
    });
  })
  .catch((err) => {
    console.error("Node-RED failed to start:", err);
    process.exit(1);
  });

const stop = () => RED.stop().then(() => process.exit(0), () => process.exit(1));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
