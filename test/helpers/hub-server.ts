/**
 * A local stand-in for the Hugging Face hub, serving folders in the hub's URL layout:
 *   GET /api/models/<owner>/<name>/tree/<rev>[/<path>]?recursive=...  (listFiles)
 *   GET /<owner>/<name>/resolve/<rev>/<path>                        (fileDownloadInfo, downloadFile)
 * with Range requests, ETags, 404 EntryNotFound for missing files, 401 without the right
 * token, and transfers that can be told to stop mid-way.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";

export interface HubServerOptions {
  /** repo id ("owner/name") → folder served as its files (every revision serves the same folder). */
  repos: Record<string, string>;
  /** When set, every request needs "Authorization: Bearer <token>". */
  token?: string;
}

export interface HubRequest {
  method: string;
  url: string;
  range?: string;
  authorization?: string;
}

export interface HubServer {
  url: string;
  requests: HubRequest[];
  /** The next transfer of `file` (repo-relative) sends `bytes` bytes of the body and then drops the connection. */
  cutNext(file: string, bytes: number): void;
  /** The next transfer of `file` sends `bytes` bytes and then stalls with the connection open (until the client gives up). */
  stallNext(file: string, bytes: number): void;
  /** Answer 404 for `file` from now on, as if the repo did not have it. */
  hide(file: string): void;
  /** Answer every request with HTTP `status` (a server error, an outage) until called with undefined. */
  failWith(status: number | undefined): void;
  close(): Promise<void>;
}

function listTree(dir: string, sub: string, recursive: boolean): { type: string; path: string; size: number; oid: string }[] {
  const out: { type: string; path: string; size: number; oid: string }[] = [];
  const walk = (rel: string) => {
    const full = path.join(dir, rel);
    if (!fs.existsSync(full)) return;
    for (const entry of fs.readdirSync(full, { withFileTypes: true })) {
      // fixtureDir()'s marker that a fixture was written completely: not a file of the model.
      if (!rel && entry.name === ".complete") continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      const stat = fs.statSync(path.join(dir, child));
      out.push({ type: entry.isDirectory() ? "directory" : "file", path: child, size: entry.isDirectory() ? 0 : stat.size, oid: etagOf(child, stat) });
      if (entry.isDirectory() && recursive) walk(child);
    }
  };
  walk(sub);
  return out;
}

function etagOf(rel: string, stat: fs.Stats): string {
  return crypto.createHash("sha1").update(`${rel}:${stat.size}:${stat.mtimeMs}`).digest("hex");
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const requests: HubRequest[] = [];
  const cuts = new Map<string, number>();
  const stalls = new Map<string, number>();
  const hidden = new Set<string>();
  let failing: number | undefined;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push({ method: req.method ?? "GET", url: url.pathname + url.search, range: req.headers.range, authorization: req.headers.authorization });
    if (failing !== undefined) return sendJson(res, failing, { error: `the test hub answers ${failing}` });
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      return sendJson(res, 401, { error: "Invalid credentials in Authorization header" }, { "X-Error-Code": "RepoNotFound" });
    }
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);

    // /api/models/<owner>/<name>/tree/<rev>[/<path>]
    if (parts[0] === "api" && parts[1] === "models" && parts[4] === "tree") {
      const dir = options.repos[`${parts[2]}/${parts[3]}`];
      if (!dir) return sendJson(res, 404, { error: "Repository not found" }, { "X-Error-Code": "RepoNotFound" });
      const sub = parts.slice(6).join("/");
      const entries = listTree(dir, sub, url.searchParams.get("recursive") === "true").filter((e) => !hidden.has(e.path));
      return sendJson(res, 200, entries);
    }

    // /<owner>/<name>/resolve/<rev>/<path>
    if (parts[2] === "resolve" && parts.length >= 5) {
      const dir = options.repos[`${parts[0]}/${parts[1]}`];
      if (!dir) return sendJson(res, 404, { error: "Repository not found" }, { "X-Error-Code": "RepoNotFound" });
      const rel = parts.slice(4).join("/");
      const full = path.join(dir, rel);
      if (hidden.has(rel) || !fs.existsSync(full) || !fs.statSync(full).isFile()) {
        res.writeHead(404, { "X-Error-Code": "EntryNotFound", "Content-Type": "text/plain" });
        return res.end("Entry not found");
      }
      const stat = fs.statSync(full);
      const size = stat.size;
      let start = 0;
      let end = size - 1;
      let status = 200;
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
      if (range) {
        start = Number(range[1]);
        end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
        if (start >= size) {
          res.writeHead(416, { "Content-Range": `bytes */${size}` });
          return res.end();
        }
        status = 206;
      }
      const headers: Record<string, string> = {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(end - start + 1),
        "Accept-Ranges": "bytes",
        ETag: `"${etagOf(rel, stat)}"`,
      };
      if (status === 206) headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
      res.writeHead(status, headers);
      if (req.method === "HEAD") return res.end();
      const body = fs.readFileSync(full).subarray(start, end + 1);
      const cut = body.length > 1 ? cuts.get(rel) : undefined;
      if (cut !== undefined) {
        cuts.delete(rel);
        res.write(body.subarray(0, cut));
        // Drop the connection mid-body: the client sees a truncated transfer.
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      const stall = body.length > 1 ? stalls.get(rel) : undefined;
      if (stall !== undefined) {
        stalls.delete(rel);
        res.write(body.subarray(0, stall));
        return;
      }
      return res.end(body);
    }
    sendJson(res, 404, { error: `no route for ${url.pathname}` });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cutNext: (file, bytes) => cuts.set(file, bytes),
    stallNext: (file, bytes) => stalls.set(file, bytes),
    hide: (file) => hidden.add(file),
    failWith: (status) => (failing = status),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
