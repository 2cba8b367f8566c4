/**
 * The bench's voice-turn harness (bench/turn) on the tiny models: one real spoken question into
 * vad → whisper-streamer (tiny-whisper) → llm-stream (tiny-llm, chat template, system prompt) →
 * tts-streamer (eSpeak NG) → audio-out (null sink) in one Node-RED. Asserts that every stage of
 * the turn happened and that they came in order — never how fast (speed lives in the bench).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { write as writeTinyWhisper } from "../../fixtures/tiny-whisper";
import { readWavFile } from "../../src/core/audio/wav";
import { replyPieces, runTurns, speechEndSample, STAGES, type TurnTimeline, type TurnVariant } from "../../bench/turn/turn-harness";
import { fixtureDir } from "../helpers/fixtures";
import { sharedDir } from "../helpers/paths";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const REPLY = "It is mild and dry today, with a light breeze from the west and a high of eighteen degrees. Rain comes later.";

/** Turns of the real question through the tiny models and eSpeak NG, one per variant, in one flow. */
async function tinyTurns(variants: TurnVariant[], asrDir?: string): Promise<TurnTimeline[]> {
  const { samples, sampleRate } = await readWavFile(sharedDir("audio", "weather_16k.wav"));
  assert.equal(sampleRate, 16000);
  return runTurns(helper, {
    models: {
      asr: { enginesPath: asrDir ?? (await fixtureDir("tiny-whisper")), config: {} },
      llm: { enginesPath: await fixtureDir("tiny-llm"), config: {} },
      tts: { enginesPath: "espeak", config: { engine: "espeak" } },
    },
    systemPrompt: "You are a helpful voice assistant. Answer in one short spoken sentence.",
    question: samples,
    replyPieces: replyPieces(REPLY),
    schedule: variants,
    turnTimeoutMs: 120000,
  });
}

/** One turn of the real question through the tiny models and eSpeak NG. */
async function tinyTurn(variant: TurnVariant): Promise<TurnTimeline> {
  const [turn] = await tinyTurns([variant]);
  return turn;
}

describe("bench: voice-turn harness (tiny models, real speech)", function () {
  this.timeout(300000);

  it("finds the end of speech in the question WAV", async () => {
    const { samples } = await readWavFile(sharedDir("audio", "weather_16k.wav"));
    const end = speechEndSample(samples);
    assert.ok(end > 16000 && end <= samples.length, `speech ends at sample ${end} of ${samples.length}`);
  });

  it("times one turn: speech end ≤ vad end ≤ ASR final ≤ LLM first token ≤ first span ≤ first audio ≤ playing", async () => {
    const turn = await tinyTurn({ label: "tiny", prefixCache: true, firstSpanWords: 8, asrEnd: "flush-finish" });
    for (const stage of STAGES) assert.ok(Number.isFinite(turn.ms[stage]), `stage ${stage} happened (${JSON.stringify(turn.ms)})`);
    assert.ok(turn.ms.vadEnd >= 0, `vad's speech-end comes after the end of speech (${turn.ms.vadEnd} ms)`);
    for (let i = 1; i < STAGES.length; i++) {
      assert.ok(turn.ms[STAGES[i - 1]] <= turn.ms[STAGES[i]], `${STAGES[i - 1]} (${turn.ms[STAGES[i - 1]]} ms) ≤ ${STAGES[i]} (${turn.ms[STAGES[i]]} ms)`);
    }
    assert.ok(turn.transcript.trim().length > 0, "whisper-streamer's final holds words");
    assert.ok(REPLY.startsWith(turn.firstSpanText) && turn.firstSpanText.split(" ").length <= 8 + 1, `the first span is the reply's start, cut early: "${turn.firstSpanText}"`);
  });

  it("lever turns on the Whisper's 8-bit files (asrQ8), also with a short encoder window (asrWindowS), go to their own whisper-streamers and hear the same words", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "turn-q8-whisper-"));
    try {
      await writeTinyWhisper(dir, { quantized: true });
      const [base, q8, windowed] = await tinyTurns(
        [
          { label: "base", prefixCache: true, firstSpanWords: 8, asrEnd: "finish" },
          { label: "q8", prefixCache: true, firstSpanWords: 8, asrEnd: "finish", asrQ8: true },
          { label: "q8 window", prefixCache: true, firstSpanWords: 8, asrEnd: "finish", asrQ8: true, asrWindowS: 5 },
        ],
        dir,
      );
      for (const turn of [base, q8, windowed]) for (const stage of STAGES) assert.ok(Number.isFinite(turn.ms[stage]), `${turn.variant}: stage ${stage} happened (${JSON.stringify(turn.ms)})`);
      assert.ok(base.transcript.trim().length > 0);
      assert.equal(q8.transcript, base.transcript);
      assert.equal(windowed.transcript, base.transcript, "the 8-bit Whisper with a 5 s encoder window (its own whisper-streamer)");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers early: the answer starts from the speculative final, and audio-out plays it only after the final kept it", async () => {
    const turn = await tinyTurn({ label: "early", prefixCache: true, firstSpanWords: 8, asrEnd: "finish", preempt: true });
    for (const stage of STAGES) assert.ok(Number.isFinite(turn.ms[stage]), `stage ${stage} happened (${JSON.stringify(turn.ms)})`);
    // Only room tone follows the question, so the final keeps the speculation and its answer plays.
    assert.ok(Number.isFinite(turn.speculativeMs), "no speculative final reached the route");
    assert.ok(turn.answeredEarly, "the answer that played was not the one started from the speculative final");
    const { ms } = turn;
    assert.ok(turn.speculativeMs <= ms.llmFirstToken && ms.llmFirstToken <= ms.firstSpan && ms.firstSpan <= ms.firstAudio, JSON.stringify({ speculative: turn.speculativeMs, ...ms }));
    assert.ok(ms.vadEnd <= ms.asrFinal && ms.asrFinal <= ms.playing, `audio-out played before the final kept the speculation: ${JSON.stringify(ms)}`);
    assert.ok(turn.transcript.trim().length > 0, "whisper-streamer's final holds words");
  });
});
