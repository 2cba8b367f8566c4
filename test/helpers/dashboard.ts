/**
 * Dashboard 2.0 (@flowfuse/node-red-dashboard, a devDependency) in a test Node-RED: linked
 * into the user dir's node_modules, as `npm install @flowfuse/node-red-dashboard` there does.
 */
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "./paths";

export function linkDashboard(userDir: string): void {
  const from = path.join(repoRoot(), "node_modules", "@flowfuse", "node-red-dashboard");
  const scope = path.join(userDir, "node_modules", "@flowfuse");
  fs.mkdirSync(scope, { recursive: true });
  const link = path.join(scope, "node-red-dashboard");
  if (!fs.existsSync(link)) fs.symlinkSync(fs.realpathSync(from), link, "dir");
  const pkgFile = path.join(userDir, "package.json");
  const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
  pkg.dependencies = { ...(pkg.dependencies || {}), "@flowfuse/node-red-dashboard": "*" };
  fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 4) + "\n");
}
