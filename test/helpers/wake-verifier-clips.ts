/**
 * Clips for training a small hey_jarvis verifier at test time (espeak-ng, never stored): the
 * wake word in a few voices and speeds, and negatives that include a greeting like the one the
 * pretrained head wakes on (hello_16k), as a user would record the phrase that woke theirs.
 * hey_jarvis_16k and hello_16k themselves are never trained on. Tests that use these call
 * needTool(this, "espeak-ng") first.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { resample } from "../../src/core/audio/resample";
import { writeWavFile } from "../../src/core/audio/wav";
import { espeakSpeak } from "../../src/core/tts/espeak";

const VOICES = ["en", "en-us", "en-gb-scotland", "en+m3", "en-us+f2", "en-029"];
const SPEEDS = [140, 175];
const POSITIVE = ["Hey Jarvis", "Hey Jarvis!"];
const NEGATIVE = ["Hello, how are you?", "Hello there, how are you doing?", "Hey Jasmine", "Hey Travis, come here.", "Harvey is at home.", "Good morning everyone.", "The bus leaves at nine."];

async function say(text: string, voice: string, wpm: number): Promise<Float32Array> {
  const a = await espeakSpeak(text, voice, { rate: wpm });
  const s = resample(a.audio, a.sampleRate, 16000);
  const out = new Float32Array(s.length + 8000);
  out.set(s, 4000);
  return out;
}

let made: Promise<{ positive: string; negative: string }> | undefined;

/** Two folders of 16 kHz WAVs, `positive/` and `negative/`, made once per test process. */
export function verifierClipFolders(): Promise<{ positive: string; negative: string }> {
  made ??= (async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "wake-verifier-clips-"));
    const positive = path.join(root, "positive");
    const negative = path.join(root, "negative");
    fs.mkdirSync(positive);
    fs.mkdirSync(negative);
    let n = 0;
    for (const voice of VOICES) {
      for (const wpm of SPEEDS) {
        for (const text of POSITIVE) await writeWavFile(path.join(positive, `${String(n++).padStart(3, "0")}.wav`), await say(text, voice, wpm), 16000);
        for (const text of NEGATIVE) await writeWavFile(path.join(negative, `${String(n++).padStart(3, "0")}.wav`), await say(text, voice, wpm), 16000);
      }
    }
    return { positive, negative };
  })();
  return made;
}
