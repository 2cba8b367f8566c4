/**
 * A real Node-RED started as a user starts it: `node node_modules/node-red/red.js` as a child
 * process on a free port, with a temporary user dir that has this package linked into its
 * node_modules (scripts/node-red-env.js, the same code `npm start` uses). Collects the runtime
 * log, and node statuses and debug/error messages over the editor's /comms WebSocket.
 */
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import WebSocket from "ws";
import { repoRoot } from "./paths";

export interface NodeStatusEvent {
  id: string;
  text?: string;
  fill?: string;
  shape?: string;
}

export interface DebugEvent {
  id: string;
  level?: number;
  msg: string;
  format?: string;
  property?: string;
}

interface NodeRedEnv {
  prepareUserDir(userDir: string, options?: { demo?: boolean }): { userDir: string; modelDir: string; flowPath: string; copiedDemo: boolean };
}

export function nodeRedEnv(): NodeRedEnv {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(repoRoot(), "scripts", "node-red-env.js")) as NodeRedEnv;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  /** Copy the "Tell me a story" demo flow in (as `npm start` does). */
  demo?: boolean;
  env?: NodeJS.ProcessEnv;
  /** red.js to run; default the node-red 4 devDependency. */
  redJs?: string;
  /** node binary; default this process's. */
  nodeBinary?: string;
  startTimeoutMs?: number;
  /** Runs on the prepared user dir before Node-RED starts (link another module in, ...). */
  prepare?: (userDir: string) => void;
  /** Settings file to use instead of scripts/node-red-settings.js. */
  settingsFile?: string;
}

export class NodeRedProcess {
  readonly statuses: NodeStatusEvent[] = [];
  readonly debug: DebugEvent[] = [];
  private logText = "";
  private ws?: WebSocket;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly userDir: string,
    readonly modelDir: string,
  ) {}

  static async start(options: StartOptions = {}): Promise<NodeRedProcess> {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "vs-node-red-"));
    const prepared = nodeRedEnv().prepareUserDir(userDir, { demo: options.demo === true });
    const port = await freePort();
    const redJs = options.redJs ?? require.resolve("node-red/red.js", { paths: [repoRoot()] });
    options.prepare?.(userDir);
    const settings = options.settingsFile ?? path.join(repoRoot(), "scripts", "node-red-settings.js");
    const child = spawn(options.nodeBinary ?? process.execPath, [redJs, "--userDir", userDir, "--settings", settings], {
      cwd: userDir,
      env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const red = new NodeRedProcess(child, `http://127.0.0.1:${port}`, userDir, prepared.modelDir);
    child.stdout!.on("data", (d: Buffer) => (red.logText += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (red.logText += d.toString()));
    await red.waitFor(() => /Server now running at/.test(red.logText), options.startTimeoutMs ?? 60000, "Node-RED to listen", () => child.exitCode !== null);
    await red.connectComms();
    return red;
  }

  log(): string {
    return this.logText;
  }

  /** Runtime log lines at [warn] or [error] since `from` (a log() length). */
  problems(from = 0): string[] {
    return this.logText.slice(from).split("\n").filter((l) => /\[(warn|error)\]/.test(l));
  }

  async waitFor(check: () => boolean, timeoutMs: number, what: string, failed?: () => boolean): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!check()) {
      if (failed?.()) throw new Error(`gave up waiting for ${what}; Node-RED log:\n${this.logText}`);
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; Node-RED log tail:\n${this.logText.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async request(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown; text: string }> {
    const res = await fetch(this.url + route, {
      method,
      headers: { Accept: "application/json", ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  }

  /** Replaces all flows (a full deploy) and waits until the runtime has started them. */
  async deploy(flows: unknown[]): Promise<void> {
    const from = this.logText.length;
    const res = await this.request("POST", "/flows", flows, { "Node-RED-Deployment-Type": "full" });
    if (res.status !== 204 && res.status !== 200) throw new Error(`POST /flows answered ${res.status}: ${res.text}`);
    await this.waitFor(() => /Started flows/.test(this.logText.slice(from)), 30000, "flows to start");
  }

  statusOf(id: string): NodeStatusEvent | undefined {
    for (let i = this.statuses.length - 1; i >= 0; i--) if (this.statuses[i].id === id) return this.statuses[i];
    return undefined;
  }

  private async connectComms(): Promise<void> {
    const ws = new WebSocket(this.url.replace(/^http/, "ws") + "/comms");
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.send(JSON.stringify({ subscribe: "status/#" }));
    ws.send(JSON.stringify({ subscribe: "debug" }));
    ws.on("message", (data: WebSocket.RawData) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.toString());
      } catch {
        return;
      }
      for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
        const { topic, data: payload } = item as { topic?: string; data?: Record<string, unknown> };
        if (!topic || !payload) continue;
        if (topic.startsWith("status/")) this.statuses.push({ id: topic.slice("status/".length), ...(payload as object) });
        else if (topic === "debug") this.debug.push(payload as unknown as DebugEvent);
      }
    });
    await new Promise((r) => setTimeout(r, 200));
  }

  async stop(): Promise<void> {
    this.ws?.close();
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGINT");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 10000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}

/** The suite's example flows: examples/<Title>.json. */
export function exampleFlows(): { title: string; flow: Record<string, unknown>[] }[] {
  const dir = path.join(repoRoot(), "examples");
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ title: f.replace(/\.json$/, ""), flow: JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Record<string, unknown>[] }));
}
