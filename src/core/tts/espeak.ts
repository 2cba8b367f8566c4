/**
 * eSpeak NG as a tool: text → IPA phonemes (for piper) and text → speech (the espeak engine).
 * The system `espeak-ng` is used when installed (spawned with an argument array and the
 * text on stdin, never through a shell, so no text can become an option or a command);
 * otherwise the WASM build from the `espeak-ng` npm package (GPL-3.0-or-later) runs in-process,
 * so a fresh machine still speaks. If neither works the error names the apt package.
 */
import { processLauncher } from "../process/process-launcher";
import { decodeWav } from "../audio/wav";

export const ESPEAK_APT_HINT = "install the system package with 'sudo apt-get install espeak-ng' (or 'npm install espeak-ng' for the WASM build)";

export interface EspeakAudio {
  audio: Float32Array;
  sampleRate: number;
}

export type EspeakBackend = "system" | "wasm";

let systemAvailable: boolean | undefined;

/** Which backend will run: the system binary when it starts, else WASM. Overridable for tests via VOICE_STREAM_ESPEAK=wasm|system. */
async function backend(): Promise<EspeakBackend> {
  const forced = process.env.VOICE_STREAM_ESPEAK;
  if (forced === "wasm" || forced === "system") return forced;
  if (systemAvailable === undefined) {
    systemAvailable = await processLauncher.run("espeak-ng", ["--version"], "").then(
      (result) => result.code === 0,
      () => false,
    );
  }
  return systemAvailable ? "system" : "wasm";
}

/**
 * Runs the system espeak-ng with `args`, `text` on stdin; resolves with stdout. Through the
 * process launcher: a spawn from a process with models loaded stalls its event loop (see there).
 */
async function runSystem(args: string[], text: string, signal?: AbortSignal): Promise<Buffer> {
  let result;
  try {
    result = await processLauncher.run("espeak-ng", [...args, "--stdin"], text, signal);
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === "ENOENT" ? new Error(`espeak-ng was not found: ${ESPEAK_APT_HINT}`) : e;
  }
  if (signal?.aborted) throw new Error("espeak-ng was cancelled");
  const stderr = result.stderr.toString("utf8").trim();
  if (result.code !== 0) throw new Error(`espeak-ng failed (exit ${result.code ?? result.signal})${stderr ? `: ${stderr.split("\n")[0]}` : ""}`);
  return result.stdout;
}

interface WasmModule {
  FS: { readFile(path: string): Uint8Array; writeFile(path: string, data: string): void };
}
type WasmFactory = (options: Record<string, unknown>) => Promise<WasmModule>;
let wasmFactory: Promise<WasmFactory> | undefined;

/** Runs the WASM espeak-ng once with `args` (the text goes in as a virtual file). */
async function runWasm(args: string[], text: string, wantFile?: string): Promise<{ stdout: string[]; file?: Uint8Array }> {
  // The package is ESM without types; a variable specifier keeps it a runtime import().
  const specifier = "espeak-ng";
  wasmFactory ??= (import(specifier) as Promise<{ default: WasmFactory }>).then((m) => m.default);
  let factory: WasmFactory;
  try {
    factory = await wasmFactory;
  } catch (err) {
    wasmFactory = undefined;
    throw new Error(`espeak-ng is not available (no system binary, WASM build failed to load: ${(err as Error).message}): ${ESPEAK_APT_HINT}`);
  }
  const stdout: string[] = [];
  const stderr: string[] = [];
  const module = await factory({
    arguments: [...args, "-f", "/input.txt"],
    preRun: [(m: WasmModule) => m.FS.writeFile("/input.txt", text)],
    print: (line: string) => stdout.push(line),
    printErr: (line: string) => stderr.push(line),
  });
  const errors = stderr.filter((l) => !l.startsWith("program exited") && l.trim() !== "");
  let file: Uint8Array | undefined;
  if (wantFile) {
    try {
      file = module.FS.readFile(wantFile);
    } catch {
      throw new Error(`espeak-ng (WASM) failed${errors.length ? `: ${errors[0].replace(/^Error: /, "")}` : ""}`);
    }
  } else if (errors.length > 0 && stdout.length === 0) {
    throw new Error(`espeak-ng (WASM) failed: ${errors[0].replace(/^Error: /, "")}`);
  }
  return { stdout, file };
}

/** IPA phonemes of `text` (espeak-ng --ipa -q), clauses separated by newlines. */
export async function espeakPhonemes(text: string, voice: string, signal?: AbortSignal): Promise<string> {
  const args = ["--ipa", "-q", "-v", voice];
  if ((await backend()) === "system") return (await runSystem(args, text, signal)).toString("utf8");
  return (await runWasm(args, text)).stdout.join("\n");
}

/** Speech for `text` as float samples at espeak's own rate (22050 Hz). */
export async function espeakSpeak(text: string, voice: string, options: { rate?: number; signal?: AbortSignal } = {}): Promise<EspeakAudio> {
  const args = ["-v", voice];
  if (options.rate !== undefined) args.push("-s", String(Math.round(options.rate)));
  if ((await backend()) === "system") return parseEspeakWav(await runSystem(["--stdout", ...args], text, options.signal));
  const { file } = await runWasm(["-w", "/output.wav", ...args], text, "/output.wav");
  return parseEspeakWav(Buffer.from(file!));
}

/**
 * Reads espeak-ng's WAV. Written to a pipe, its RIFF and data sizes are placeholders
 * (0x7ffff000); the project's decoder then takes the data to run to the end of the bytes.
 */
export function parseEspeakWav(bytes: Buffer): EspeakAudio {
  try {
    const { samples, sampleRate } = decodeWav(bytes);
    return { audio: samples, sampleRate };
  } catch (err) {
    throw new Error(`espeak-ng did not produce a usable WAV stream: ${(err as Error).message}`);
  }
}

let voiceList: Promise<string[]> | undefined;

/**
 * The voices espeak-ng has (`espeak-ng --voices`: the language column, e.g. "en-us", "de"),
 * sorted; listed once per process. A voice name may add a variant ("en+f3") to any of them.
 */
export function espeakVoices(): Promise<string[]> {
  voiceList ??= (async () => {
    const lines = (await backend()) === "system" ? (await runSystem(["--voices"], "")).toString("utf8").split("\n") : (await runWasm(["--voices"], "")).stdout;
    const codes = new Set<string>();
    for (const line of lines.slice(1)) {
      // "5  en-us  --/M  English_(America)  gmw/en-US": the language, and the voice file's name ("en-us", and "en" from gmw/en).
      const columns = line.trim().split(/\s+/);
      if (columns[1]) codes.add(columns[1].toLowerCase());
      const file = columns.find((c, i) => i >= 3 && c.includes("/"));
      if (file) codes.add(file.slice(file.lastIndexOf("/") + 1).toLowerCase());
    }
    if (codes.size === 0) throw new Error("espeak-ng --voices listed no voices");
    return [...codes].sort();
  })();
  voiceList.catch(() => (voiceList = undefined));
  return voiceList;
}

/** Whether `voice` ("en-us", "en+f3") names one of `known`, case aside. */
export function isEspeakVoice(voice: string, known: readonly string[]): boolean {
  const base = voice.toLowerCase().split("+")[0];
  return known.includes(base);
}

/** For diagnostics: which backend is in use. */
export async function espeakBackend(): Promise<EspeakBackend> {
  return backend();
}
