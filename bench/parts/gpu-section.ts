/**
 * Part "gpu" of `npm run bench`: the LLM, ASR and codec TTS cases with onnxruntime's CUDA
 * execution provider against the CPU, interleaved in one process, on the card it finds (its name,
 * memory and driver go into the report). On a machine without one it skips with the reason and
 * what to do, in one line:
 *  - no NVIDIA GPU: `nvidia-smi` is missing or lists none;
 *  - onnxruntime-node without its CUDA provider: the package's install script fetches
 *    libonnxruntime_providers_cuda.so only when asked (`ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm
 *    rebuild onnxruntime-node`; this project installs it without, as its CI has no GPU).
 * A row only counts when its sessions really ran on CUDA: the session factory falls back to the
 * CPU with a warning, and any such warning fails the row instead of reporting CPU figures as GPU.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { readWavFile } from "../../src/core/audio/wav";
import type { WhisperEngine } from "../../src/core/asr/engines/whisper/whisper-engine";
import type { OnnxLlmEngine } from "../../src/core/llm/engines/onnx/onnx-llm-engine";
import { DataType, GraphBuilder } from "../../src/core/onnx-builder/graph";
import { loadModel } from "../../src/core/registry/load-model";
import { CodecTtsEngine } from "../../src/core/tts/engines/codec/codec-engine";
import type { LoadedModel, ModelKind, ModelSpec } from "../../src/core/types";
import type { BenchOptions } from "../options";
import { prepareQwen3 } from "../llm/llm-section";
import { exactPrompt } from "../llm/prompts";
import { fmt, median, nowMs } from "../stats";
import { hasWhisperBaseShaped, writeWhisperBaseShaped } from "../whisper-base-shaped-model";
import { decodeFramesPerSecond, prepareNeutts, readVoice, speakOnce, TEXT, WARMUP_TEXT } from "./speech-synthesis";

export interface GpuCard {
  name: string;
  memory: string;
  driver: string;
}

/** The first NVIDIA card `nvidia-smi` lists, or why there is none. */
export function probeGpu(nvidiaSmi = "nvidia-smi"): { card: GpuCard } | { skipped: string } {
  let out: string;
  try {
    out = execFileSync(nvidiaSmi, ["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"], { encoding: "utf8", timeout: 10_000 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { skipped: code === "ENOENT" ? "no NVIDIA GPU here (nvidia-smi is not installed)" : `no NVIDIA GPU here (nvidia-smi failed: ${(err as Error).message.split("\n")[0]})` };
  }
  const line = out.split("\n").find((l) => l.trim() !== "");
  if (!line) return { skipped: "no NVIDIA GPU here (nvidia-smi lists none)" };
  const [name, memory, driver] = line.split(",").map((s) => s.trim());
  return { card: { name, memory: memory ?? "?", driver: driver ?? "?" } };
}

const INSTALL_CUDA = "install it with `ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm rebuild onnxruntime-node` (CUDA 12 and cuDNN 9 on the machine)";

/** Folders of onnxruntime-node's native binding for this platform (bin/napi-v*\/<platform>/<arch>). */
function bindingFolders(): string[] {
  const bin = path.join(path.dirname(require.resolve("onnxruntime-node/package.json")), "bin");
  const napi = fs.existsSync(bin) ? fs.readdirSync(bin).filter((d) => d.startsWith("napi-v")) : [];
  return napi.map((d) => path.join(bin, d, process.platform, process.arch)).filter((d) => fs.existsSync(d));
}

/** Undefined when onnxruntime-node runs a graph with the CUDA provider alone; else why not and what to do. */
export async function probeCudaProvider(): Promise<string | undefined> {
  // Without the provider's library there is nothing to try (and onnxruntime would log a load failure).
  const library = process.platform === "win32" ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
  if (!bindingFolders().some((d) => fs.existsSync(path.join(d, library)))) {
    return `onnxruntime-node here has no CUDA provider (${library} is not beside its binding); ${INSTALL_CUDA}`;
  }
  const g = new GraphBuilder("cuda_probe");
  g.input("x", DataType.FLOAT, [1]);
  g.output("y", DataType.FLOAT, [1], g.op("Add", ["x", g.constFloat([1], [1])]));
  try {
    const session = await ort.InferenceSession.create(g.toBytes({ opset: 17 }), { executionProviders: ["cuda"] });
    await session.release();
    return undefined;
  } catch (err) {
    return `onnxruntime-node's CUDA provider does not start here (${(err as Error).message.split("\n")[0].slice(0, 160)}); ${INSTALL_CUDA}`;
  }
}

type Device = "cuda" | "cpu";
const DEVICES: Device[] = ["cuda", "cpu"];

/** Loads `spec` on `device`; a fallback from CUDA to the CPU is an error, not a CPU figure in a GPU row. */
async function loadOn<M extends LoadedModel>(kind: ModelKind, spec: ModelSpec, device: Device): Promise<M> {
  const warnings: string[] = [];
  const model = await loadModel<M>(kind, { ...spec, config: { ...spec.config, execution_provider: device, worker_thread: false } }, { warn: (m) => warnings.push(m) });
  const fellBack = warnings.find((w) => /execution provider|running on cpu/i.test(w));
  if (device === "cuda" && fellBack) {
    await model.dispose();
    throw new Error(`the CUDA provider did not take the model: ${fellBack}`);
  }
  return model;
}

interface Row {
  case: string;
  metric: string;
  cuda?: number;
  cpu?: number;
  error?: string;
}

/** Runs `measure` on both devices, the order alternating each round; medians. */
async function interleaved<M extends LoadedModel>(
  rows: Row[],
  label: string,
  metrics: string[],
  load: (device: Device) => Promise<M>,
  measure: (model: M) => Promise<number[]>,
  rounds: number,
  log: (line: string) => void,
): Promise<void> {
  const models = new Map<Device, M>();
  try {
    for (const device of DEVICES) models.set(device, await load(device));
    const samples = new Map<Device, number[][]>(DEVICES.map((d) => [d, []]));
    for (const device of DEVICES) await measure(models.get(device)!); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const device of round % 2 === 0 ? DEVICES : [...DEVICES].reverse()) samples.get(device)!.push(await measure(models.get(device)!));
    }
    metrics.forEach((metric, i) => {
      const of = (d: Device) => median(samples.get(d)!.map((s) => s[i]));
      rows.push({ case: label, metric, cuda: of("cuda"), cpu: of("cpu") });
      log(`  ${label}, ${metric}: CUDA ${fmt(of("cuda"), 1)}, CPU ${fmt(of("cpu"), 1)}`);
    });
  } catch (err) {
    rows.push({ case: label, metric: metrics.join(", "), error: (err as Error).message.split("\n")[0] });
    log(`  ${label}: ${(err as Error).message}`);
  } finally {
    for (const m of models.values()) await m.dispose();
  }
}

