/**
 * Tiny test models, generated once per fixture-code version into a cached temp dir, so
 * no binary is committed and every test file shares one copy.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FIXTURES, writeFixture } from "../../fixtures/cli";

const pending = new Map<string, Promise<string>>();

/** Hash of the compiled fixture sources: a change to a builder regenerates its models. */
function fixtureCodeHash(): string {
  const hash = crypto.createHash("sha256");
  const roots = [path.join(__dirname, "../../fixtures"), path.join(__dirname, "../../src/core/onnx-builder")];
  for (const root of roots) {
    if (!fs.existsSync(root)) continue;
    for (const file of fs.readdirSync(root, { recursive: true }).map(String).sort()) {
      const full = path.join(root, file);
      if (file.endsWith(".js") && fs.statSync(full).isFile()) hash.update(file).update(fs.readFileSync(full));
    }
  }
  return hash.digest("hex").slice(0, 16);
}

/** The directory of fixture `name` ("tiny-llm", ...), written on first use. */
export function fixtureDir(name: keyof typeof FIXTURES | string): Promise<string> {
  let dir = pending.get(name);
  if (!dir) {
    dir = (async () => {
      const target = path.join(os.tmpdir(), "voice-stream-fixtures", fixtureCodeHash(), name);
      if (fs.existsSync(path.join(target, ".complete"))) return target;
      // Written beside the target, then renamed: a half-written fixture is never reused.
      const temp = `${target}.tmp-${process.pid}-${Date.now()}`;
      await writeFixture(name, temp);
      fs.writeFileSync(path.join(temp, ".complete"), "");
      fs.rmSync(target, { recursive: true, force: true });
      fs.renameSync(temp, target);
      return target;
    })();
    pending.set(name, dir);
  }
  return dir;
}
