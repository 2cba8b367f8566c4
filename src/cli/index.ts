/**
 * `voice-stream` command line: dispatches to one module per command (src/cli/commands).
 * Every command prints one clear line and exits non-zero on bad input.
 */
import { CliError } from "./cli-error";

/** Loaded lazily so one command's heavy imports never slow another. */
const COMMANDS: Record<string, string> = {
  llm: "./commands/llm",
  tts: "./commands/tts",
  asr: "./commands/asr",
  vad: "./commands/vad",
  serve: "./commands/serve",
  wake: "./commands/wake",
  "wake-verifier": "./commands/wake-verifier",
  download: "./commands/download",
  "convert-llama2c": "./commands/convert-llama2c",
};

export interface CliCommand {
  /** Resolves to the exit code (0 when omitted). */
  run(argv: string[]): Promise<number | void>;
}

const USAGE = `usage: voice-stream <command> [options]
commands: ${Object.keys(COMMANDS).join(", ")}
run 'voice-stream <command> --help' for a command's options`;

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    process.stdout.write(USAGE + "\n");
    process.exitCode = name ? 0 : 2;
    return;
  }
  const modulePath = COMMANDS[name];
  try {
    if (!modulePath) throw new CliError(`unknown command '${name}'; expected one of: ${Object.keys(COMMANDS).join(", ")}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const command = require(modulePath) as CliCommand;
    const code = await command.run(rest);
    process.exitCode = code ?? 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`voice-stream ${name ?? ""}: ${message}\n`);
    if (!(err instanceof CliError) && process.env.VOICE_STREAM_DEBUG) process.stderr.write(String((err as Error).stack) + "\n");
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  }
}
