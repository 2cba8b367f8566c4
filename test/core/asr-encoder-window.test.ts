import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { fixtureDir } from "../helpers/fixtures";
import { sharedDir } from "../helpers/paths";
import { readWavFile } from "../../src/core/audio";
import { loadAsr } from "../../src/core/asr/loader";
import { encoderFrames, encoderWindowSetting } from "../../src/core/asr/engines/whisper/encoder-window";
import { windowedEncoderModel } from "../../src/core/asr/engines/whisper/encoder-window-graph";
import { LogMelExtractor, WHISPER_MEL_DEFAULTS } from "../../src/core/asr/engines/whisper/mel";
import type { WhisperEngine } from "../../src/core/asr/engines/whisper/whisper-engine";
import { DataType, GraphBuilder } from "../../src/core/onnx-builder/graph";
import { localLoadContext } from "../../src/core/registry";
import { sessionOptions } from "../../src/core/onnx/session-factory";
import { synthSpeech } from "./asr-audio";
import { openRewritten } from "./decoder-support";

const MEL = WHISPER_MEL_DEFAULTS;

function features(frames: number, seed: number): ort.Tensor {
  const data = Float32Array.from({ length: MEL.nMels * frames }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5 - 0.2);
  return new ort.Tensor("float32", data, [1, MEL.nMels, frames]);
}

