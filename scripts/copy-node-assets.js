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

// Dialog rows more than one node shows are written once in nodes/partials/ and put in at
// <!--include:name--> (the first line of a partial is its comment, left out).
for (const name of fs.readdirSync(target).filter((n) => n.endsWith(".html"))) {
  const file = path.join(target, name);
  const html = fs.readFileSync(file, "utf8");
  const filledIn = html.replace(/^[ \t]*<!--include:([\w-]+)-->\n/gm, (_, partial) =>
    fs.readFileSync(path.join(root, "nodes", "partials", `${partial}.html`), "utf8").split("\n").slice(1).join("\n"),
  );
  if (filledIn !== html) fs.writeFileSync(file, filledIn);
}

// The tts-streamer editor's chunking defaults come from the core's one table (src/core/tts/chunking.ts).
const { CHUNKING_FIELDS } = require(path.join(root, "dist", "src", "core", "tts", "chunking.js"));
const ttsHtml = path.join(target, "tts-streamer.html");
const filled = fs
  .readFileSync(ttsHtml, "utf8")
  .replace("/*tts-chunking*/[]/*end*/", JSON.stringify(CHUNKING_FIELDS.map((f) => ({ key: f.key, editor: f.editor, default: f.default, min: f.min }))))
  .replace(/<span data-chunking-default="(\w+)"><\/span>/g, (_, key) => String(CHUNKING_FIELDS.find((f) => f.key === key).default));
fs.writeFileSync(ttsHtml, filled);

// The voice-model editor's built-in engine names come from the core (src/core/engines-path.ts).
const { BUILTIN_ENGINE_NAMES } = require(path.join(root, "dist", "src", "core", "engines-path.js"));
const modelHtml = path.join(target, "voice-model.html");
fs.writeFileSync(modelHtml, fs.readFileSync(modelHtml, "utf8").replace("/*builtin-engines*/{}/*end*/", JSON.stringify(BUILTIN_ENGINE_NAMES)));
