/** What the numbers were measured on, and how busy the machine was. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  cpuFlags: string;
  ramGiB: number;
  node: string;
  onnxruntimeNode: string;
  transformersJs: string;
  loadAverageBefore: number[];
  loadAverageAfter?: number[];
  startedAt: string;
  finishedAt?: string;
}

function packageVersion(name: string): string {
  try {
    const file = require.resolve(`${name}/package.json`, { paths: [path.join(__dirname, "..", "..")] });
    return JSON.parse(fs.readFileSync(file, "utf8")).version as string;
  } catch {
    // ESM-only packages without an exported package.json: read it from node_modules directly.
    try {
      return JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "node_modules", name, "package.json"), "utf8")).version as string;
    } catch {
      return "?";
    }
  }
}

export function machineInfo(): MachineInfo {
  let flags = "";
  // A VM often names its CPU only "AMD EPYC" or "Intel(R) Xeon(R) Processor": family and model tell the
  // generations apart (speeds differ between them, e.g. the integer GEMM with and without AMX).
  let generation = "";
  try {
    const lines = fs.readFileSync("/proc/cpuinfo", "utf8").split("\n");
    const field = (name: string) => lines.find((l) => l.startsWith(name))?.split(":")[1]?.trim();
    const line = lines.find((l) => l.startsWith("flags")) ?? "";
    flags = ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8"].filter((f) => line.includes(` ${f}`)).join(" ");
    const family = field("cpu family");
    const model = field("model\t");
    if (family && model) generation = ` (family ${family} model ${model})`;
  } catch {
    // Not Linux: no flags to show.
  }
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: (os.cpus()[0]?.model ?? "unknown") + generation,
    cpuFlags: flags,
    ramGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    onnxruntimeNode: packageVersion("onnxruntime-node"),
    transformersJs: packageVersion("@huggingface/transformers"),
    loadAverageBefore: os.loadavg(),
    startedAt: new Date().toISOString(),
  };
}
