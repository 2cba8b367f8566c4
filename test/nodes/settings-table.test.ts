import { strict as assert } from "assert";
import { readSettings, type Setting } from "../../src/nodes/shared/settings";
import { TTS_SETTINGS } from "../../src/nodes/tts-settings";

describe("node settings table: range messages", () => {
  const table: Setting[] = [
    { key: "speed", editor: "speed", msg: "speed", type: "number", min: 0.25, max: 4 },
    { key: "rate", editor: "rate", type: "integer", min: 8000 },
    { key: "gain", editor: "gain", type: "number" },
  ];

  it("one message names the range, whether the value is no number or out of range", () => {
    assert.throws(() => readSettings(table, {}, { speed: "fast" }), /^Error: msg\.speed must be a number from 0\.25 to 4, got "fast"$/);
    assert.throws(() => readSettings(table, { speed: "9" }), /^Error: the speed setting must be a number from 0\.25 to 4, got "9"$/);
    assert.throws(() => readSettings(table, { rate: "100.5" }), /^Error: the rate setting must be a whole number of at least 8000, got "100\.5"$/);
    assert.throws(() => readSettings(table, { gain: "loud" }), /^Error: the gain setting must be a number, got "loud"$/);
  });

  it("reads values in range: the msg overrides the editor", () => {
    assert.deepEqual(readSettings(table, { speed: "1.5", rate: "16000", gain: "2" }, { speed: 0.5 }), { speed: 0.5, rate: 16000, gain: 2 });
  });

  it("tts-streamer: speed is a row (editor field and msg.speed), range-checked by the table", () => {
    assert.deepEqual(readSettings(TTS_SETTINGS, { speed: "1.25" }), { speed: 1.25, format: "float32" });
    assert.equal((readSettings(TTS_SETTINGS, { speed: "1.25" }, { speed: 2 }) as { speed: number }).speed, 2);
    assert.throws(() => readSettings(TTS_SETTINGS, {}, { speed: 0.1 }), /msg\.speed must be a number from 0\.25 to 4, got 0\.1/);
  });
});
