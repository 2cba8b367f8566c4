import { strict as assert } from "assert";
import { createHash } from "crypto";
import type { IncomingMessage } from "http";
import { upgradeAuthorizer } from "../../src/core/audio/http-auth";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bcrypt = require("bcryptjs");

const req = (headers: Record<string, string> = {}) => ({ headers, url: "/x/ws" }) as unknown as IncomingMessage;
const basic = (user: string, pass: string) => ({ authorization: "Basic " + Buffer.from(`${user}:${pass}`).toString("base64") });

describe("audio http auth for WebSocket upgrades", () => {
  it("no settings: open", async () => {
    assert.equal(await upgradeAuthorizer({})(req()), true);
  });

  it("httpNodeAuth with a bcrypt hash (as in settings.js)", async () => {
    const authorize = upgradeAuthorizer({ httpNodeAuth: { user: "user", pass: bcrypt.hashSync("secret", 4) } });
    assert.equal(await authorize(req()), false);
    assert.equal(await authorize(req(basic("user", "wrong"))), false);
    assert.equal(await authorize(req(basic("other", "secret"))), false);
    assert.equal(await authorize(req(basic("user", "secret"))), true);
  });

  it("httpNodeAuth with a legacy md5 hash", async () => {
    const authorize = upgradeAuthorizer({ httpNodeAuth: { user: "u", pass: createHash("md5").update("pw").digest("hex") } });
    assert.equal(await authorize(req(basic("u", "pw"))), true);
    assert.equal(await authorize(req(basic("u", "nope"))), false);
  });

  it("httpNodeMiddleware (function or array): next() lets in, answering or next(err) refuses", async () => {
    const needsToken = (r: IncomingMessage, res: { status(n: number): { end(): void } }, next: (e?: unknown) => void) => {
      if (r.headers["x-token"] === "t") next();
      else res.status(403).end();
    };
    const authorize = upgradeAuthorizer({ httpNodeMiddleware: needsToken as never });
    assert.equal(await authorize(req({ "x-token": "t" })), true);
    assert.equal(await authorize(req()), false);
    const failing = upgradeAuthorizer({ httpNodeMiddleware: [(_a: unknown, _b: unknown, next: (e?: unknown) => void) => next(), (_a: unknown, _b: unknown, next: (e?: unknown) => void) => next(new Error("no"))] });
    assert.equal(await failing(req()), false);
  });
});
