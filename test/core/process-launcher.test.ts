/**
 * The process launcher (src/core/process): tools run from a small helper process, so a spawn
 * never forks the (large) calling process. Checks the helper really is the tools' parent, that
 * output, exit codes, spawn errors and cancels come through as a direct spawn gives them, and that
 * the helper neither keeps the process alive nor stays broken after it dies.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProcessLauncher, type LaunchedProcess } from "../../src/core/process/process-launcher";

describe("process launcher: tools run from one small helper process", () => {
  let launcher: ProcessLauncher;
  beforeEach(() => {
    launcher = new ProcessLauncher();
  });
  afterEach(() => launcher.close());

  it("the tool's parent is the helper, not this process; stdout, stderr and the exit code come back", async () => {
    const r = await launcher.run("sh", ["-c", "cat; echo \"$PPID\" >&2; exit 3"], "hello there");
    assert.equal(r.code, 3);
    assert.equal(r.stdout.toString("utf8"), "hello there");
    const parent = Number(r.stderr.toString("utf8").trim());
    assert.ok(parent > 0 && parent !== process.pid, `the tool's parent ${parent} is not this process ${process.pid}`);
    const again = await launcher.run("sh", ["-c", "echo \"$PPID\""], "");
    assert.equal(Number(again.stdout.toString("utf8").trim()), parent, "one helper serves every run");
  });

  it("binary output and input pass unchanged; runs at once each get their own output", async () => {
    const bytes = Uint8Array.from({ length: 70000 }, (_, i) => (i * 7) % 256);
    const results = await Promise.all([0, 1, 2, 3].map((k) => launcher.run("sh", ["-c", `cat; printf ${k}`], bytes)));
    results.forEach((r, k) => {
      assert.equal(r.code, 0);
      assert.ok(Buffer.isBuffer(r.stdout));
      assert.deepEqual(r.stdout.subarray(0, bytes.length), Buffer.from(bytes));
      assert.equal(r.stdout.subarray(bytes.length).toString(), String(k));
    });
  });

  it("a tool that does not exist rejects with ENOENT, as spawn does", async () => {
    await assert.rejects(launcher.run("no-such-tool-voice-stream", [], ""), (err: NodeJS.ErrnoException) => err.code === "ENOENT");
  });

  it("an abort kills the tool at once", async () => {
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 100);
    const r = await launcher.run("sleep", ["30"], "", abort.signal);
    assert.equal(r.signal, "SIGKILL");
    assert.ok(Date.now() - started < 10000, "killed, not waited for");
  });

  it("a helper that dies fails the run in it with a message naming the tool, and the next run starts a new helper", async () => {
    const first = await launcher.run("sh", ["-c", "echo \"$PPID\""], "");
    const helperPid = Number(first.stdout.toString().trim());
    const running = launcher.run("sleep", ["30"], "");
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(helperPid, "SIGKILL");
    await assert.rejects(running, /the helper process that runs sleep ended \(SIGKILL\)/);
    const next = await launcher.run("sh", ["-c", "echo \"$PPID\""], "");
    const newPid = Number(next.stdout.toString().trim());
    assert.ok(newPid > 0 && newPid !== helperPid && newPid !== process.pid, `a new helper (${newPid})`);
  });

  it("a helper that dies before its first answer (it cannot run here): the run, and later ones, spawn directly", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "launcher-"));
    const broken = path.join(dir, "broken-child.js");
    fs.writeFileSync(broken, "process.exit(7);\n");
    const direct = new ProcessLauncher(broken);
    try {
      const first = await direct.run("sh", ["-c", "echo \"$PPID\""], "");
      assert.equal(Number(first.stdout.toString().trim()), process.pid);
      const later = await direct.run("sh", ["-c", "echo \"$PPID\""], "");
      assert.equal(Number(later.stdout.toString().trim()), process.pid);
    } finally {
      direct.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("VOICE_STREAM_LAUNCHER=0 spawns directly from this process", async () => {
    process.env.VOICE_STREAM_LAUNCHER = "0";
    try {
      const r = await launcher.run("sh", ["-c", "echo \"$PPID\""], "");
      assert.equal(Number(r.stdout.toString().trim()), process.pid);
    } finally {
      delete process.env.VOICE_STREAM_LAUNCHER;
    }
  });

  describe("a tool fed as it goes (open: the speaker's player)", () => {
    const ended = (p: LaunchedProcess) => new Promise<[number | null, string | null]>((resolve) => p.once("exit", (code, signal) => resolve([code, signal])));

    it("gets every write on its stdin in order; stderr, its pid and its exit come back; its parent is the helper", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "launcher-open-"));
      try {
        const file = path.join(dir, "out.bin");
        const p = launcher.open("sh", ["-c", `echo "$PPID" >&2; cat > "${file}"; exit 4`], process.env);
        const exit = ended(p);
        const stderr: Buffer[] = [];
        p.on("stderr", (d: Buffer) => stderr.push(d));
        const chunks = [0, 1, 2].map((k) => Uint8Array.from({ length: 5000 }, (_, i) => (i + k) % 251));
        for (const c of chunks) p.write(c);
        p.end();
        assert.deepEqual(await exit, [4, null]);
        assert.ok(p.pid !== undefined && p.pid > 0);
        assert.deepEqual(fs.readFileSync(file), Buffer.concat(chunks.map((c) => Buffer.from(c))));
        const parent = Number(Buffer.concat(stderr).toString().trim());
        assert.ok(parent > 0 && parent !== process.pid, `its parent ${parent} is the helper, not ${process.pid}`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("kill ends it at once; a tool that does not exist is an 'error' with ENOENT", async () => {
      const p = launcher.open("sleep", ["30"], process.env);
      const exit = ended(p);
      setTimeout(() => p.kill(), 100);
      assert.deepEqual(await exit, [null, "SIGKILL"]);
      const missing = launcher.open("no-such-player-voice-stream", [], process.env);
      const err = await new Promise<NodeJS.ErrnoException>((resolve) => missing.once("error", resolve));
      assert.equal(err.code, "ENOENT");
    });

    it("fails, naming the tool and its helper, when the helper dies; with VOICE_STREAM_LAUNCHER=0 it is spawned here", async () => {
      const probe = await launcher.run("sh", ["-c", "echo \"$PPID\""], "");
      const p = launcher.open("sleep", ["30"], process.env);
      const failed = new Promise<Error>((resolve) => p.once("error", resolve));
      await new Promise((resolve) => setTimeout(resolve, 200));
      process.kill(Number(probe.stdout.toString().trim()), "SIGKILL");
      assert.match((await failed).message, /^the helper process that runs sleep ended \(SIGKILL\); the next start uses a new one$/);
      assert.ok(p.ended);
      process.env.VOICE_STREAM_LAUNCHER = "0";
      try {
        const direct = launcher.open("sh", ["-c", "echo \"$PPID\" >&2"], process.env);
        const out: Buffer[] = [];
        direct.on("stderr", (d: Buffer) => out.push(d));
        await ended(direct);
        assert.equal(Number(Buffer.concat(out).toString().trim()), process.pid);
      } finally {
        delete process.env.VOICE_STREAM_LAUNCHER;
      }
    });
  });

  describe("a tool read as it goes (open with stdout: the microphone's recorder)", () => {
    /** A recorder stand-in: binary output in three writes, its parent's pid on stderr. */
    const recorder = ["-c", `echo "$PPID" >&2; printf 'ab\\000c'; sleep 0.05; printf '\\377de'; sleep 0.05; printf 'f'`];
    const record = (l: ProcessLauncher) =>
      new Promise<{ out: Buffer; parent: number; exit: [number | null, string | null] }>((resolve) => {
        const p = l.open("sh", recorder, process.env, { stdout: true });
        p.end();
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        p.on("stdout", (d: Buffer) => out.push(d));
        p.on("stderr", (d: Buffer) => err.push(d));
        p.once("exit", (code, signal) => resolve({ out: Buffer.concat(out), parent: Number(Buffer.concat(err).toString().trim()), exit: [code, signal] }));
      });

    it("its output comes back byte for byte, in order, before its exit; its parent is the helper (spawned here with VOICE_STREAM_LAUNCHER=0)", async () => {
      const expected = Buffer.from([0x61, 0x62, 0x00, 0x63, 0xff, 0x64, 0x65, 0x66]);
      const viaHelper = await record(launcher);
      assert.deepEqual(viaHelper.out, expected);
      assert.deepEqual(viaHelper.exit, [0, null]);
      assert.ok(viaHelper.parent > 0 && viaHelper.parent !== process.pid, `its parent ${viaHelper.parent} is the helper, not ${process.pid}`);
      process.env.VOICE_STREAM_LAUNCHER = "0";
      try {
        const direct = await record(launcher);
        assert.deepEqual(direct.out, expected);
        assert.equal(direct.parent, process.pid);
      } finally {
        delete process.env.VOICE_STREAM_LAUNCHER;
      }
    });

    it("a player's stdout stays ignored (no stdout events without the option)", async () => {
      const p = launcher.open("sh", ["-c", "printf hidden"], process.env);
      p.end();
      let seen = 0;
      p.on("stdout", () => seen++);
      await new Promise((resolve) => p.once("exit", resolve));
      assert.equal(seen, 0);
    });
  });

  it("the helper does not keep a process alive: a script that ran a tool exits by itself", () => {
    const module = path.join(__dirname, "../../src/core/process/process-launcher.js");
    const script = `require(${JSON.stringify(module)}).processLauncher.run("sh", ["-c", "printf ok"], "").then((r) => process.stdout.write(r.stdout.toString()))`;
    const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20000 });
    assert.equal(out, "ok");
  });
});
