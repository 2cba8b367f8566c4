import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gpuPart, probeCudaProvider, probeGpu } from "../../bench/parts/gpu-section";
import type { BenchOptions } from "../../bench/options";

/** An executable stand-in for nvidia-smi printing `stdout` and exiting with `code`. */
function fakeSmi(dir: string, name: string, stdout: string, code = 0): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\nprintf '${stdout}'\nexit ${code}\n`, { mode: 0o755 });
  return file;
}

describe("bench: GPU section (CUDA execution provider)", function () {
  this.timeout(30_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-section-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads the card's name, memory and driver from nvidia-smi", () => {
    const smi = fakeSmi(dir, "smi-ok", "NVIDIA H100 80GB HBM3, 81559 MiB, 550.54.15\\n");
    assert.deepEqual(probeGpu(smi), { card: { name: "NVIDIA H100 80GB HBM3", memory: "81559 MiB", driver: "550.54.15" } });
  });

  it("skips with the reason when there is no nvidia-smi, it lists no card, or it fails", () => {
    assert.deepEqual(probeGpu(path.join(dir, "not-there")), { skipped: "no NVIDIA GPU here (nvidia-smi is not installed)" });
    assert.deepEqual(probeGpu(fakeSmi(dir, "smi-empty", "")), { skipped: "no NVIDIA GPU here (nvidia-smi lists none)" });
    const failed = probeGpu(fakeSmi(dir, "smi-fails", "", 9));
    assert.ok("skipped" in failed && /nvidia-smi failed/.test(failed.skipped), JSON.stringify(failed));
  });

  it("says how to get onnxruntime-node's CUDA provider when this install has none", async function () {
    const reason = await probeCudaProvider();
    // This project installs onnxruntime-node without it (its CI has no GPU); a GPU machine that added it passes the probe.
    if (reason === undefined) this.skip();
    assert.match(reason, /CUDA provider .*ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm rebuild onnxruntime-node/);
  });

  it("a run on a machine without a GPU writes one line saying why, and measures nothing", async function () {
    if (!("skipped" in probeGpu())) this.skip(); // a GPU machine measures instead
    const options = { quick: false, runs: 3, warmup: 1, outDir: dir } as unknown as BenchOptions;
    const result = await gpuPart(options, () => {});
    assert.match(result.markdown, /^Skipped: no NVIDIA GPU here \(nvidia-smi (is not installed|lists none|failed.*)\)\.$/);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["smi-empty", "smi-fails", "smi-ok"], "no model was written");
  });
});
