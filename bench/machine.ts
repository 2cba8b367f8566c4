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
  try {
    const line = fs.readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("flags")) ?? "";
    flags = ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8"].filter((f) => line.includes(` ${f}`)).join(" ");
  } catch {
    // Not Linux: no flags to show.
  }
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    cpuFlags: flags,
    ramGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    onnxruntimeNode: packageVersion("onnxruntime-node"),
    transformersJs: packageVersion("@huggingface/transformers"),
    loadAverageBefore: os.loadavg(),
    startedAt: new Date().toISOString(),
  };
}
