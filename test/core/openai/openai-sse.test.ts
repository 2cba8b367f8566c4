import { strict as assert } from "assert";
import type { RemoteResponse } from "../../../src/core/openai/http-client";
import { DONE, sseEvents } from "../../../src/core/openai/sse";
import { PcmBodyDecoder } from "../../../src/core/openai/pcm-body";

function fakeResponse(pieces: (string | Buffer)[]): RemoteResponse {
  return {
    status: 200,
    contentType: "text/event-stream",
    url: "http://test/v1/chat/completions",
    chunks: async function* () {
      for (const p of pieces) yield Buffer.isBuffer(p) ? p : Buffer.from(p);
    },
    text: async () => pieces.join(""),
    close: () => undefined,
  };
}

async function events(pieces: (string | Buffer)[]) {
  const out: unknown[] = [];
  for await (const e of sseEvents(fakeResponse(pieces))) out.push(e === DONE ? "DONE" : e.data);
  return out;
}

describe("openai: SSE reading", () => {
  it("skips comments, takes CRLF line ends, joins an event split across reads, stops at [DONE]", async () => {
    const out = await events([": keep-alive\r\n\r\n", 'data: {"a"', ':1}\r\n\r\ndata: {"b":2}\r', "\n\r\ndata: [DONE]\r\n\r\n", 'data: {"after":1}\n\n']);
    assert.deepEqual(out, ['{"a":1}', '{"b":2}', "DONE"]);
  });

  it("keeps a UTF-8 character split between two reads whole", async () => {
    const bytes = Buffer.from('data: {"c":"héllo ✓"}\n\n');
    const cut = bytes.indexOf(Buffer.from("✓")) + 1;
    assert.deepEqual(await events([bytes.subarray(0, cut), bytes.subarray(cut)]), ['{"c":"héllo ✓"}']);
  });

  it("yields a last event without its blank line, and no DONE when the body just ends", async () => {
    assert.deepEqual(await events(['data: {"x":1}\n\ndata: {"y":2}']), ['{"x":1}', '{"y":2}']);
  });
});

describe("openai: speech body decoding", () => {
  it("decodes s16le split at odd byte offsets exactly", () => {
    const pcm = Int16Array.from([0, 16384, -16384, 32767, -32768]);
    const bytes = Buffer.from(pcm.buffer);
    const decoder = new PcmBodyDecoder(24000, "srv");
    const got = [...decoder.push(bytes.subarray(0, 3)), ...decoder.push(bytes.subarray(3, 7)), ...decoder.push(bytes.subarray(7))];
    decoder.end();
    assert.deepEqual(got, [...pcm].map((s) => s / 32768));
  });

  it("reads a WAV body's header across reads (rate, stereo mixed to mono)", () => {
    const h = Buffer.alloc(44);
    h.write("RIFF", 0, "ascii");
    h.writeUInt32LE(36 + 8, 4);
    h.write("WAVEfmt ", 8, "ascii");
    h.writeUInt32LE(16, 16);
    h.writeUInt16LE(1, 20);
    h.writeUInt16LE(2, 22);
    h.writeUInt32LE(22050, 24);
    h.writeUInt32LE(22050 * 4, 28);
    h.writeUInt16LE(4, 32);
    h.writeUInt16LE(16, 34);
    h.write("data", 36, "ascii");
    h.writeUInt32LE(8, 40);
    const data = Buffer.from(Int16Array.from([1000, 3000, -2000, -4000]).buffer);
    const body = Buffer.concat([h, data]);
    const decoder = new PcmBodyDecoder(24000, "srv");
    const got = [...decoder.push(body.subarray(0, 30)), ...decoder.push(body.subarray(30, 47)), ...decoder.push(body.subarray(47))];
    assert.equal(decoder.isWav, true);
    assert.equal(decoder.rate, 22050);
    assert.deepEqual(got, [2000 / 32768, -3000 / 32768]);
  });
});

describe("openai: status errors", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { statusError, serverMessage } = require("../../../src/core/openai/errors") as typeof import("../../../src/core/openai/errors");
  it("403 is about the key too; FastAPI's detail and plain text bodies are read", () => {
    const e = statusError(403, '{"detail": "Not authenticated"}', "http://h:1/v1/audio/speech", "m");
    assert.equal(e.fault, "auth");
    assert.match(e.message, /^http:\/\/h:1\/v1\/audio\/speech answered 403 \(forbidden\): Not authenticated\. Check the API key/);
    assert.equal(serverMessage("Bad Gateway"), "Bad Gateway");
    assert.match(statusError(502, "Bad Gateway", "u", "").message, /^u answered 502 \(server error\): Bad Gateway$/);
    assert.match(statusError(404, "", "u", "").message, /check this endpoint \(is the URL the API base, ending in \/v1\?\)/);
  });
});
