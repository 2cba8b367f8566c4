import { strict as assert } from "assert";
import { StopSequenceFilter } from "../../src/core/llm/stop-sequences";

/** Feeds `pieces` and returns what was emitted and whether it stopped. */
function run(stops: string[], pieces: string[]): { out: string[]; stopped: boolean; rest: string } {
  const filter = new StopSequenceFilter(stops);
  const out: string[] = [];
  for (const piece of pieces) {
    const r = filter.push(piece);
    out.push(r.text);
    if (r.stopped) return { out, stopped: true, rest: filter.flush() };
  }
  return { out, stopped: false, rest: filter.flush() };
}

describe("llm stop sequences", () => {
  it("passes text through when there are none", () => {
    assert.deepEqual(run([], ["a", "b"]), { out: ["a", "b"], stopped: false, rest: "" });
  });

  it("stops before a stop sequence split across pieces and never emits any of it", () => {
    const r = run(["END"], ["Hello E", "N", "D and more"]);
    assert.equal(r.stopped, true);
    assert.equal(r.out.join(""), "Hello ");
    // The "E" was held back while it could be the start of "END".
    assert.deepEqual(r.out, ["Hello ", "", ""]);
  });

  it("releases held text once it cannot be a stop sequence any more", () => {
    const r = run(["END"], ["Hello E", "x", "N", "E"]);
    assert.deepEqual(r.out, ["Hello ", "Ex", "N", ""]);
    assert.equal(r.stopped, false);
    // At the end of the stream the held "E" was not a stop sequence after all.
    assert.equal(r.rest, "E");
  });

  it("uses the earliest of several stop sequences", () => {
    const r = run(["\n\n", "User:"], ["one two User: three\n\nfour"]);
    assert.deepEqual(r, { out: ["one two "], stopped: true, rest: "" });
  });

  it("holds back the longest partial match across many sequences", () => {
    const filter = new StopSequenceFilter(["abcd", "bx"]);
    assert.deepEqual(filter.push("zzabc"), { text: "zz", stopped: false });
    // "b" may start "bx": held back, "abc" can no longer be "abcd".
    assert.deepEqual(filter.push("b"), { text: "abc", stopped: false });
    assert.deepEqual(filter.push("x"), { text: "", stopped: true });
  });
});
