/**
 * Dashboard 2.0 (@flowfuse/node-red-dashboard, a devDependency) in a test Node-RED: linked
 * into the user dir's node_modules the way `npm start` does it (scripts/node-red-env.js).
 */
import * as path from "path";
import { repoRoot } from "./paths";

export function linkDashboard(userDir: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const env = require(path.join(repoRoot(), "scripts", "node-red-env.js")) as { linkDashboard(dir: string): boolean };
  if (!env.linkDashboard(userDir)) throw new Error("@flowfuse/node-red-dashboard is not installed (it is a devDependency: npm install)");
}
