#!/usr/bin/env node
// Node-RED looks for a node's .html, locales/ and icons/ only in the folder of the
// node's .js file, so the build copies them beside the compiled nodes.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const target = path.join(root, "dist", "src", "nodes");
fs.mkdirSync(target, { recursive: true });

for (const name of fs.readdirSync(path.join(root, "nodes"))) {
  const from = path.join(root, "nodes", name);
  fs.cpSync(from, path.join(target, name), { recursive: true });
}
fs.cpSync(path.join(root, "icons"), path.join(target, "icons"), { recursive: true });
