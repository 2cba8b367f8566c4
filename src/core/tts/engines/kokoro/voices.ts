/**
 * Kokoro voices: `voices/<name>.bin`, raw little-endian float32 of shape [N, 1, 256] — one
 * style vector per input length (row n is for n phoneme tokens, without the two pads).
 * A voice spec is a name ("af_heart") or a blend ("af_heart:0.7,am_adam:0.3", weights
 * normalised to sum 1; "af_heart,am_adam" mixes equally), as Kokoro users write it.
 */
import * as fs from "fs";

export const STYLE_DIM = 256;

export interface VoiceTable {
  /** [rows × 256] float32. */
  data: Float32Array;
  rows: number;
}

export function readVoiceTable(file: string, name: string): VoiceTable {
  const bytes = fs.readFileSync(file);
  if (bytes.length === 0 || bytes.length % (STYLE_DIM * 4) !== 0) {
    throw new Error(`Kokoro voice '${name}' (${file}): ${bytes.length} bytes is not a whole number of 256-float style rows`);
  }
  // Copy into an aligned buffer: a Buffer may start at any byte offset of its pool.
  const data = new Float32Array(bytes.length / 4);
  new Uint8Array(data.buffer).set(bytes);
  return { data, rows: data.length / STYLE_DIM };
}

export interface VoicePart {
  name: string;
  weight: number;
}

/** Parses "af_heart", "af_heart:0.7,am_adam:0.3" or "af_heart,am_adam"; weights normalised to sum 1. */
export function parseVoiceSpec(spec: string): VoicePart[] {
  const parts = spec.split(",").map((part) => part.trim()).filter((part) => part.length > 0);
  if (parts.length === 0) throw new Error(`empty Kokoro voice; give a name like af_heart or a blend like af_heart:0.7,am_adam:0.3`);
  const parsed = parts.map((part) => {
    const m = /^([A-Za-z0-9_-]+)(?::\s*([0-9]*\.?[0-9]+))?$/.exec(part);
    if (!m) throw new Error(`Kokoro voice '${spec}': '${part}' is not <name> or <name>:<weight> (e.g. af_heart:0.7,am_adam:0.3)`);
    return { name: m[1], weight: m[2] === undefined ? 1 : Number(m[2]) };
  });
  const total = parsed.reduce((sum, part) => sum + part.weight, 0);
  if (!(total > 0)) throw new Error(`Kokoro voice '${spec}': the weights add up to 0`);
  return parsed.map((part) => ({ name: part.name, weight: part.weight / total }));
}

/** The weighted sum of the parts' tables (rows: the shortest table's). */
export function blendVoices(parts: VoicePart[], tables: (name: string) => VoiceTable): VoiceTable {
  const sources = parts.map((part) => ({ table: tables(part.name), weight: part.weight }));
  if (sources.length === 1) return sources[0].table;
  const rows = Math.min(...sources.map((s) => s.table.rows));
  const data = new Float32Array(rows * STYLE_DIM);
  for (const { table, weight } of sources) {
    for (let i = 0; i < data.length; i++) data[i] += weight * table.data[i];
  }
  return { data, rows };
}

/** The style vector for `tokenCount` phoneme tokens (pads excluded), clamped to the table. */
export function styleFor(table: VoiceTable, tokenCount: number): Float32Array {
  const row = Math.min(Math.max(tokenCount, 0), table.rows - 1);
  return table.data.slice(row * STYLE_DIM, (row + 1) * STYLE_DIM);
}
