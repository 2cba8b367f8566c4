/**
 * Thin typed layer over node:util parseArgs: unknown options and missing values become
 * CliErrors (one line, exit 2) instead of stack traces.
 */
import { parseArgs, type ParseArgsConfig } from "util";
import { CliError } from "./cli-error";

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parseCommandArgs(argv: string[], options: Options, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new CliError((err as Error).message.split("\n")[0]);
  }
}

/** Parses an optional numeric option; rejects text such as "abc" or "" with a message naming the flag. */
export function numberOption(
  values: Record<string, unknown>,
  name: string,
  check: { integer?: boolean; min?: number; max?: number } = {},
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(value)) {
    throw new CliError(`--${name} must be a number, got '${String(raw)}'`);
  }
  if (check.integer && !Number.isInteger(value)) throw new CliError(`--${name} must be a whole number, got ${raw}`);
  if (check.min !== undefined && value < check.min) throw new CliError(`--${name} must be at least ${check.min}, got ${raw}`);
  if (check.max !== undefined && value > check.max) throw new CliError(`--${name} must be at most ${check.max}, got ${raw}`);
  return value;
}

export function requireOption(values: Record<string, unknown>, name: string): string {
  const raw = values[name];
  if (typeof raw !== "string" || raw === "") throw new CliError(`--${name} is required`);
  return raw;
}

/**
 * A command's options: `strings` take a value (numbers are parsed later by numberOption),
 * `flags` are switches, `lists` may repeat; --help / -h is always there.
 */
export function commandOptions(strings: readonly string[], flags: readonly string[] = [], lists: readonly string[] = []): Options {
  const options: Options = { help: { type: "boolean", short: "h" } };
  for (const name of strings) options[name] = { type: "string" };
  for (const name of flags) options[name] = { type: "boolean" };
  for (const name of lists) options[name] = { type: "string", multiple: true };
  return options;
}
