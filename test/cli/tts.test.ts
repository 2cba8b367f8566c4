import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { repoRoot } from "../helpers/paths";

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(repoRoot(), "bin", "voice-stream.js"), "tts", ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function readWav16(file: string): { rate: number; samples: Float32Array } {
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.toString("ascii", 0, 4), "RIFF");
  assert.equal(bytes.readUInt16LE(34), 16, "16-bit");
  const rate = bytes.readUInt32LE(24);
  const count = bytes.readUInt32LE(40) / 2;
  const samples = new Float32Array(count);
  for (let i = 0; i < count; i++) samples[i] = bytes.readInt16LE(44 + 2 * i) / 32768;
  return { rate, samples };
}

describe("cli tts", function () {
  this.timeout(120000);
  let work: string;
  before(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), "vs-tts-cli-"))));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("espeak: prints ≥ 2 audio chunks before the final one and writes a WAV of real speech", () => {
    const out = path.join(work, "x.wav");
    const { code, stdout, stderr } = cli("--model", "espeak", "--text", "Hello world. This is a test.", "--out", out, "--json");
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
    const final = lines[lines.length - 1];
    assert.equal(final.is_final, true);
    assert.equal(lines.filter((l) => l.is_final).length, 1);
    const audio = lines.slice(0, -1);
    assert.ok(audio.length >= 2, `${audio.length} audio chunks`);
    for (const line of audio) {
      assert.deepEqual(Object.keys(line).filter((k) => ["chunk_index", "samples", "sample_rate", "text", "is_final"].includes(k)).length, 5);
      assert.ok(line.samples > 0);
      assert.equal(line.sample_rate, 24000);
    }
    const { rate, samples } = readWav16(out);
    assert.equal(rate, 24000);
    const seconds = samples.length / rate;
    assert.ok(seconds >= 1 && seconds <= 5, `${seconds} s`);
    assert.equal(samples.length, audio.reduce((n: number, l: { samples: number }) => n + l.samples, 0));
    // Real speech: loud enough, with pauses (energy varies over 50 ms windows).
    const energies: number[] = [];
    for (let i = 0; i + 1200 <= samples.length; i += 1200) {
      let e = 0;
      for (let j = i; j < i + 1200; j++) e += samples[j] ** 2;
      energies.push(Math.sqrt(e / 1200));
    }
    const loud = energies.filter((e) => e > 0.05).length;
    const quiet = energies.filter((e) => e < 0.005).length;
    console.log(`      ${seconds.toFixed(2)} s, ${loud} loud and ${quiet} quiet 50 ms windows of ${energies.length}`);
    assert.ok(loud > energies.length / 4 && quiet > 0);
  });

  it("codec fixture: the guide's defaults give 5760, 12000, … samples; --json lines end with the final", async () => {
    const model = await fixtureDir("tiny-codec-tts");
    const { code, stdout, stderr } = cli(
      "--model", model, "--text", "This sentence is long enough to be cut into several codec chunks by the streamer.",
      "--first-frames-per-chunk", "12", "--frames-per-chunk", "25", "--lookforward", "5", "--lookback", "50", "--overlap-frames", "1",
      "--seed", "3", "--json",
    );
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
    const sizes = lines.filter((l) => !l.is_final).map((l) => l.samples);
    assert.equal(sizes[0], 5760);
    assert.ok(sizes.slice(1, -1).every((s: number) => s === 12000));
    const final = lines[lines.length - 1];
    assert.equal(final.is_final, true);
    assert.equal(sizes.reduce((a: number, b: number) => a + b, 0), final.generated_tokens * 480);
  });

  it("kokoro fixture: --json streams 24 kHz chunks span by span; --speed and a --voice blend apply; bad voice is one line", async () => {
    const model = await fixtureDir("tiny-kokoro");
    const text = "Hello, world! Dr. Smith paid $5.50 in 1995. “Quoted” text; the end.";
    const run = (...extra: string[]) => {
      const { code, stdout, stderr } = cli("--model", model, "--text", text, "--json", ...extra);
      assert.equal(code, 0, stderr);
      return stdout.trim().split("\n").map((l) => JSON.parse(l));
    };
    const lines = run();
    const audio = lines.filter((l) => !l.is_final);
    assert.deepEqual(audio.map((l) => l.text), ["Hello, world!", "Dr. Smith paid $5.50 in 1995.", "“Quoted” text; the end."]);
    assert.deepEqual(audio.map((l) => l.chunk_index), [0, 1, 2]);
    for (const line of audio) {
      assert.equal(line.sample_rate, 24000);
      assert.ok(line.samples > 0 && line.samples % 600 === 0, `${line.samples}`);
    }
    const final = lines[lines.length - 1];
    assert.equal(final.is_final, true);
    assert.equal(lines.filter((l) => l.is_final).length, 1);
    assert.ok(final.time_to_first_audio > 0 && final.rtf > 0);
    const fast = run("--speed", "2", "--voice", "af_heart:0.7,am_adam:0.3").filter((l) => !l.is_final);
    assert.deepEqual(fast.map((l) => l.samples), audio.map((l) => l.samples / 2));
    const bad = cli("--model", model, "--text", "Hi.", "--voice", "af_nobody");
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /unknown Kokoro voice 'af_nobody'; this model has: af_heart, am_adam, bf_emma/);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  });

  it("bad input: one line, exit 2", async () => {
    const model = await fixtureDir("tiny-codec-tts");
    for (const [args, message] of [
      [["--model", model], /--text is required/],
      [["--model", model, "--text", "Hi.", "--overlap-frames", "30"], /overlap_frames \(30\) must be smaller than frames_per_chunk/],
      [["--model", model, "--text", "Hi.", "--frames-per-chunk", "0"], /--frames-per-chunk must be at least 1/],
      [["--model", model, "--text", "Hi.", "--voice", "nobody"], /unknown voice 'nobody'; this model has: dave, jo/],
      [["--model", model, "--text", "Hi.", "--lookback", "abc"], /--lookback must be a number/],
    ] as const) {
      const { code, stderr } = cli(...args);
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
    }
    const missing = cli("--model", path.join(work, "nope"), "--text", "Hi.");
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /not found: give a model directory, a Hugging Face repo id/);
  });
});
