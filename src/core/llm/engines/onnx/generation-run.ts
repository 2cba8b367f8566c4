/**
 * One generation: prompt → prefill → sample/step loop → chunks on its subscriber.
 * It owns its sequence decoder (its own KV cache, in this thread or in the decoder worker), so
 * no two generations ever share a cache; every run goes through the engine's RunGate, one
 * decode step per turn.
 */
import type { Subscriber } from "rxjs";
import type { LlmChunk, LlmRequest, LlmStreamChunk } from "../../../types";
import { GenerationMetrics } from "../../generation-metrics";
import { LlmRequestError, resolveLlmRequest } from "../../llm-request";
import type { LlmTokenizer } from "./llm-tokenizer";
import type { LlmGenerationDefaults, LlmModelShape } from "../../../onnx/decoder/model-config";
import type { RunGate } from "./run-gate";
import type { DecoderModel, SequenceDecoder } from "../../../onnx/decoder/sequence-decoder";
import { Sampler, type LogitsRow } from "../../../onnx/decoder/sampler";
import { StopSequenceFilter } from "../../stop-sequences";
import { StreamingDetokenizer } from "./streaming-detokenizer";
import { firstAudioPriority, type FirstAudioPriority } from "../../../scheduling/first-audio-priority";

export interface GenerationDeps {
  /** Sequences (with the model's prefix cache and buffer pool) wherever the session runs. */
  decoders: DecoderModel;
  gate: RunGate;
  tokenizer: LlmTokenizer;
  shape: LlmModelShape;
  defaults: LlmGenerationDefaults;
  eosIds: ReadonlySet<number>;
  /** Decode steps wait while a local TTS makes a stream's first audio (the process's own priority by default). */
  priority?: FirstAudioPriority;
}

type FinishReason = "stop" | "length";

/** Prompt tokens per prefill call (see start()). */
export const PREFILL_SLICE = 256;

export class GenerationRun {
  private readonly metrics = new GenerationMetrics();
  /** Set once the stream has its final chunk, was unsubscribed, or failed: nothing is emitted after. */
  private ended = false;
  private index = 0;
  private emittedText = "";
  /** Ids behind text not yet sent (incomplete characters, or text held back by a stop-sequence prefix). */
  private pendingIds: number[] = [];

