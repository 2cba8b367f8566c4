import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { startHubServer } from "../helpers/hub-server";
import { repoRoot } from "../helpers/paths";
import { convertLlama2c } from "../../src/core/llm/llama2c/convert";
import { STORIES, STORIES_PROMPTS, STORIES_REFERENCE, readReferenceIds } from "../core/llm-support";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    const options = { encoding: "utf8" as const, env: { ...process.env, ...env } };
    execFile(process.execPath, [path.join(repoRoot(), "bin", "voice-stream.js"), "llm", ...args], options, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const lines = (stdout: string) => stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

describe("cli: voice-stream llm", function () {
  let stories: string;
  let tiny: string;

  before(async () => {
    stories = fs.mkdtempSync(path.join(os.tmpdir(), "vs-cli-llm-"));
    convertLlama2c(path.join(STORIES, "stories260K.bin"), path.join(STORIES, "tok512.bin"), stories);
    tiny = await fixtureDir("tiny-llm");
  });

  after(() => fs.rmSync(stories, { recursive: true, force: true }));

  it("--temperature 0 --json on converted stories260K gives run.c's greedy ids, one chunk per line, final last", async () => {
    const { generated } = readReferenceIds("once_upon_a_time");
    const r = await cli([
      "--model", stories, "--prompt", STORIES_PROMPTS.once_upon_a_time,
      "--temperature", "0", "--max-new-tokens", String(generated.length), "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const chunks = lines(r.stdout);
    assert.deepEqual(chunks.flatMap((c) => c.token_ids as number[]), generated);
    assert.equal(chunks.filter((c) => c.is_final).length, 1);
    const final = chunks[chunks.length - 1];
    assert.equal(final.is_final, true);
    assert.equal(final.finish_reason, "length");
    const printed = fs.readFileSync(path.join(STORIES_REFERENCE, "once_upon_a_time.txt"), "utf8");
    assert.equal(STORIES_PROMPTS.once_upon_a_time + final.text + "\n", printed);
    for (const key of ["time_to_first_token", "tokens_per_second", "prompt_tokens", "generated_tokens", "total_seconds"]) {
      assert.equal(typeof final[key], "number", key);
    }
  });

  it("without --json prints only the generated text", async () => {
    const { generated } = readReferenceIds("one_day_a_little_girl");
    const r = await cli([
      "--model", stories, "--prompt", STORIES_PROMPTS.one_day_a_little_girl,
      "--temperature", "0", "--max-new-tokens", String(generated.length),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const printed = fs.readFileSync(path.join(STORIES_REFERENCE, "one_day_a_little_girl.txt"), "utf8");
    assert.equal(STORIES_PROMPTS.one_day_a_little_girl + r.stdout + "\n", printed);
  });

  it("same --seed gives the same output; --raw skips the chat template", async () => {
    const args = ["--model", tiny, "--prompt", "Hello", "--temperature", "0.9", "--seed", "77", "--max-new-tokens", "12", "--json"];
    const a = await cli(args);
    const b = await cli(args);
    assert.equal(a.code, 0, a.stderr);
    const final = (r: Result) => lines(r.stdout).pop()!;
    assert.equal(final(a).text, final(b).text);
    assert.deepEqual(lines(a.stdout).flatMap((c) => c.token_ids as number[]), lines(b.stdout).flatMap((c) => c.token_ids as number[]));
    const templated = final(a).prompt_tokens as number;
    const raw = final(await cli([...args, "--raw"])).prompt_tokens as number;
    assert.ok(raw < templated, `raw prompt ${raw} tokens, templated ${templated}`);
  });

  it("downloads a hub repo id into the cache (HF_ENDPOINT), then runs from the cache offline", async () => {
    const server = await startHubServer({ repos: { "test-org/tiny-llm": tiny } });
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "vs-cli-llm-cache-"));
    try {
      const args = ["--model", "test-org/tiny-llm", "--prompt", "Hello", "--temperature", "0", "--max-new-tokens", "8", "--json"];
      const online = await cli(args, { HF_ENDPOINT: server.url, VOICE_STREAM_CACHE: cache });
      assert.equal(online.code, 0, online.stderr);
      const local = await cli(["--model", tiny, ...args.slice(2)]);
      assert.equal(lines(online.stdout).pop()!.text, lines(local.stdout).pop()!.text);
      assert.ok(server.requests.some((r) => r.url.includes("/resolve/")), "files came from the hub");
      await server.close();
      const offline = await cli(args, { HF_HUB_OFFLINE: "1", VOICE_STREAM_CACHE: cache });
      assert.equal(offline.code, 0, offline.stderr);
      assert.equal(lines(offline.stdout).pop()!.text, lines(local.stdout).pop()!.text);
    } finally {
      await server.close().catch(() => undefined);
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  it("bad input gets one clear line and a non-zero exit", async () => {
    const cases: [string[], RegExp][] = [
      [["--prompt", "hi"], /--model is required/],
      [["--model", tiny], /--prompt is required/],
      [["--model", path.join(os.tmpdir(), "no-such-model-dir"), "--prompt", "hi"], /not found/],
      [["--model", tiny, "--prompt", "hi", "--temperature", "hot"], /--temperature must be a number/],
      [["--model", tiny, "--prompt", "hi", "--max-new-tokens", "0"], /--max-new-tokens must be at least 1/],
      [["--model", tiny, "--prompt", "hi", "--top-p", "0"], /--top-p must be above 0/],
      [["--model", tiny, "--prompt", "   "], /prompt is empty/],
      [["--model", tiny, "--prompt", "hi", "--bogus"], /bogus/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      assert.notEqual(r.code, 0, args.join(" "));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.equal(r.stdout, "");
    }
  });
});
