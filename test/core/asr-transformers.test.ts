import { strict as assert } from "assert";
import * as path from "path";
import { fixtureDir } from "../helpers/fixtures";
import { loadWhisperModel } from "../../src/core/asr/engines/whisper/load-whisper";
import { localLoadContext } from "../../src/core/registry";
import type { WhisperModel } from "../../src/core/asr/engines/whisper/whisper-model";
import { speechWithPauses, synthSpeech } from "./asr-audio";

// Dev-only proof that tiny-whisper is a real Whisper layout and that our decoding follows the
// reference: transformers.js loads the directory as WhisperForConditionalGeneration and its
// greedy generate() (forced prefix, suppress lists, timestamp rules) gives our tokens.
describe("asr: tiny-whisper in transformers.js", function () {
  this.timeout(120000);
  let dir: string;
  let ours: WhisperModel;
  before(async () => {
    dir = await fixtureDir("tiny-whisper");
    ours = await loadWhisperModel(localLoadContext("asr", { enginesPath: dir }));
  });

  for (const [name, audio, language] of [
    ["3 s of speech, en", synthSpeech(3, 11), "en"],
    ["speech with a pause, de", speechWithPauses([1.6, 0.7, 2.1], 4), "de"],
  ] as const) {
    it(`greedy generate() equals our decode with and without timestamps (${name})`, async () => {
      const { env, AutoProcessor, WhisperForConditionalGeneration } = await import("@huggingface/transformers");
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = path.dirname(dir) + path.sep;
      const id = path.basename(dir);
      const processor = await AutoProcessor.from_pretrained(id);
      const model = await WhisperForConditionalGeneration.from_pretrained(id, { dtype: "fp32" });
      try {
        const { input_features } = await processor(audio);
        const tsBegin = ours.settings.tokens.timestampBegin!;
        for (const timestamps of [true, false]) {
          const out = await model.generate({ input_features, language, task: "transcribe", return_timestamps: timestamps, max_new_tokens: 100 } as never);
          const hf = (out as unknown as { tolist(): bigint[][] }).tolist()[0].map(Number);
          const prefix = hf.slice(0, timestamps ? 3 : 4);
          const generated = hf.slice(prefix.length).filter((t) => t !== ours.settings.tokens.eot);
          const mine = await ours.decode(audio, { language, timestamps });
          const t = ours.settings.tokens;
          assert.deepEqual(prefix, [t.sot, t.languages.get(language), t.transcribe, ...(timestamps ? [] : [t.noTimestamps])]);
          // Without timestamps we suppress timestamp tokens, which transformers.js leaves to the model.
          assert.deepEqual(mine.tokens, timestamps ? generated : generated.filter((id) => id < tsBegin), `timestamps ${timestamps}`);
          assert.ok(mine.tokens.filter((id) => id < tsBegin).length >= 3, "several words");
        }
      } finally {
        await model.dispose();
      }
    });
  }
});
