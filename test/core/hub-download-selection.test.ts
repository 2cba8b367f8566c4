/** The file choice shared by "download now", `voice-stream download` and the picker's exact sizes. */
import { strict as assert } from "assert";
import { filesForVariant, piperVoiceFiles, selectDownloadFiles } from "../../src/core/hub/download-selection";

const PIPER = [
  "voices.json",
  "en/en_US/lessac/medium/ALIASES",
  "en/en_US/lessac/medium/MODEL_CARD",
  "en/en_US/lessac/medium/en_US-lessac-medium.onnx",
  "en/en_US/lessac/medium/en_US-lessac-medium.onnx.json",
  "en/en_US/lessac/medium/samples/speaker_0.mp3",
  "en/en_US/lessac/high/MODEL_CARD",
  "en/en_US/lessac/high/en_US-lessac-high.onnx",
  "en/en_US/lessac/high/en_US-lessac-high.onnx.json",
];
const ONNX_REPO = ["config.json", "tokenizer.json", "onnx/model.onnx", "onnx/model_q4.onnx", "onnx/model_q4.onnx_data", "onnx/model_quantized.onnx", "voices/af_heart.bin"];

describe("download selection", () => {
  it("a piper voice: its graph, config and MODEL_CARD, nothing of other voices, samples or aliases", () => {
    assert.deepEqual(selectDownloadFiles(PIPER, { voice: "en_US-lessac-medium" }), [
      "en/en_US/lessac/medium/MODEL_CARD",
      "en/en_US/lessac/medium/en_US-lessac-medium.onnx",
      "en/en_US/lessac/medium/en_US-lessac-medium.onnx.json",
    ]);
  });

  it("a voice name matches a whole file name only, and a voice that is no piper file selects as if unset", () => {
    assert.equal(piperVoiceFiles(PIPER, "lessac-medium"), undefined);
    assert.deepEqual(selectDownloadFiles(ONNX_REPO, { voice: "af_heart", dtype: "q8" }), selectDownloadFiles(ONNX_REPO, { dtype: "q8" }));
  });

  it("a dtype: that variant with its external data and every non-ONNX file; q8 means the _quantized files", () => {
    assert.deepEqual(filesForVariant(ONNX_REPO, "q4"), ["config.json", "tokenizer.json", "onnx/model_q4.onnx", "onnx/model_q4.onnx_data", "voices/af_heart.bin"]);
    assert.deepEqual(filesForVariant(ONNX_REPO, "q8"), ["config.json", "tokenizer.json", "onnx/model_quantized.onnx", "voices/af_heart.bin"]);
    assert.deepEqual(selectDownloadFiles(ONNX_REPO), [...ONNX_REPO].sort());
  });
});
