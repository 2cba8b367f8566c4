import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { repoRoot, sharedDir } from "../helpers/paths";
import { wakeModelFolder } from "../helpers/wake-models";

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(repoRoot(), "bin", "voice-stream.js"), ...args], { encoding: "utf8", timeout: 120000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("cli: voice-stream wake", function () {
  this.timeout(180000);
  const model = wakeModelFolder(["hey_jarvis_v0.1"]);

  it("--json: one detection on hey_jarvis_16k, none on the other clips but hello_16k (the head's own false accept)", () => {
    for (const name of ["hey_jarvis_16k", "alexa_16k", "count_16k", "hello_16k", "neg_16k", "weather_16k"]) {
      const r = cli(["wake", "--model", model, "--input", sharedDir("audio", `${name}.wav`), "--json"]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim() === "" ? [] : r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      if (name === "hello_16k") {
        // hey_jarvis scores 0.85 on it, as in openWakeWord's own pipeline (test/core/wake-openwakeword-reference.test.ts)
        assert.equal(lines.length, 1, r.stdout);
        assert.equal(lines[0].name, "hey_jarvis_v0.1");
      } else if (name === "hey_jarvis_16k") {
        assert.equal(lines.length, 1, r.stdout);
        assert.deepEqual(Object.keys(lines[0]), ["name", "score", "time"]);
        assert.equal(lines[0].name, "hey_jarvis_v0.1");
        assert.ok(lines[0].score >= 0.5 && lines[0].time > 1.5 && lines[0].time < 2.6, r.stdout);
      } else {
        assert.deepEqual(lines, [], `${name}: ${r.stdout}`);
      }
    }
  });

  it("--threshold changes what counts; --scores prints each word's highest score", () => {
    const strict = cli(["wake", "--model", model, "--input", sharedDir("audio", "hey_jarvis_16k.wav"), "--threshold", "0.99", "--patience", "20", "--json"]);
    assert.equal(strict.status, 0, strict.stderr);
    assert.equal(strict.stdout.trim(), "");
    const scores = cli(["wake", "--model", model, "--input", sharedDir("audio", "hey_jarvis_16k.wav"), "--scores", "--json"]);
    const [line] = scores.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(line.name, "hey_jarvis_v0.1");
    assert.ok(line.max_score >= 0.9, scores.stdout);
  });

  it("bad input is one clear line and a non-zero exit", () => {
    const cases: [string[], RegExp][] = [
      [["wake", "--input", sharedDir("audio", "hey_jarvis_16k.wav")], /--model is required/],
      [["wake", "--model", model], /--input is required/],
      [["wake", "--model", "/no/such/folder", "--input", sharedDir("audio", "hey_jarvis_16k.wav")], /not found/],
      [["wake", "--model", model, "--input", "/no/such.wav"], /does not exist/],
      [["wake", "--model", model, "--input", sharedDir("audio", "hey_jarvis_16k.wav"), "--threshold", "2"], /at most/],
      [["wake", "--model", sharedDir("audio"), "--input", sharedDir("audio", "hey_jarvis_16k.wav")], /no wake word head/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      assert.notEqual(r.status, 0, args.join(" "));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  });
});