describe("asr: a shortened Whisper encoder window (encoder_window_s)", () => {
  let dir: string;
  before(async () => {
    dir = await fixtureDir("tiny-whisper");
  });

  it("the setting: unset or 30 s is the whole window; 1 to 30 s is a floor; anything else is an error naming the model and the range", () => {
    const owner = "the config of model m";
    for (const unset of [undefined, null, "", 30, "30"]) assert.equal(encoderWindowSetting({ encoder_window_s: unset }, owner, MEL), undefined, String(unset));
    assert.equal(encoderWindowSetting(undefined, owner, MEL), undefined);
    assert.equal(encoderWindowSetting({ encoder_window_s: 5 }, owner, MEL), 5);
    assert.equal(encoderWindowSetting({ encoder_window_s: "7.5" }, owner, MEL), 7.5);
    for (const bad of [0, 0.5, 31, -3, "five", true, [5]]) {
      assert.throws(
        () => encoderWindowSetting({ encoder_window_s: bad }, owner, MEL),
        (err: Error) => err.message === `the config of model m: encoder_window_s must be a number of seconds from 1 to 30 (Whisper's whole window), got ${JSON.stringify(bad)}`,
        String(bad),
      );
    }
  });

  it("frames: the whole window without the setting; else the floor, grown to the audio and 1 s after it in whole seconds, even, at most the window", () => {
    assert.equal(encoderFrames(16000 * 3, undefined, MEL), 3000);
    assert.equal(encoderFrames(16000 * 3, 5, MEL), 500);
    assert.equal(encoderFrames(16000 * 4, 5, MEL), 500);
    assert.equal(encoderFrames(16000 * 4.2, 5, MEL), 600);
    assert.equal(encoderFrames(Math.round(16000 * 12.3), 5, MEL), 1400);
    assert.equal(encoderFrames(16000 * 29.5, 5, MEL), 3000);
    assert.equal(encoderFrames(16000 * 40, 5, MEL), 3000);
    assert.equal(encoderFrames(16000 * 1, 2.505, MEL), 252, "2.505 s is 250.5 frames: rounded up to an even count");
  });

  it("log-mel of a shorter window is the whole window's first frames; the extractor's reuse across window lengths changes nothing", () => {
    const audio = synthSpeech(3.56, 4);
    const whole = new LogMelExtractor().extract(audio);
    const reused = new LogMelExtractor();
    reused.extract(audio.subarray(0, 16000 * 2));
    const short = reused.extract(audio, 500);
    assert.equal(short.length, MEL.nMels * 500);
    for (let m = 0; m < MEL.nMels; m++) assert.deepEqual(short.subarray(m * 500, (m + 1) * 500), whole.subarray(m * 3000, m * 3000 + 500), `mel band ${m}`);
    assert.ok(reused.computedFrames < 500, "frames of the audio seen before were reused");
    // Back to the whole window after the short one: the same as a fresh extractor's.
    assert.deepEqual(reused.extract(audio), whole);
  });

  it("the rewritten encoder computes the file's output on the whole window (to float rounding), and takes a shorter one", async () => {
    const file = path.join(dir, "onnx/encoder_model.onnx");
    const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
    const windowed = windowedEncoderModel(file, config.max_source_positions, config.d_model);
    assert.ok(windowed, "the fixture adds its positions as one table, as hub exports do");
    const original = await ort.InferenceSession.create(file, sessionOptions(["cpu"], {}));
    const rewritten = await openRewritten(windowed);
    try {
      const whole = features(3000, 1);
      const expected = (await original.run({ input_features: whole })).last_hidden_state;
      const got = (await rewritten.run({ input_features: whole })).last_hidden_state;
      assert.deepEqual(got.dims, expected.dims);
      // The same function; with symbolic shapes onnxruntime may pick kernels that round differently.
      const a = expected.data as Float32Array;
      const b = got.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      assert.ok(worst < 1e-5, `largest difference ${worst}`);
      await assert.rejects(original.run({ input_features: features(500, 1) }), "the file itself takes only 3000 frames");
      const short = (await rewritten.run({ input_features: features(500, 1) })).last_hidden_state;
      assert.deepEqual(short.dims, [1, 250, config.d_model]);
    } finally {
      await original.release();
      await rewritten.release();
    }
  });

  it("an encoder without one positional table is left alone (undefined)", () => {
    const g = new GraphBuilder("no-table");
    const x = g.input("input_features", DataType.FLOAT, [1, 80, 3000]);
    g.output("last_hidden_state", DataType.FLOAT, [1, 80, 3000], g.op("Add", [x, g.constFloat(new Float32Array(80 * 3000), [80, 3000])]));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "no-table-"));
    try {
      g.save(path.join(tmp, "encoder_model.onnx"));
      assert.equal(windowedEncoderModel(path.join(tmp, "encoder_model.onnx"), 1500, 512), undefined);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  for (const worker of [true, false]) {
    it(`a model with encoder_window_s 5 transcribes real speech as the whole window does (${worker ? "worker thread" : "main thread"})`, async () => {
      const load = async (config: Record<string, unknown>) =>
        (await loadAsr(localLoadContext("asr", { enginesPath: dir, config: { worker_thread: worker, ...config } }))) as WhisperEngine;
      const whole = await load({});
      const windowed = await load({ encoder_window_s: 5 });
      try {
        for (const name of ["weather_16k.wav", "count_16k.wav"]) {
          const audio = (await readWavFile(sharedDir("audio", name))).samples;
          const expected = await whole.transcribe(audio, { language: "en" });
          assert.ok(expected.text.length > 0, name);
          assert.deepEqual(await windowed.transcribe(audio, { language: "en" }), expected, name);
        }
      } finally {
        whole.dispose();
        windowed.dispose();
      }
    });
  }

  it("encoder_window_s on an encoder that cannot take it is a clear error naming the model and the file", async () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "whisper-no-table-"));
    try {
      fs.cpSync(dir, copy, { recursive: true });
      const g = new GraphBuilder("no-table");
      const x = g.input("input_features", DataType.FLOAT, ["batch_size", 80, 3000]);
      g.output("last_hidden_state", DataType.FLOAT, ["batch_size", 80, 3000], g.op("Identity", [x]));
      g.save(path.join(copy, "onnx/encoder_model.onnx"));
      const config = JSON.parse(fs.readFileSync(path.join(copy, "config.json"), "utf8"));
      await assert.rejects(
        loadAsr(localLoadContext("asr", { enginesPath: copy, config: { worker_thread: false, encoder_window_s: 5 } })),
        (err: Error) =>
          err.message ===
          `encoder_window_s: the encoder of '${copy}' (${path.join(copy, "onnx/encoder_model.onnx")}) does not add its positional embeddings as one ` +
            `[${config.max_source_positions}, ${config.d_model}] table, so it cannot read a shorter window; remove encoder_window_s from the model's config`,
      );
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
