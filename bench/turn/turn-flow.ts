/**
 * The voice-turn flow of the bench (part "turn") as Node-RED flow JSON, for one Node-RED
 * process: vad → turn gate (a function node: frames pass until the turn's speech-end, which
 * becomes `finish` — or `flush` + `finish` — for whisper-streamer) → whisper-streamer → route
 * (a function node: prefix cache on or off, by a field the frames carry; with `preempt`, the
 * answer starts from the speculative final, held in audio-out until the final keeps it) → llm-stream (chat
 * template, system prompt) → reply script → tts-streamer → audio-out (null sink). Helper nodes
 * tap every stage so the harness can time it.
 *
 * The reply script: the bench's LLMs have random weights and write filler tokens, which no
 * voice could speak; the script swaps each generated token's text for the next piece of a
 * fixed English reply, so the TTS speaks English at exactly the pace the LLM generates.
 */

export interface ModelSpec {
  enginesPath: string;
  config: Record<string, unknown>;
}

export interface TurnFlowModels {
  asr: ModelSpec;
  llm: ModelSpec;
  tts: ModelSpec;
  /** The voice has a decoder LM of its own (a codec voice), which int8_prefill acts on. */
  ttsDecoder?: boolean;
}

export interface TurnFlowOptions {
  models: TurnFlowModels;
  systemPrompt: string;
  /** The reply's pieces, one per generated token. */
  replyPieces: string[];
  /** vad's silence that ends a turn (the node's default is 700 ms). */
  minSilenceMs?: number;
  /** Also a second llm-stream on a copy of the LLM with prefix_cache_mb 0 (for turns with prefix_cache false). */
  noCacheLlm?: boolean;
  /** whisper-streamer's speculative final (the node's default, on, when absent). */
  speculativeFinal?: boolean;
  /** Also a second whisper-streamer on the ASR model's 8-bit files (dtype q8), for turns set up with asr "q8". */
  q8Asr?: boolean;
  /** Also a whisper-streamer on the 8-bit files with this encoder_window_s (seconds), for turns set up with asr "window". */
  windowAsrS?: number;
  /**
   * Also an llm-stream on a copy of the LLM with int8_prefill false, feeding its own reply script and a
   * tts-streamer on a copy of the voice with int8_prefill false (a codec voice; others share theirs),
   * for turns whose frames carry int8_prefill false.
   */
  fourBitPrefill?: boolean;
}

type FlowNode = Record<string, unknown> & { id: string; type: string };

/** Node ids of the taps the harness listens on. */
export const TAPS = { vad: "t_vad", asr: "t_asr", llm: "t_llm", script: "t_script", tts: "t_tts", out: "t_out" } as const;

function modelNode(id: string, kind: string, spec: ModelSpec): FlowNode {
  return { id, type: "voice-model", name: `${kind} model`, kind, enginesPath: spec.enginesPath, revision: "main", config: JSON.stringify(spec.config) };
}

/**
 * Frames pass until their turn's speech-end; the speech-end ends the whisper turn (finish, or
 * flush then finish). Output 1 is the ASR on the model as it is, output 2 the one on its 8-bit
 * files, output 3 the 8-bit one with a shortened encoder window, as the turn's setup asks.
 */
const GATE = `
const ended = context.get("ended") || {};
const modes = context.get("modes") || {};
if (msg.topic === "turn-setup") {
  modes[msg.stream_id] = { end: msg.asr_end, asr: msg.asr };
  context.set("modes", modes);
  return null;
}
const mode = modes[msg.stream_id] || {};
const toAsr = (m) => (mode.asr === "window" ? [null, null, m] : mode.asr === "q8" ? [null, m, null] : [m, null, null]);
if (msg.kind === "speech-start") return null;
if (msg.kind === "speech-end") {
  if (ended[msg.stream_id]) return null;
  ended[msg.stream_id] = true;
  context.set("ended", ended);
  return toAsr(mode.end === "flush-finish" ? { stream_id: msg.stream_id, flush: true, finish: true } : { stream_id: msg.stream_id, finish: true });
}
if (ended[msg.stream_id]) return null;
return toAsr(msg);
`;

/**
 * whisper-streamer's output 2 → the LLMs (outputs 1, 2: prefix cache on, off; output 4: int8 prefill
 * off) and audio-out (output 3). A turn whose frames carry "preempt" answers the speculative final at once, as a
 * stream of its own ("<turn>/s<n>") whose audio audio-out holds; the final either names that
 * speculation (release it) or not (cancel it and answer the final). Other turns answer the final.
 */