function llmRun(engine: OnnxLlmEngine, prompt: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    let last: { time_to_first_token?: number; tokens_per_second?: number } = {};
    engine.generate({ prompt, raw: true, temperature: 0, ignore_eos: true, max_new_tokens: 64 }).subscribe({
      next: (c) => (last = c),
      error: reject,
      complete: () => resolve([(last.time_to_first_token ?? NaN) * 1000, last.tokens_per_second ?? NaN]),
    });
  });
}

export async function gpuPart(options: BenchOptions, log: (line: string) => void): Promise<{ json: unknown; markdown: string }> {
  const gpu = probeGpu();
  if ("skipped" in gpu) return { json: { skipped: gpu.skipped }, markdown: `Skipped: ${gpu.skipped}.` };
  const provider = await probeCudaProvider();
  if (provider) return { json: { card: gpu.card, skipped: provider }, markdown: `Skipped on ${gpu.card.name}: ${provider}.` };
  if (options.quick) return { json: { card: gpu.card, skipped: "--quick" }, markdown: `Skipped with --quick (card: ${gpu.card.name}).` };
  log(`  card: ${gpu.card.name} (${gpu.card.memory}, driver ${gpu.card.driver})`);
  const rounds = Math.max(3, Math.min(options.runs, 5));
  const rows: Row[] = [];

  const qwen = prepareQwen3(options.outDir, "q4", log);
  prepareQwen3(options.outDir, "fp32", log);
  const prompt = await exactPrompt(qwen, 32, 32);
  for (const dtype of ["fp32", "q4"]) {
    await interleaved<OnnxLlmEngine>(
      rows,
      `Qwen3-0.6B-shaped ${dtype}, 32-token prompt, 64 new tokens`,
      ["time to first token (ms)", "decode tokens/s"],
      (device) => loadOn("llm", { enginesPath: qwen, config: { dtype, prefix_cache_mb: 0 } }, device),
      (engine) => llmRun(engine, prompt),
      rounds,
      log,
    );
  }

  const whisperDir = path.join(options.outDir, "whisper-base-shaped");
  if (!hasWhisperBaseShaped(whisperDir)) await writeWhisperBaseShaped(whisperDir);
  const clip = path.join(process.env.SHARED_AUDIO_DIR ?? path.join(__dirname, "..", "..", "..", "test", "data", "audio"), "weather_16k.wav");
  const { samples } = fs.existsSync(clip) ? await readWavFile(clip) : { samples: new Float32Array(16000 * 3) };
  await interleaved<WhisperEngine>(
    rows,
    `whisper-base-shaped, one decode of ${(samples.length / 16000).toFixed(1)} s of speech`,
    ["decode (ms)"],
    (device) => loadOn("asr", { enginesPath: whisperDir }, device),
    async (engine) => {
      const started = nowMs();
      await engine.model.decode(samples, { language: "en", task: "transcribe", timestamps: false, maxNewTokens: 64 });
      return [nowMs() - started];
    },
    rounds,
    log,
  );

  const neutts = prepareNeutts(options, "q4", log);
  await interleaved<CodecTtsEngine>(
    rows,
    "codec, NeuTTS-shaped q4, the TTS section's text",
    ["LM frames/s in decode", "time to first audio (ms)"],
    async (device) => {
      const engine = await loadOn("tts", { enginesPath: neutts.dir, ...neutts.spec }, device);
      if (!(engine instanceof CodecTtsEngine)) throw new Error("the NeuTTS-shaped model did not load the codec engine");
      await speakOnce(engine, WARMUP_TEXT, readVoice(engine, neutts.dir));
      return engine;
    },
    async (engine) => {
      const s = await speakOnce(engine, TEXT, readVoice(engine, neutts.dir));
      return [median((s.spans ?? []).map(decodeFramesPerSecond)), s.firstAudioMs];
    },
    rounds,
    log,
  );

  const lines = [
    `Card: **${gpu.card.name}** (${gpu.card.memory}, driver ${gpu.card.driver}); onnxruntime-node ${ort.env.versions?.node ?? "?"}, ` +
      `CUDA execution provider against the CPU (${os.availableParallelism?.() ?? os.cpus().length} threads) in one process, ` +
      `${rounds} rounds each, the order alternating; medians. Each model loads with \`execution_provider\` cuda or cpu ` +
      "(a fallback to the CPU fails the row). 4-bit models use their default accuracy level on each side (int8 activations on the CPU only).",
    "",
    "| case | metric | CUDA | CPU | CUDA ÷ CPU |",
    "|---|---|---:|---:|---:|",
    ...rows.map((r) =>
      r.error ? `| ${r.case} | ${r.metric} | not measured: ${r.error} | | |` : `| ${r.case} | ${r.metric} | ${fmt(r.cuda, 1)} | ${fmt(r.cpu, 1)} | ${fmt(r.cuda! / r.cpu!, 2)}× |`,
    ),
  ];
  return { json: { card: gpu.card, rounds, rows }, markdown: lines.join("\n") };
}
