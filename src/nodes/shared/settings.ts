/**
 * A node's settings declared once as a table: where each comes from (the editor field, a
 * msg property that overrides it), its type, range and default. One function reads and
 * checks them, so every node says the same thing about a bad value.
 */
import type { NodeMessage } from "./stream-msg";

/** "text" is a string kept as written (a system prompt); "string" is trimmed; "lines" one entry per editor line. */
export type SettingType = "number" | "integer" | "string" | "text" | "boolean" | "lines";

export interface Setting {
  /** The name the node's code uses (and the core's field name). */
  key: string;
  /** The editor field; none for settings only a msg sets. */
  editor?: string;
  /** The msg property that overrides the editor value for one message. */
  msg?: string;
  type: SettingType;
  min?: number;
  max?: number;
  /** Allowed values of a string setting. */
  choices?: readonly string[];
  /** Used when neither the editor nor the msg sets it; absent: left for the core's default. */
  default?: unknown;
  /** The editor field's name in errors ("frame size"); default "the <editor> setting". */
  label?: string;
  /** What the error says it takes ("a voice name (a string)"), instead of the type and range. */
  expects?: string;
  /**
   * A value of the wrong type is a mistake upstream: the error names its type ("got number")
   * instead of showing it, and a msg value of a string row must be a string (no String(7)).
   */
  nameType?: boolean;
}

const empty = (v: unknown) => v === undefined || v === null || (typeof v === "string" && v.trim() === "");

/** "\n" and "\t" written out in an editor line stand for the characters; one entry per line. */
function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line !== "")
    .map((line) => line.replace(/\\n/g, "\n").replace(/\\t/g, "\t"));
}

function rangeText(row: Setting): string {
  if (row.min !== undefined && row.max !== undefined) return ` from ${row.min} to ${row.max}`;
  if (row.min !== undefined) return ` of at least ${row.min}`;
  return row.max !== undefined ? ` of at most ${row.max}` : "";
}

/** A value as an error shows it: NaN and Infinity as such (JSON would say null). */
function shown(value: unknown): string {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
}

/** The type of a wrongly typed value, as an error names it. */
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (Buffer.isBuffer(value)) return "a Buffer";
  return typeof value;
}

const orList = (items: readonly string[]) => (items.length > 1 ? `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}` : items.join(""));

/** A bad setting: its message, and its parts for a node whose errors put the value first (`brief`). */
export class SettingError extends Error {
  constructor(
    message: string,
    /** What was set: "msg.seed", "the volume setting", or the row's label. */
    readonly subject: string,
    readonly value: unknown,
    /** What it takes: "a number from 0 to 4"; for a choice, the choices. */
    readonly wants: string | readonly string[],
  ) {
    super(message);
  }

  /** `volume "loud" is not valid; it must be a number from 0 to 4`, or `unknown sink "radio"; choose a or b`. */
  get brief(): string {
    if (typeof this.wants !== "string") return `unknown ${this.subject} ${shown(this.value)}; choose ${orList(this.wants)}`;
    return `${this.subject} ${shown(this.value)} is not valid; it must be ${this.wants}`;
  }
}

function convert(row: Setting, value: unknown, where: string, fromMsg = false): unknown {
  const bad = (what: string, wrongType: boolean) => {
    const wants = row.expects ?? what;
    return new SettingError(`${where} must be ${wants}, got ${row.nameType && wrongType ? typeName(value) : shown(value)}`, where, value, wants);
  };
  switch (row.type) {
    case "boolean":
      return value === true || value === "true";
    case "text":
      if (row.nameType && typeof value !== "string") throw bad("a string", true);
      return String(value);
    case "lines":
      // The editor's text is one entry per line; a msg brings the list itself (checked by the core).
      return typeof value === "string" && !fromMsg ? lines(value) : value;
    case "string": {
      if (row.nameType && typeof value !== "string") throw bad("a string", true);
      const text = String(value).trim();
      if (row.choices && !row.choices.includes(text)) {
        const error = new SettingError(`${where} must be one of ${row.choices.join(", ")}, got ${shown(value)}`, where, value, row.choices);
        if (row.label) error.message = error.brief; // a labelled choice reads "unknown sink "radio"; choose ..."
        throw error;
      }
      return text;
    }
    case "number":
    case "integer": {
      // Numbers typed into an editor field or a change node arrive as strings.
      const n = typeof value === "number" ? value : typeof value === "string" ? Number(value.trim()) : NaN;
      const outOfRange = (row.min !== undefined && n < row.min) || (row.max !== undefined && n > row.max);
      if (!Number.isFinite(n) || (row.type === "integer" && !Number.isInteger(n)) || outOfRange) {
        // One message says both what it takes and the range, whichever check failed.
        throw bad(`${row.type === "integer" ? "a whole number" : "a number"}${rangeText(row)}`, typeof value !== "number");
      }
      return n;
    }
  }
}

/**
 * The settings of `table` from the editor's `config`, each overridden by its msg property
 * when `msg` has one. Throws an Error naming the field (or msg property) and what it takes
 * (after `owner: ` when given, for nodes whose every error names the node type).
 */
export function readSettings<T extends object>(table: readonly Setting[], config: object, msg?: NodeMessage, owner?: string): T {
  try {
    return readTable<T>(table, config, msg);
  } catch (err) {
    if (owner) (err as Error).message = `${owner}: ${(err as Error).message}`;
    throw err;
  }
}

function readTable<T extends object>(table: readonly Setting[], config: object, msg?: NodeMessage): T {
  const out: Record<string, unknown> = {};
  const fields = config as Record<string, unknown>;
  for (const row of table) {
    let value: unknown = row.default;
    if (row.editor && !empty(fields[row.editor])) value = convert(row, fields[row.editor], row.label ?? `the ${row.editor} setting`);
    if (msg && row.msg && !empty(msg[row.msg])) value = convert(row, msg[row.msg], `msg.${row.msg}`, true);
    if (value !== undefined) out[row.key] = value;
  }
  return out as T;
}

/** The editor's settings read once at deploy: the Error (reported on input) instead of a throw. */
export function deploySettings<T extends object>(table: readonly Setting[], config: object): T | Error {
  try {
    return readSettings<T>(table, config);
  } catch (err) {
    return err as Error;
  }
}
