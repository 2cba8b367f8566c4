import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot, sharedDir } from "../helpers/paths";
import { fixtureDir } from "../helpers/fixtures";
import { encodeWav } from "../../src/core/audio/wav";
import { resample } from "../../src/core/audio/resample";
import { speechWithPauses } from "../core/asr-audio";

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(repoRoot(), "bin", "voice-stream.js"), ...args], { encoding: "utf8", timeout: 120000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("cli: voice-stream vad", () => {
  it("--json prints one {start, end} line per speech segment", () => {
    const r = cli(["vad", "--input", sharedDir("audio", "count_16k.wav"), "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.length >= 1);
    for (const s of lines) {
      assert.deepEqual(Object.keys(s), ["start", "end"]);
      assert.ok(s.start >= 0 && s.end > s.start && s.end <= 2.37 + 1e-6, JSON.stringify(s));
    }
  });

  it("bad input is one clear line and a non-zero exit", () => {
    for (const args of [["vad"], ["vad", "--input", "/no/such.wav"], ["vad", "--input", sharedDir("audio", "count_16k.wav"), "--threshold", "x"], ["vad", "--bogus"]]) {
      const r = cli(args);
      assert.equal(r.status, 2, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /^voice-stream vad: /);
    }
  });
});

describe("cli: voice-stream asr", function () {
  this.timeout(120000);
  let model: string;
  let wav48k: string;
  before(async () => {
    model = await fixtureDir("tiny-whisper");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asr-cli-"));
    wav48k = path.join(dir, "speech48k.wav");
    fs.writeFileSync(wav48k, encodeWav(resample(speechWithPauses([2.5, 0.6, 2], 3), 16000, 48000), 48000));
  });

  it("--json streams partials that only grow, then the final, from a 48 kHz file", () => {
    const r = cli(["asr", "--model", model, "--input", wav48k, "--language", "en", "--partial-interval-ms", "0", "--realtime", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const final = events[events.length - 1];
    assert.equal(final.kind, "final");
    assert.equal(final.is_final, true);
    assert.ok(final.text.split(" ").length >= 4, final.text);
    assert.ok(Math.abs(final.audio_seconds - 5.1) < 0.01, String(final.audio_seconds));
    const partials = events.filter((e) => e.kind === "partial");
    assert.ok(partials.length >= 1, "partials while the file played");
    partials.forEach((p) => assert.ok(final.text.startsWith(p.text)));
    assert.equal(events.filter((e) => e.is_final).length, 1);
  });

  it("without --json prints 'partial:' lines and the 'final:' line", () => {
    const r = cli(["asr", "--model", model, "--input", wav48k, "--language", "en"]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.match(lines[lines.length - 1], /^final: \S+/);
    assert.ok(lines.every((l) => /^(partial|final): /.test(l)));
  });

  it("bad input is one clear line and a non-zero exit", () => {
    const cases: [string[], RegExp][] = [
      [["asr", "--input", wav48k], /--model is required/],
      [["asr", "--model", model], /--input is required/],
      [["asr", "--model", "/no/such/dir", "--input", wav48k], /not found/],
      [["asr", "--model", model, "--input", wav48k, "--language", "xx"], /language 'xx'/],
      [["asr", "--model", model, "--input", wav48k, "--partial-interval-ms=-5"], /at least 0/],
      [["asr", "--model", model, "--input", sharedDir("README.md")], /not a WAV file/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, message);
    }
  });
});
