/**
 * Prepares a Node-RED user dir that loads this package exactly as a user install does
 * (<userDir>/node_modules/node-red-contrib-voice-stream, a symlink to the repo, listed in the
 * userDir's package.json), converts the built-in demo LLM (stories260K) once, and copies the
 * "Tell me a story" demo flow in when the user dir has no flow yet. Shared by `npm start`
 * and the end-to-end tests.
 */
"use strict";
const fs = require("fs");
const path = require("path");

const REPO = path.resolve(__dirname, "..");
const PACKAGE = require(path.join(REPO, "package.json"));
const FLOW_FILE = "flows.json";

/** Links the repo into <userDir>/node_modules so Node-RED finds it (nodes, icons, examples) as an installed module. */
function installPackage(userDir) {
  const modules = path.join(userDir, "node_modules");
  fs.mkdirSync(modules, { recursive: true });
  const link = path.join(modules, PACKAGE.name);
  let current;
  try { current = fs.realpathSync(link); } catch { current = undefined; }
  if (current !== REPO) {
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(REPO, link, "dir");
  }
  const pkgFile = path.join(userDir, "package.json");
  const pkg = fs.existsSync(pkgFile)
    ? JSON.parse(fs.readFileSync(pkgFile, "utf8"))
    : { name: "node-red-project", description: "A Node-RED project", version: "0.0.1", private: true };
  pkg.dependencies = { ...(pkg.dependencies || {}), [PACKAGE.name]: "file:" + REPO };
  fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 4) + "\n");
}

/**
 * Dashboard 2.0 (a devDependency, for the ui-voice widget and its example) linked into
 * <userDir>/node_modules and listed in its package.json, as installing it there does.
 * Does nothing when it is not installed (a production install) or already there.
 */
function linkDashboard(userDir) {
  const name = "@flowfuse/node-red-dashboard";
  let from;
  try { from = path.dirname(require.resolve(`${name}/package.json`, { paths: [REPO] })); } catch { return false; }
  const link = path.join(userDir, "node_modules", name);
  if (!fs.existsSync(link)) {
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(fs.realpathSync(from), link, "dir");
  }
  const pkgFile = path.join(userDir, "package.json");
  const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
  if (!pkg.dependencies || !pkg.dependencies[name]) {
    pkg.dependencies = { ...(pkg.dependencies || {}), [name]: "file:" + fs.realpathSync(from) };
    fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 4) + "\n");
  }
  return true;
}

/** Converts assets/stories260K (llama2.c) to an ONNX model folder under <userDir>/models, once. */
function ensureDemoModel(userDir) {
  const outDir = path.join(userDir, "models", "stories260K");
  if (fs.existsSync(path.join(outDir, "onnx", "model.onnx")) && fs.existsSync(path.join(outDir, "tokenizer.json"))) return outDir;
  const converter = path.join(REPO, "dist", "src", "core", "llm", "llama2c", "convert.js");
  if (!fs.existsSync(converter)) throw new Error(`${converter} is missing: run 'npm run build' first`);
  const { convertLlama2c } = require(converter);
  const assets = path.join(REPO, "assets", "stories260K");
  convertLlama2c(path.join(assets, "stories260K.bin"), path.join(assets, "tok512.bin"), outDir);
  return outDir;
}

/** The demo flow with its placeholders filled in for this user dir. */
function demoFlow(userDir, modelDir) {
  const text = fs.readFileSync(path.join(REPO, "assets", "demo", "tell-me-a-story.json"), "utf8");
  const esc = (p) => JSON.stringify(p).slice(1, -1);
  return JSON.parse(text.split("__DEMO_LLM_DIR__").join(esc(modelDir)).split("__USER_DIR__").join(esc(userDir)));
}

/**
 * Makes `userDir` ready: package linked, demo model converted, demo flow copied in when
 * there is no flow file yet (so the user's edits survive the next start). Returns what it did.
 */
function prepareUserDir(userDir, { demo = true } = {}) {
  userDir = path.resolve(userDir);
  fs.mkdirSync(userDir, { recursive: true });
  installPackage(userDir);
  const modelDir = ensureDemoModel(userDir);
  const flowPath = path.join(userDir, FLOW_FILE);
  let copiedDemo = false;
  if (demo && !fs.existsSync(flowPath)) {
    fs.writeFileSync(flowPath, JSON.stringify(demoFlow(userDir, modelDir), null, 4) + "\n");
    copiedDemo = true;
  }
  return { userDir, modelDir, flowPath, copiedDemo };
}

module.exports = { REPO, FLOW_FILE, installPackage, linkDashboard, ensureDemoModel, demoFlow, prepareUserDir };
