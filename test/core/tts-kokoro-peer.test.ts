/**
 * Peer check against kokoro-js 1.2.1 (the reference JS pipeline, on transformers.js) on the
 * same tiny-kokoro folder: the same phoneme ids for the same text, and the same audio for the
 * same ids, voice and speed.
 *
 * kokoro-js reads its voices from `<its package>/voices/<name>.bin` in Node (they are not
 * shipped in the npm package); the test points those reads at the fixture's voices folder by
 * wrapping fs/promises.readFile (kokoro-js's CommonJS build takes the shared module object).
 * Both sides phonemise with the same WASM espeak-ng build (kokoro-js through `phonemizer`,
 * ours through the `espeak-ng` package, forced with VOICE_STREAM_ESPEAK=wasm), so a system
 * espeak-ng of another version cannot make the ids differ.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { lastValueFrom, toArray } from "rxjs";
import { localLoadContext } from "../../src/core/registry";
import { loadTts } from "../../src/core/tts/loader";
import type { KokoroEngine } from "../../src/core/tts/engines/kokoro";
import type { TtsChunk } from "../../src/core/types";
import { fixtureDir } from "../helpers/fixtures";

interface KokoroJsAudio {
  audio: Float32Array;
  sampling_rate: number;
}
interface KokoroJs {
  generate(text: string, options: { voice: string; speed: number }): Promise<KokoroJsAudio>;
  generate_from_ids(ids: { data: BigInt64Array; dims: number[] }, options: { voice: string; speed: number }): Promise<KokoroJsAudio>;
}

const SENTENCES = [
  "Hello, world! How are you today?",
  "Dr. Smith paid $5.50 for 12,000 apples in 1995.",
  "Mr. and Mrs. Jones met Ms. Lee at 3:05, not 4:00.",
  "The U.S.A. report covers pages 10-20, etc.",
  "“Quoted,” she said; ‘single’ quotes (and brackets) — all of it…",
  "Pi is about 3.14159, and £2.75 buys a coffee.",
  "Yeah, the 1990s were fun: NASA's CDs, Kokoro, and ninety-nine balloons?!",
  // A line break inside a piece: phonemised piece by piece (the one-run batch would misalign).
  "First line\nsecond line, then the rest.",
];

describe("tts kokoro peer check: ours vs kokoro-js on tiny-kokoro", function () {
  this.timeout(180000);
  let engine: KokoroEngine;
  let peer: KokoroJs;
  let restore: () => void;
  let restoreTransformers: () => void = () => undefined;
  let dir: string;
  const savedEspeak = process.env.VOICE_STREAM_ESPEAK;

  before(async () => {
    process.env.VOICE_STREAM_ESPEAK = "wasm";
    dir = await fixtureDir("tiny-kokoro");
    engine = (await loadTts(localLoadContext("tts", { enginesPath: dir }))) as KokoroEngine;

    // The module object itself (an `import * as` namespace would be a read-only copy).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fsp = require("fs/promises") as { readFile: unknown };
    const original = fsp.readFile;
    const redirected = function (this: unknown, file: unknown, ...rest: unknown[]) {
      const m = /kokoro-js[\\/]voices[\\/]([^\\/]+\.bin)$/.exec(String(file));
      const target = m ? path.join(dir, "voices", m[1]) : file;
      return (original as (...args: unknown[]) => unknown).call(this, target, ...rest);
    };
    fsp.readFile = redirected;
    restore = () => (fsp.readFile = original);

    // Local files only: transformers.js must never reach the hub.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const transformers = require("@huggingface/transformers");
    const saved = { allowRemoteModels: transformers.env.allowRemoteModels, localModelPath: transformers.env.localModelPath };
    transformers.env.allowRemoteModels = false;
    transformers.env.localModelPath = path.dirname(dir) + path.sep;
    restoreTransformers = () => Object.assign(transformers.env, saved);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { KokoroTTS } = require("kokoro-js");
    peer = await KokoroTTS.from_pretrained(path.basename(dir), { dtype: "fp32" });
  });

  after(async () => {
    restore?.();
    restoreTransformers();
    if (savedEspeak === undefined) delete process.env.VOICE_STREAM_ESPEAK;
    else process.env.VOICE_STREAM_ESPEAK = savedEspeak;
    await engine?.dispose();
  });

  /** kokoro-js's ids and audio for `text` (its generate() with the ids captured on the way). */
  async function peerGenerate(text: string, voice: string, speed: number): Promise<{ ids: number[]; audio: Float32Array }> {
    let ids: number[] = [];
    const original = peer.generate_from_ids;
    peer.generate_from_ids = (tensor, options) => {
      ids = Array.from(tensor.data, Number);
      return original.call(peer, tensor, options);
    };
    try {
      const { audio, sampling_rate } = await peer.generate(text, { voice, speed });
      assert.equal(sampling_rate, 24000);
      return { ids, audio };
    } finally {
      peer.generate_from_ids = original;
    }
  }

  function assertClose(ours: Float32Array, theirs: Float32Array, what: string): void {
    assert.equal(ours.length, theirs.length, `${what}: length`);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
    assert.ok(worst <= 1e-5, `${what}: max |diff| ${worst}`);
  }

  for (const [voice, speed] of [["af_heart", 1], ["bf_emma", 1.25]] as const) {
    it(`${voice} at speed ${speed}: the same phoneme ids and audio for numbers, abbreviations, punctuation and quotes`, async () => {
      for (const text of SENTENCES) {
        const theirs = await peerGenerate(text, voice, speed);
        const ours = engine.tokenize(await engine.phonemize(text, voice));
        assert.deepEqual(ours, theirs.ids, `ids for ${JSON.stringify(text)} (${voice})`);
        assertClose(await engine.synthesizeIds(ours, voice, speed), theirs.audio, `audio for ${JSON.stringify(text)}`);
      }
    });
  }

  it("q8 (model_quantized.onnx) on both sides: the same audio", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { KokoroTTS } = require("kokoro-js");
    const peerQ8: KokoroJs = await KokoroTTS.from_pretrained(path.basename(dir), { dtype: "q8" });
    const oursQ8 = (await loadTts(localLoadContext("tts", { enginesPath: dir, config: { dtype: "q8" } }))) as KokoroEngine;
    try {
      const text = "Quantized: 42 voices, 3.5 seconds.";
      const ids = oursQ8.tokenize(await oursQ8.phonemize(text));
      const theirs = await peerQ8.generate(text, { voice: "af_heart", speed: 1 });
      assertClose(await oursQ8.synthesizeIds(ids, "af_heart", 1), theirs.audio, "q8 audio");
    } finally {
      await oursQ8.dispose();
    }
  });

  it("the streamer's audio for a one-sentence text equals kokoro-js's generate()", async () => {
    const text = "Dr. Smith paid $5.50 for 12,000 apples in 1995.";
    const streamer = engine.openStreamer({ voice: "am_adam", speed: 0.8 });
    const done = lastValueFrom(streamer.output$.pipe(toArray()));
    streamer.send(text);
    streamer.finish();
    const chunks = (await done).filter((c): c is TtsChunk => c.kind === "audio" && !c.is_final);
    assert.deepEqual(chunks.map((c) => c.text), [text]);
    assertClose(chunks[0].audio, (await peerGenerate(text, "am_adam", 0.8)).audio, "streamed audio");
  });
});
