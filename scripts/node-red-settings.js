/**
 * Node-RED settings for `npm start` and the end-to-end tests: a local-only editor on
 * 127.0.0.1 (port from PORT, default 1880), flows in <userDir>/flows.json. The package itself
 * is loaded from <userDir>/node_modules (see node-red-env.js), as after `npm install` in a user dir.
 *
 * `npm start` sets NODE_RED_PALETTE_INSTALL=1: the palette manager can then install nodes from
 * the Node-RED catalogue (node-red-dashboard for the examples' UI, say). The tests leave it off:
 * they must not reach the catalogue or install anything.
 */
"use strict";
const paletteInstall = process.env.NODE_RED_PALETTE_INSTALL === "1";
module.exports = {
  uiHost: process.env.HOST || "127.0.0.1",
  uiPort: Number(process.env.PORT) || 1880,
  flowFile: "flows.json",
  flowFilePretty: true,
  credentialSecret: false,
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
  externalModules: { autoInstall: false, palette: { allowInstall: paletteInstall }, modules: { allowInstall: false } },
  logging: { console: { level: process.env.NODE_RED_LOG_LEVEL || "info", metrics: false, audit: false } },
  // No catalogue list given when installing is on: Node-RED's default (catalogue.nodered.org).
  editorTheme: { projects: { enabled: false }, tours: false, palette: paletteInstall ? {} : { catalogues: [] } },
  functionExternalModules: false,
};
