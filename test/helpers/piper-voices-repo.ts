/**
 * A stand-in for rhasspy/piper-voices in its hub layout, built from the tiny-piper fixture:
 *   <lang>/<locale>/<speaker>/<quality>/<voice>.onnx, <voice>.onnx.json, MODEL_CARD, ALIASES,
 *   samples/speaker_0.mp3
 * one folder per voice named, so a test can check that one voice's download leaves the others
 * (and the samples) alone. Voice names follow piper's <locale>-<speaker>-<quality>.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PIPER_VOICE_NAME } from "../../fixtures/tiny-piper";
import { fixtureDir } from "./fixtures";

/** The repo-relative folder of `voice` ("en_US-lessac-medium" → "en/en_US/lessac/medium"). */
export function piperVoiceFolder(voice: string): string {
  const [locale, speaker, quality] = voice.split("-");
  return [locale.split("_")[0], locale, speaker, quality].join("/");
}

/** A folder in rhasspy/piper-voices' layout holding the tiny-piper voice under each of `voices`. */
export async function piperVoicesRepo(voices: string[]): Promise<string> {
  const tiny = await fixtureDir("tiny-piper");
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "vs-piper-voices-"));
  for (const voice of voices) {
    const dir = path.join(root, piperVoiceFolder(voice));
    fs.mkdirSync(path.join(dir, "samples"), { recursive: true });
    fs.copyFileSync(path.join(tiny, `${PIPER_VOICE_NAME}.onnx`), path.join(dir, `${voice}.onnx`));
    fs.copyFileSync(path.join(tiny, `${PIPER_VOICE_NAME}.onnx.json`), path.join(dir, `${voice}.onnx.json`));
    fs.writeFileSync(path.join(dir, "MODEL_CARD"), `# Model card for ${voice} (test stand-in)\n\n* License: see the dataset's licence\n`);
    fs.writeFileSync(path.join(dir, "ALIASES"), `${voice.toLowerCase()}\n`);
    fs.writeFileSync(path.join(dir, "samples", "speaker_0.mp3"), Buffer.alloc(2048, 1));
  }
  fs.writeFileSync(path.join(root, "voices.json"), JSON.stringify(Object.fromEntries(voices.map((v) => [v, { key: v }]))));
  return root;
}
