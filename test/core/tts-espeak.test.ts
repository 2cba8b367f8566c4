import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lastValueFrom, toArray } from "rxjs";
import { espeakPhonemes, espeakSpeak, parseEspeakWav } from "../../src/core/tts/espeak";
import { EspeakEngine } from "../../src/core/tts/engines/espeak/espeak-engine";
import { localLoadContext } from "../../src/core/registry";
import { loadTts } from "../../src/core/tts/loader";
import type { TtsChunk } from "../../src/core/types";
import { needTool } from "../helpers/system-tools";

function rms(audio: Float32Array): number {
  let sum = 0;
  for (const x of audio) sum += x * x;
  return Math.sqrt(sum / Math.max(1, audio.length));
}

async function withBackend<T>(backend: "system" | "wasm", fn: () => Promise<T>): Promise<T> {
  const before = process.env.VOICE_STREAM_ESPEAK;
  process.env.VOICE_STREAM_ESPEAK = backend;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.VOICE_STREAM_ESPEAK;
    else process.env.VOICE_STREAM_ESPEAK = before;
  }
}

describe("tts espeak engine", function () {
  this.timeout(60000);

  it("loads for enginesPath 'espeak' or config.engine 'espeak', with no files", async () => {
    assert.ok((await loadTts(localLoadContext("tts", { enginesPath: "espeak" }))) instanceof EspeakEngine);
    assert.ok((await loadTts(localLoadContext("tts", { enginesPath: "x", config: { engine: "espeak" } }))) instanceof EspeakEngine);
  });

  for (const backend of ["system", "wasm"] as const) {
    it(`streams span by span at 24 kHz with the ${backend} espeak-ng`, async function () {
      if (backend === "system") needTool(this, "espeak-ng");
      await withBackend(backend, async () => {
        const streamer = new EspeakEngine().openStreamer({});
        const done = lastValueFrom(streamer.output$.pipe(toArray()));
        streamer.send("Hello world. This is a test.");
        streamer.finish();
        const chunks = (await done) as TtsChunk[];
        const audio = chunks.filter((c) => !c.is_final);
        assert.deepEqual(audio.map((c) => c.text), ["Hello world.", "This is a test."]);
        assert.ok(audio.every((c) => c.sample_rate === 24000 && rms(c.audio) > 0.02), "24 kHz speech in every chunk");
        const final = chunks[chunks.length - 1];
        assert.equal(final.is_final, true);
        assert.ok(final.audio_seconds! > 1 && final.audio_seconds! < 5, `${final.audio_seconds} s`);
      });
    });
  }

  it("cancel stops after the current span: one cancelled final, no audio after", async () => {
    const streamer = new EspeakEngine().openStreamer({});
    const seen: string[] = [];
    let cancelled = false;
    const done = new Promise<void>((resolve) =>
      streamer.output$.subscribe({
        next: (c) => {
          seen.push(c.kind);
          if (c.kind === "audio" && !cancelled) {
            cancelled = true;
            streamer.cancel();
          }
        },
        complete: resolve,
      }),
    );
    streamer.send("One sentence here. Another sentence there. And a third one.");
    streamer.finish();
    await done;
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen, ["audio", "cancelled"]);
  });

  it("system and WASM builds give the same phonemes", async function () {
    needTool(this, "espeak-ng");
    const system = await withBackend("system", () => espeakPhonemes("Hello world", "en-us"));
    const wasm = await withBackend("wasm", () => espeakPhonemes("Hello world", "en-us"));
    assert.equal(system.trim(), "həlˈoʊ wˈɜːld");
    assert.equal(wasm.trim(), system.trim());
  });

  it("text that looks like an option is spoken, not obeyed (the system binary's argument array)", async function () {
    needTool(this, "espeak-ng");
    const target = path.join(os.tmpdir(), `should-not-exist-${process.pid}.wav`);
    const { audio } = await withBackend("system", () => espeakSpeak(`--version -w ${target}`, "en-us"));
    assert.ok(audio.length > 0);
    assert.ok(!fs.existsSync(target));
  });

  it("names the apt package when espeak-ng is missing", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-espeak-"));
    const pathBefore = process.env.PATH;
    process.env.PATH = empty;
    try {
      await withBackend("system", () =>
        assert.rejects(espeakSpeak("Hi", "en-us"), /espeak-ng was not found: install the system package with 'sudo apt-get install espeak-ng'/),
      );
    } finally {
      process.env.PATH = pathBefore;
    }
  });

  it("rejects a voice that is not an espeak voice name", () => {
    assert.throws(() => new EspeakEngine().openStreamer({ voice: "--stdout" }), /unknown voice '--stdout'/);
  });

  it("reads espeak's streamed WAV (placeholder sizes) to the end of the bytes", () => {
    const header = Buffer.alloc(44);
    header.write("RIFF", 0, "ascii");
    header.writeUInt32LE(0x7ffff000, 4);
    header.write("WAVEfmt ", 8, "ascii");
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20);
    header.writeUInt16LE(1, 22);
    header.writeUInt32LE(22050, 24);
    header.writeUInt32LE(44100, 28);
    header.writeUInt16LE(2, 32);
    header.writeUInt16LE(16, 34);
    header.write("data", 36, "ascii");
    header.writeUInt32LE(0x7ffff000, 40);
    const body = Buffer.alloc(6);
    body.writeInt16LE(16384, 0);
    body.writeInt16LE(-32768, 2);
    body.writeInt16LE(0, 4);
    const { audio, sampleRate } = parseEspeakWav(Buffer.concat([header, body]));
    assert.equal(sampleRate, 22050);
    assert.deepEqual([...audio], [0.5, -1, 0]);
  });
});
