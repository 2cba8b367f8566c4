import { strict as assert } from "assert";
import * as core from "../../src/core";
import * as audio from "../../src/core/audio";

describe("core entry point (package main)", () => {
  it("re-exports the whole core audio API, the same functions and classes", () => {
    const names = Object.keys(audio);
    assert.ok(names.includes("toFloat32") && names.includes("resample") && names.includes("readWavFile") && names.includes("Player"), names.join(", "));
    const exported = core as unknown as Record<string, unknown>;
    for (const name of names) assert.equal(exported[name], (audio as Record<string, unknown>)[name], name);
  });
});
