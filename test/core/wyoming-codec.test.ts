import { strict as assert } from "assert";
import { EventDecoder, WyomingProtocolError, encodeEvent, WYOMING_VERSION, type WyomingEvent } from "../../src/core/wyoming/codec";
import { SpecReader, frameEvent } from "../helpers/wyoming-spec-client";

function decodeAll(bytes: Buffer, step = bytes.length): (WyomingEvent | WyomingProtocolError)[] {
  const decoder = new EventDecoder();
  const out: (WyomingEvent | WyomingProtocolError)[] = [];
  for (let at = 0; at < bytes.length; at += step) out.push(...decoder.push(bytes.subarray(at, at + step)));
  return out;
}

describe("wyoming codec", () => {
  it("writes what a reader built from the spec reads: version in the header, data as a data section, the payload", () => {
    const payload = Buffer.from([1, 2, 3, 4]);
    const bytes = encodeEvent({ type: "audio-chunk", data: { rate: 16000, width: 2, channels: 1 }, payload });
    const [event] = new SpecReader().push(bytes);
    assert.equal(event.type, "audio-chunk");
    assert.equal(event.header.version, WYOMING_VERSION);
    assert.equal(event.header.data_length, Buffer.byteLength(JSON.stringify({ rate: 16000, width: 2, channels: 1 })));
    assert.equal(event.header.payload_length, 4);
    assert.deepEqual(event.data, { rate: 16000, width: 2, channels: 1 });
    assert.deepEqual([...event.payload!], [1, 2, 3, 4]);
    // No data, no payload: a bare header line.
    const bare = encodeEvent({ type: "describe" }).toString("utf8");
    assert.equal(bare, JSON.stringify({ type: "describe", version: WYOMING_VERSION }) + "\n");
  });

  it("reads spec-framed events split at every byte, with the data section merged over the header's data", () => {
    const header = { type: "transcribe", data: { language: "de", name: "a" }, data_length: 0 };
    const extra = Buffer.from(JSON.stringify({ name: "b", context: { x: 1 } }));
    header.data_length = extra.length;
    const merged = Buffer.concat([Buffer.from(JSON.stringify(header) + "\n"), extra]);
    const stream = Buffer.concat([merged, frameEvent("audio-chunk", { rate: 16000, width: 2, channels: 1 }, Buffer.from([9, 8])), frameEvent("ping", { text: "hi" }, undefined, true)]);
    for (const step of [1, 3, stream.length]) {
      const events = decodeAll(stream, step) as WyomingEvent[];
      assert.deepEqual(events.map((e) => e.type), ["transcribe", "audio-chunk", "ping"], `step ${step}`);
      assert.deepEqual(events[0].data, { language: "de", name: "b", context: { x: 1 } });
      assert.deepEqual([...events[1].payload!], [9, 8]);
      assert.deepEqual(events[2].data, { text: "hi" });
    }
  });

  it("a header that is not JSON is skipped with a fault and the next event still decodes", () => {
    const items = decodeAll(Buffer.concat([Buffer.from("this is not json\n"), frameEvent("ping")]));
    assert.ok(items[0] instanceof WyomingProtocolError && items[0].code === "header-not-json" && !items[0].fatal);
    assert.equal((items[1] as WyomingEvent).type, "ping");
  });

  it("a header over the limit, or a length it cannot read, is fatal", () => {
    const decoder = new EventDecoder({ maxHeaderBytes: 100 });
    const items = decoder.push(Buffer.alloc(200, 0x61));
    assert.ok(items[0] instanceof WyomingProtocolError && items[0].code === "header-too-large" && items[0].fatal);
    assert.deepEqual(decoder.push(frameEvent("ping")), []);
    const bad = decodeAll(Buffer.from(JSON.stringify({ type: "audio-chunk", payload_length: -3 }) + "\n"));
    assert.ok(bad[0] instanceof WyomingProtocolError && bad[0].code === "bad-header" && bad[0].fatal);
  });

  it("the end of the stream inside an event is a payload-truncated fault naming the declared sizes", () => {
    const decoder = new EventDecoder();
    const full = frameEvent("audio-chunk", { rate: 16000, width: 2, channels: 1 }, Buffer.alloc(100));
    assert.deepEqual(decoder.push(full.subarray(0, full.length - 40)), []);
    const fault = decoder.end();
    assert.ok(fault && fault.code === "payload-truncated");
    assert.match(fault.message, /payload_length 100/);
    assert.equal(new EventDecoder().end(), undefined);
  });

  it("a data section that is not a JSON object is a fault and the stream goes on", () => {
    const header = Buffer.from(JSON.stringify({ type: "transcribe", data_length: 5 }) + "\n");
    const items = decodeAll(Buffer.concat([header, Buffer.from("[1,2]"), frameEvent("ping")]));
    assert.ok(items[0] instanceof WyomingProtocolError && items[0].code === "data-not-json");
    assert.equal((items[1] as WyomingEvent).type, "ping");
  });
});
