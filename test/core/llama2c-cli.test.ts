import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot, sharedDir } from "../helpers/paths";

const MODEL_BIN = sharedDir("models", "stories260K", "stories260K.bin");
const TOKENIZER_BIN = sharedDir("models", "stories260K", "tok512.bin");

/** Runs the real `voice-stream` binary. */
function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(repoRoot(), "bin", "voice-stream.js"), "convert-llama2c", ...args], {
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("cli convert-llama2c", () => {
  let work: string;
  before(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), "vs-llama2c-cli-"))));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("converts stories260K into the model layout", () => {
    const out = path.join(work, "stories260K");
    const { code, stdout, stderr } = cli(MODEL_BIN, TOKENIZER_BIN, out);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^wrote .*stories260K \(llama, 5 layers, hidden 64, vocab 512\)\n$/);
    for (const f of ["onnx/model.onnx", "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"]) {
      assert.ok(fs.existsSync(path.join(out, f)), f);
    }
  });

  it("with --q4 also writes onnx/model_q4.onnx", () => {
    const out = path.join(work, "stories260K-q4");
    const { code, stderr } = cli(MODEL_BIN, TOKENIZER_BIN, out, "--q4");
    assert.equal(code, 0, stderr);
    assert.ok(fs.statSync(path.join(out, "onnx", "model_q4.onnx")).size < fs.statSync(path.join(out, "onnx", "model.onnx")).size);
  });

  const badInputs: [string, () => string[], RegExp][] = [
    ["a missing model file", () => [path.join(work, "nope.bin"), TOKENIZER_BIN, path.join(work, "o1")], /model file not found/],
    ["a missing tokenizer file", () => [MODEL_BIN, path.join(work, "nope.bin"), path.join(work, "o2")], /tokenizer file not found/],
    ["swapped inputs", () => [TOKENIZER_BIN, MODEL_BIN, path.join(work, "o3")], /not a llama2.c checkpoint/],
    ["a model as tokenizer", () => [MODEL_BIN, MODEL_BIN, path.join(work, "o4")], /not a llama2.c tokenizer/],
    ["a truncated model", () => {
      const cut = path.join(work, "cut.bin");
      fs.writeFileSync(cut, fs.readFileSync(MODEL_BIN).subarray(0, 5000));
      return [cut, TOKENIZER_BIN, path.join(work, "o5")];
    }, /implies 1056540 bytes but the file has 5000/],
    ["too few arguments", () => [MODEL_BIN, TOKENIZER_BIN], /expected 3 arguments, got 2; usage:/],
    ["an unknown option", () => [MODEL_BIN, TOKENIZER_BIN, path.join(work, "o6"), "--fp16"], /Unknown option '--fp16'/],
    ["an output path that is a file", () => [MODEL_BIN, TOKENIZER_BIN, MODEL_BIN], /not a directory/],
  ];
  for (const [label, args, message] of badInputs) {
    it(`exits 2 with one clear line for ${label}`, () => {
      const argv = args();
      const { code, stdout, stderr } = cli(...argv);
      assert.equal(code, 2);
      assert.equal(stdout, "");
      assert.match(stderr, message);
      assert.match(stderr, /^voice-stream convert-llama2c: [^\n]+\n$/);
      if (argv.length === 3 && argv[2] !== MODEL_BIN) assert.ok(!fs.existsSync(argv[2]), "nothing written");
    });
  }
});
