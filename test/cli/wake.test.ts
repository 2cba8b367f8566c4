import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot, sharedDir } from "../helpers/paths";
import { wakeModelFolder } from "../helpers/wake-models";
import { needTool } from "../helpers/system-tools";
import { verifierClipFolders } from "../helpers/wake-verifier-clips";

function cli(args: string[], timeout = 120000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(repoRoot(), "bin", "voice-stream.js"), ...args], { encoding: "utf8", timeout });
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

  describe("with a verifier (voice-stream wake-verifier, then wake --verifier)", function () {
    let verifier: string;

    before(async function () {
      needTool(this, "espeak-ng");
      const folders = await verifierClipFolders();
      verifier = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cli-verifier-")), "hey_jarvis.verifier.json");
      const r = cli(["wake-verifier", "--model", model, "--head", "hey_jarvis_v0.1", "--positive", folders.positive, "--negative", folders.negative, "--out", verifier, "--seed", "5", "--json"], 240000);
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(r.stdout.trim());
      assert.equal(report.head, "hey_jarvis_v0.1");
      assert.equal(report.positive_clips, fs.readdirSync(folders.positive).length);
      assert.ok(fs.existsSync(verifier));
    });

    it("keeps the detection on hey_jarvis_16k; the other clips but hello_16k stay quiet", () => {
      const jarvis = cli(["wake", "--model", model, "--input", sharedDir("audio", "hey_jarvis_16k.wav"), "--verifier", verifier, "--json"]);
      assert.equal(jarvis.status, 0, jarvis.stderr);
      const lines = jarvis.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(lines.length, 1, jarvis.stdout);
      assert.equal(lines[0].name, "hey_jarvis_v0.1");
      for (const name of ["alexa_16k", "count_16k", "neg_16k", "weather_16k"]) {
        const r = cli(["wake", "--model", model, "--input", sharedDir("audio", `${name}.wav`), "--verifier", verifier, "--json"]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), "", name);
      }
      // hello_16k: the verifier accepts it as the head does (see test/core/wake-verifier.test.ts)
      const hello = cli(["wake", "--model", model, "--input", sharedDir("audio", "hello_16k.wav"), "--verifier", verifier, "--json"]);
      assert.equal(hello.stdout.trim().split("\n").length, 1, hello.stdout);
    });

    it("bad verifier files and bad training input are one clear line and a non-zero exit", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-verifier-bad-"));
      const other = path.join(dir, "other.json");
      fs.writeFileSync(other, JSON.stringify({ ...JSON.parse(fs.readFileSync(verifier, "utf8")), head: "alexa_v0.1" }));
      const broken = path.join(dir, "broken.json");
      fs.writeFileSync(broken, "{");
      const input = sharedDir("audio", "hey_jarvis_16k.wav");
      const cases: [string[], RegExp][] = [
        [["wake", "--model", model, "--input", input, "--verifier", path.join(dir, "none.json")], /--verifier: .*none\.json does not exist/],
        [["wake", "--model", model, "--input", input, "--verifier", broken], /not valid JSON/],
        [["wake", "--model", model, "--input", input, "--verifier", other], /made for the wake word 'alexa_v0.1', which this model does not have/],
        [["wake-verifier", "--model", model, "--head", "hey_jarvis_v0.1", "--positive", dir, "--negative", dir, "--out", path.join(dir, "v.json")], /holds no \.wav files/],
        [["wake-verifier", "--model", model, "--head", "hey_jarvis_v0.1", "--positive", "/no/such", "--negative", dir, "--out", path.join(dir, "v.json")], /--positive folder '\/no\/such' does not exist/],
        [["wake-verifier", "--model", model, "--head", "hey_jarvis_v0.1", "--positive", dir, "--negative", dir], /--out is required/],
      ];
      for (const [args, message] of cases) {
        const r = cli(args);
        assert.notEqual(r.status, 0, args.join(" "));
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      }
    });
  });
});
