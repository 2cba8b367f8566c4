/**
 * The `--input <file.wav>` of the asr and vad commands: read through the core WAV decoder,
 * with a missing file or an unreadable one reported as the user's mistake (one line, exit 2).
 */
import * as fs from "fs";
import { readWavFile, type DecodedWav } from "../core/audio/wav";
import { CliError } from "./cli-error";

export async function readInputWav(file: string): Promise<DecodedWav> {
  if (!fs.existsSync(file)) throw new CliError(`input file '${file}' does not exist; give --input a WAV file`);
  if (fs.statSync(file).isDirectory()) throw new CliError(`input '${file}' is a directory; give --input a WAV file`);
  try {
    return await readWavFile(file);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}