const ROUTE = `
const toLlm = (m) => (m.int8_prefill === false ? [null, null, null, m] : m.prefix_cache === false ? [null, m, null] : [m, null, null]);
const answers = context.get("answers") || {};
if (msg.kind === "speculative") {
  if (msg.preempt !== true) return null;
  const before = answers[msg.stream_id];
  const id = msg.stream_id + "/s" + msg.speculation;
  answers[msg.stream_id] = { id, speculation: msg.speculation };
  context.set("answers", answers);
  if (before) node.send([{ cancel: true, stream_id: before.id }, null, null]);
  return toLlm({ ...msg, stream_id: id, hold: true });
}
if (msg.kind !== "final") return null;
const spec = answers[msg.stream_id];
delete answers[msg.stream_id];
context.set("answers", answers);
if (spec && msg.speculation === spec.speculation) return [null, null, { release: true, stream_id: spec.id }];
if (spec) node.send([{ cancel: true, stream_id: spec.id }, null, null]);
return toLlm(msg.preempt === true ? { ...msg, stream_id: msg.stream_id + "/f" } : msg);
`;

function scriptCode(pieces: string[]): string {
  return `
const pieces = ${JSON.stringify(pieces)};
if (msg.kind === "cancelled") return msg;
const key = "next_" + msg.stream_id;
if (msg.is_final === true) {
  context.set(key, undefined);
  msg.payload = "";
  return msg;
}
if (typeof msg.payload !== "string" || msg.payload === "") return null;
const i = context.get(key) || 0;
context.set(key, i + 1);
msg.payload = i < pieces.length ? pieces[i] : "";
return msg;
`;
}

export function turnFlow(options: TurnFlowOptions): FlowNode[] {
  const { models } = options;
  const llm = (id: string, model: string, script = "n_script"): FlowNode => ({
    id,
    type: "llm-stream",
    model,
    system: options.systemPrompt,
    maxNewTokens: options.replyPieces.length,
    temperature: 0,
    wires: [[script, TAPS.llm], []],
  });
  // Only a codec voice has a decoder to prefill; eSpeak and piper turns share the one tts model.
  const codecVoice = models.ttsDecoder === true;
  const fourBit = (spec: ModelSpec): ModelSpec => ({ ...spec, config: { ...spec.config, int8_prefill: false } });
  const fourBitNodes: FlowNode[] = options.fourBitPrefill
    ? [
        modelNode("m_llm_4b", "llm", fourBit(models.llm)),
        llm("n_llm_4b", "m_llm_4b", "n_script_4b"),
        { id: "n_script_4b", type: "function", func: scriptCode(options.replyPieces), outputs: 1, wires: [["n_tts_4b", TAPS.script]] },
        ...(codecVoice ? [modelNode("m_tts_4b", "tts", fourBit(models.tts))] : []),
        { id: "n_tts_4b", type: "tts-streamer", model: codecVoice ? "m_tts_4b" : "m_tts", wires: [["n_out", TAPS.tts]] },
      ]
    : [];
  const asr = (id: string, model: string): FlowNode => ({
    id,
    type: "whisper-streamer",
    model,
    language: "en",
    partialIntervalMs: "600",
    emitSpeculative: true,
    ...(options.speculativeFinal === undefined ? {} : { speculativeFinal: options.speculativeFinal }),
    wires: [[], ["n_route", TAPS.asr]],
  });
  return [
    modelNode("m_asr", "asr", models.asr),
    modelNode("m_llm", "llm", models.llm),
    modelNode("m_tts", "tts", models.tts),
    { id: "n_vad", type: "vad", minSilenceMs: String(options.minSilenceMs ?? 700), pass: "all", wires: [["n_gate"], ["n_gate", TAPS.vad]] },
    { id: "n_gate", type: "function", func: GATE, outputs: 3, wires: [["n_asr"], options.q8Asr ? ["n_asr_q8"] : [], options.windowAsrS ? ["n_asr_win"] : []] },
    asr("n_asr", "m_asr"),
    ...(options.q8Asr ? [modelNode("m_asr_q8", "asr", { ...models.asr, config: { ...models.asr.config, dtype: "q8" } }), asr("n_asr_q8", "m_asr_q8")] : []),
    ...(options.windowAsrS
      ? [modelNode("m_asr_win", "asr", { ...models.asr, config: { ...models.asr.config, dtype: "q8", encoder_window_s: options.windowAsrS } }), asr("n_asr_win", "m_asr_win")]
      : []),
    { id: "n_route", type: "function", func: ROUTE, outputs: 4, wires: [["n_llm"], options.noCacheLlm ? ["n_llm_nc"] : [], ["n_out"], options.fourBitPrefill ? ["n_llm_4b"] : []] },
    llm("n_llm", "m_llm"),
    ...(options.noCacheLlm ? [modelNode("m_llm_nc", "llm", { ...models.llm, config: { ...models.llm.config, prefix_cache_mb: 0 } }), llm("n_llm_nc", "m_llm_nc")] : []),
    { id: "n_script", type: "function", func: scriptCode(options.replyPieces), outputs: 1, wires: [["n_tts", TAPS.script]] },
    { id: "n_tts", type: "tts-streamer", model: "m_tts", wires: [["n_out", TAPS.tts]] },
    { id: "n_out", type: "audio-out", sink: "null", wires: [[TAPS.out]] },
    ...fourBitNodes,
    ...Object.values(TAPS).map((id) => ({ id, type: "helper" })),
  ];
}
