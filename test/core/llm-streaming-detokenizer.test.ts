import { strict as assert } from "assert";
import { StreamingDetokenizer } from "../../src/core/llm/engines/onnx/streaming-detokenizer";
import { SeededPrng } from "../../src/core/onnx/decoder/sampler";

/** A byte-level "tokenizer": id = byte value; decode like any byte-level BPE decoder (invalid bytes → U+FFFD). */
const decodeBytes = (ids: number[]) => new TextDecoder("utf-8").decode(Uint8Array.from(ids));

/** Streams `ids` one at a time; returns the deltas (the flush's delta last). */
function stream(detok: StreamingDetokenizer, ids: number[]): { deltas: string[]; idGroups: number[][] } {
  const deltas: string[] = [];
  const idGroups: number[][] = [];
  for (const id of ids) {
    const d = detok.push(id);
    deltas.push(d.delta);
    idGroups.push(d.ids);
  }
  const end = detok.flush();
  deltas.push(end.delta);
  idGroups.push(end.ids);
  return { deltas, idGroups };
}

describe("llm streaming detokenizer", () => {
  it("never emits U+FFFD or half a character for emoji, CJK and accents split into bytes", () => {
    const text = "Hi 😀 日本語, naïve café 🎉👍🏽 done";
    const ids = [...new TextEncoder().encode(text)];
    const { deltas, idGroups } = stream(new StreamingDetokenizer(decodeBytes), ids);
    for (const delta of deltas) assert.ok(!delta.includes("\uFFFD"), JSON.stringify(delta));
    assert.equal(deltas.join(""), text);
    assert.equal(deltas.join(""), decodeBytes(ids));
    // Every id is reported exactly once, in order, with the delta its bytes completed.
    assert.deepEqual(idGroups.flat(), ids);
    idGroups.forEach((group, i) => assert.equal(decodeBytes(group), deltas[i]));
  });

  it("on 300 seeded random strings split into random byte runs, deltas are whole characters adding up to the full decode", () => {
    const prng = new SeededPrng(5);
    const alphabet = ["a", " ", "é", "ß", "中", "語", "😀", "🎉", "\n", "Ω", "𝄞", "k"];
    for (let n = 0; n < 300; n++) {
      let text = "";
      const length = 1 + Math.floor(prng.next() * 20);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(prng.next() * alphabet.length)];
      const bytes = [...new TextEncoder().encode(text)];
      // "Tokens" of 1-3 bytes, as BPE merges would make them, packed into ids: id = index into a table.
      const table: number[][] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = Math.min(1 + Math.floor(prng.next() * 3), bytes.length - at);
        table.push(bytes.slice(at, at + size));
        at += size;
      }
      const decode = (ids: number[]) => decodeBytes(ids.flatMap((id) => table[id]));
      const ids = table.map((_, i) => i);
      const { deltas } = stream(new StreamingDetokenizer(decode), ids);
      for (const delta of deltas) assert.ok(!delta.includes("\uFFFD") && !/[\uD800-\uDBFF]$/.test(delta), JSON.stringify(delta));
      assert.equal(deltas.join(""), text);
    }
  });

  it("emits a genuinely invalid byte as U+FFFD once later text shows it never completes", () => {
    const ids = [0x41, 0xe6, 0x42, 0xf0, 0x9f];
    const { deltas } = stream(new StreamingDetokenizer(decodeBytes), ids);
    assert.deepEqual(deltas, ["A", "", "\uFFFDB", "", "", "\uFFFD"]);
    assert.equal(deltas.join(""), decodeBytes(ids));
  });

  it("keeps the continuation's leading space with a decoder that strips the sequence's first space", () => {
    // SentencePiece-style: pieces with "▁" for spaces, the decoder strips one leading space.
    const pieces = ["<s>", "▁One", "▁day", "▁named", "▁Lily"];
    const decode = (ids: number[]) =>
      ids
        .filter((id) => id !== 0)
        .map((id) => pieces[id].replace(/▁/g, " "))
        .join("")
        .replace(/^ /, "");
    const { deltas } = stream(new StreamingDetokenizer(decode, [0, 1, 2]), [3, 4]);
    assert.equal(deltas.join(""), " named Lily");
    // Without the prompt as context the first space would be lost.
    assert.equal(stream(new StreamingDetokenizer(decode), [3, 4]).deltas.join(""), "named Lily");
  });
});
