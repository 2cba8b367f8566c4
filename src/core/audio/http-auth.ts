/**
 * The browser player's WebSocket is reached through an HTTP upgrade, which Express
 * middleware never sees. This applies the same rules Node-RED applies to httpNode routes
 * (settings.httpNodeAuth and settings.httpNodeMiddleware) to an upgrade request, and for a
 * dashboard widget's socket also Dashboard's socket middleware.
 */
import { createHash } from "crypto";
import type { IncomingMessage } from "http";
import { createRequire } from "module";

type Middleware = (req: unknown, res: unknown, next: (err?: unknown) => void) => void;

/** socket.io-style middleware, as Dashboard 2.0 takes in `dashboard.ioMiddleware`: `(socket, next)`. */
export type SocketMiddleware = (socket: unknown, next: (err?: unknown) => void) => void;

export interface HttpNodeSecurity {
  httpNodeAuth?: { user: string; pass: string } | Middleware | Middleware[];
  httpNodeMiddleware?: Middleware | Middleware[];
  /** Checks for sockets only (Dashboard's `ioMiddleware`), given the upgrade as socket.io's handshake. */
  socketMiddleware?: SocketMiddleware | SocketMiddleware[];
}

const MIDDLEWARE_TIMEOUT_MS = 10000;

/** bcrypt from the running Node-RED (it ships bcryptjs), found from its main module or ours. */
function loadBcrypt(): { compareSync(p: string, hash: string): boolean } | undefined {
  const bases = [require.main?.filename, __filename].filter((b): b is string => !!b);
  for (const base of bases) {
    for (const name of ["bcryptjs", "bcrypt"]) {
      try {
        return createRequire(base)(name);
      } catch {
        /* try the next */
      }
    }
  }
  return undefined;
}

function basicCredentials(req: IncomingMessage): { user: string; pass: string } | undefined {
  const header = req.headers.authorization;
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

function checkBasic(req: IncomingMessage, user: string, hash: string): boolean {
  const given = basicCredentials(req);
  if (!given || given.user !== user) return false;
  // Node-RED takes a 32-character hash for a legacy md5 one, else bcrypt.
  if (hash.length === 32) return createHash("md5").update(given.pass, "utf8").digest("hex") === hash;
  const bcrypt = loadBcrypt();
  if (!bcrypt) return false; // cannot check: refuse rather than let anyone in
  return bcrypt.compareSync(given.pass, hash);
}

/**
 * One middleware's answer: `run(settle)` calls the middleware, which settles it once (allowed
 * or not); a middleware that throws, or answers nothing within the timeout, refuses.
 */
function answerOf(run: (settle: (ok: boolean) => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => settle(false), MIDDLEWARE_TIMEOUT_MS);
    try {
      run(settle);
    } catch {
      settle(false);
    }
  });
}

/** Runs Express-style middleware on a bare request: allowed when it calls next() without an error. */
function runMiddleware(middleware: Middleware, req: IncomingMessage): Promise<boolean> {
  return answerOf((settle) => {
    // Whatever answers the request instead of passing it on is a refusal.
    const deny = () => {
      settle(false);
      return res;
    };
    const res: Record<string, unknown> = {
      statusCode: 200,
      locals: {},
      headersSent: false,
      setHeader: () => res,
      getHeader: () => undefined,
      header: () => res,
      set: () => res,
      status: () => res,
      end: deny,
      send: deny,
      json: deny,
      sendStatus: deny,
      redirect: deny,
      writeHead: () => res,
      write: () => true,
      on: () => res,
      once: () => res,
    };
    middleware(req, res, (err?: unknown) => settle(!err));
  });
}

/**
 * Runs socket.io-style middleware on an upgrade request: it sees what a socket.io socket
 * shows of its handshake (`socket.request`, `socket.handshake.headers`, `.query`, `.address`),
 * and allows the socket when it calls next() without an error.
 */
function runSocketMiddleware(middleware: SocketMiddleware, req: IncomingMessage): Promise<boolean> {
  return answerOf((settle) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const address = req.socket?.remoteAddress ?? "";
    const socket = {
      request: req,
      data: {},
      conn: { remoteAddress: address },
      handshake: { headers: req.headers, url: req.url, query: Object.fromEntries(url.searchParams), address, auth: {}, secure: false, xdomain: false, time: new Date().toString(), issued: Date.now() },
    };
    middleware(socket, (err?: unknown) => settle(!err));
  });
}

/** An `authorize(req)` for upgrades that follows httpNodeAuth and httpNodeMiddleware. */
export function upgradeAuthorizer(settings: HttpNodeSecurity): (req: IncomingMessage) => Promise<boolean> {
  const checks: ((req: IncomingMessage) => Promise<boolean>)[] = [];
  const auth = settings.httpNodeAuth;
  if (typeof auth === "function") checks.push((req) => runMiddleware(auth, req));
  else if (Array.isArray(auth)) for (const mw of auth) checks.push((req) => runMiddleware(mw, req));
  else if (auth && typeof auth.user === "string" && typeof auth.pass === "string") checks.push(async (req) => checkBasic(req, auth.user, auth.pass));
  const extra = settings.httpNodeMiddleware;
  if (typeof extra === "function") checks.push((req) => runMiddleware(extra, req));
  else if (Array.isArray(extra)) for (const mw of extra) checks.push((req) => runMiddleware(mw, req));
  const io = settings.socketMiddleware;
  for (const mw of typeof io === "function" ? [io] : Array.isArray(io) ? io : []) checks.push((req) => runSocketMiddleware(mw, req));
  return async (req) => {
    for (const check of checks) if (!(await check(req))) return false;
    return true;
  };
}
