import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { PIPER_MEDIUM_VOICE, writePiperMediumShaped } from "../../bench/piper-medium-shaped-model";
import { PIPER_HOP } from "../../fixtures/tiny-piper";

describe("bench: piper-medium-shaped VITS", function () {
  this.timeout(60_000);
  let dir: string;
  let session: ort.InferenceSession;
  let parameters: number;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "piper-medium-"));
    parameters = writePiperMediumShaped(dir);
    session = await ort.InferenceSession.create(path.join(dir, `${PIPER_MEDIUM_VOICE}.onnx`));
  });
  after(async () => {
    await session?.release();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const speak = async (ids: number[], lengthScale: number) => {
    const out = await session.run({
      input: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]),
      input_lengths: new ort.Tensor("int64", BigInt64Array.of(BigInt(ids.length)), [1]),
      scales: new ort.Tensor("float32", Float32Array.of(0.667, lengthScale, 0.8), [3]),
    });
    return out.output;
  };

  it("has piper's signature and a medium voice's size, and writes its config beside it", () => {
    assert.deepEqual(session.inputNames, ["input", "input_lengths", "scales"]);
    assert.deepEqual(session.outputNames, ["output"]);
    assert.ok(parameters > 14e6 && parameters < 17e6, `${parameters} parameters (piper's medium voices: ~15–16 M)`);
    const config = JSON.parse(fs.readFileSync(path.join(dir, `${PIPER_MEDIUM_VOICE}.onnx.json`), "utf8"));
    assert.equal(config.audio.sample_rate, 22050);
    assert.ok(config.phoneme_id_map.a, "a phoneme map");
  });

  it("writes whole frames of 256 samples, ~3 frames an id as real speech has, longer with length_scale, bounded audio", async () => {
    const ids = Array.from({ length: 40 }, (_, i) => 1 + ((i * 37) % 150));
    const audio = await speak(ids, 1);
    assert.deepEqual(audio.dims.slice(0, 2), [1, 1]);
    const samples = audio.dims[2];
    assert.equal(samples % PIPER_HOP, 0);
    const framesPerId = samples / PIPER_HOP / ids.length;
    assert.ok(framesPerId > 2 && framesPerId < 4.5, `${framesPerId.toFixed(2)} frames an id`);
    const slower = (await speak(ids, 2)).dims[2];
    assert.ok(slower > 1.6 * samples, `length_scale 2: ${slower} against ${samples} samples`);
    const data = audio.data as Float32Array;
    assert.ok(data.every((v) => Number.isFinite(v) && Math.abs(v) <= 1));
    assert.ok(data.some((v) => Math.abs(v) > 0.01), "not silent");
  });
});