  constructor(
    private readonly deps: GenerationDeps,
    private readonly request: LlmRequest,
    private readonly subscriber: Subscriber<LlmStreamChunk>,
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /** Explicit cancel: the one final chunk is the cancelled chunk with the metrics so far; compute stops after the step in flight. */
  cancel(): void {
    if (this.ended) return;
    this.ended = true;
    this.subscriber.next({
      kind: "cancelled",
      is_final: true,
      finish_reason: "cancelled",
      delta: "",
      index: this.index,
      token_ids: [],
      text: this.emittedText,
      ...this.metrics.snapshot(),
    });
    this.subscriber.complete();
  }

  /** The consumer left: stop quietly. */
  stop(): void {
    this.ended = true;
  }

  /** Ends the stream with an error (e.g. the model is being unloaded). */
  fail(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.subscriber.error(error);
  }

  async start(): Promise<void> {
    const { decoders, gate, tokenizer, shape, defaults, eosIds } = this.deps;
    const priority = this.deps.priority ?? firstAudioPriority;
    let decoder: SequenceDecoder | undefined;
    let context: number[] = [];
    let failed = false;
    try {
      const request = resolveLlmRequest(this.request, defaults);
      const promptIds = tokenizer.encodePrompt(request);
      if (promptIds.length === 0) throw new LlmRequestError("the prompt encodes to no tokens: send some text");
      const limit = shape.maxPositions;
      if (limit !== undefined && promptIds.length >= limit) {
        throw new LlmRequestError(`the prompt is ${promptIds.length} tokens but the model handles at most ${limit} positions: shorten it`);
      }
      this.metrics.promptTokens = promptIds.length;

      decoder = decoders.open();
      const sampler = new Sampler({
        temperature: request.temperature,
        topK: request.top_k,
        topP: request.top_p,
        repetitionPenalty: request.repetition_penalty,
        seed: request.seed,
      });
      // A step returns only the logits the sampler looks at where it can (top-logits-graph.ts).
      const top = sampler.topCandidatesNeeded;
      const detokenizer = new StreamingDetokenizer((ids) => tokenizer.decode(ids), promptIds);
      const stops = new StopSequenceFilter(request.stop_sequences);
      context = [...promptIds];
      const dec = decoder;

      // The prompt's leading tokens that an earlier sequence already computed (the system prompt,
      // the conversation so far) start from that sequence's cache rows: prefill only the rest.
      const cached = await dec.seedFromPrefix(promptIds);
      if (cached > 0) this.metrics.cachedPromptTokens = cached;
      // A long prompt is fed in slices, one gate turn each, so it never holds up the other
      // streams' tokens for the whole prefill.
      let logits: LogitsRow | undefined;
      for (let at = cached; at < promptIds.length; at += PREFILL_SLICE) {
        const slice = promptIds.slice(at, at + PREFILL_SLICE);
        logits = await gate.run(() => dec.prefill(slice), () => this.ended);
        if (logits === undefined) return;
      }
      for (;;) {
        if (logits === undefined || this.ended) return;
        const id = sampler.next(logits, context);
        this.metrics.tokenSampled();
        if (eosIds.has(id) && !request.ignore_eos) return this.finish("stop", detokenizer, stops);

        context.push(id);
        this.metrics.generatedTokens++;
        const piece = detokenizer.push(id);
        this.pendingIds.push(...piece.ids);
        const safe = stops.push(piece.delta);
        if (safe.stopped) return this.finish("stop", undefined, undefined, safe.text);
        if (safe.text !== "") this.emit(safe.text);

        if (this.metrics.generatedTokens >= request.max_new_tokens) return this.finish("length", detokenizer, stops);
        // The next step would feed `id` at position dec.length: the model has no position beyond its limit.
        if (limit !== undefined && dec.length >= limit) return this.finish("length", detokenizer, stops);
        // A local TTS making a stream's first audio goes first (first-audio-priority.ts).
        await priority.yieldTo();
        if (this.ended) return;
        logits = await gate.run(() => (top === undefined ? dec.step(id) : dec.stepTop(id, top)), () => this.ended);
      }
    } catch (err) {
      failed = true;
      this.fail(err instanceof Error ? err : new Error(String(err)));
    } finally {
      // Keep what this sequence computed for the next prompt that starts the same way: the ids
      // fed so far (the last sampled id may not have been fed).
      if (decoder && !failed && decoder.length > 0) decoder.keepPrefix(context.slice(0, decoder.length));
      decoder?.dispose();
    }
  }

  private emit(delta: string): void {
    if (this.ended) return;
    const chunk: LlmChunk = { kind: "text", delta, index: this.index++, token_ids: this.pendingIds, is_final: false };
    this.pendingIds = [];
    this.emittedText += delta;
    this.subscriber.next(chunk);
  }

  /**
   * The final chunk. Without a stop sequence hit, the detokenizer's and the stop filter's
   * held-back text is released first; with one (`beforeStop`), only the text before it.
   */
  private finish(
    reason: FinishReason,
    detokenizer?: StreamingDetokenizer,
    stops?: StopSequenceFilter,
    beforeStop?: string,
  ): void {
    if (this.ended) return;
    let delta = beforeStop ?? "";
    if (detokenizer && stops) {
      const rest = detokenizer.flush();
      this.pendingIds.push(...rest.ids);
      const safe = stops.push(rest.delta);
      delta += safe.text;
      if (safe.stopped) reason = "stop";
      else delta += stops.flush();
    }
    this.ended = true;
    this.emittedText += delta;
    this.subscriber.next({
      kind: "text",
      delta,
      index: this.index,
      token_ids: this.pendingIds,
      is_final: true,
      text: this.emittedText,
      finish_reason: reason,
      ...this.metrics.snapshot(),
    });
    this.subscriber.complete();
  }
}
