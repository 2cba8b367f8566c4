/**
 * The LLM engine over one onnxruntime session: `generate()` is a cold Observable of chunks.
 *
 * Where it runs: the session, the KV caches and the prefix cache sit behind a DecoderModel —
 * in a worker thread by default (worker-decoder-model.ts), so a step no longer holds Node-RED's
 * event loop, or in this thread (local-decoder-model.ts). The loop below does not know which.
 *
 * Concurrency — interleave, not queue. Every generation owns its own KV cache (a
 * SequenceDecoder holding only its own cache), so caches cannot mix by construction. Session
 * calls go through one first-come-first-served RunGate (here, in front of the worker), and each
 * generation takes a single prefill or decode step per turn, so concurrent streams advance
 * round-robin: every stream starts producing after the prefills queued before it rather than
 * after whole earlier generations (as a queue would make it), which keeps time-to-first-token
 * flat for a node serving several flows. One run at a time because a single run already uses
 * onnxruntime's intra-op thread pool; parallel runs would only fight over the same cores.
 * Results do not depend on the interleaving: each step sees only its own cache and PRNG.
 */
import { Observable } from "rxjs";
import type { LlmEngine, LlmGenerateOptions, LlmRequest, LlmStreamChunk } from "../../../types";
import { GenerationRun, type GenerationDeps } from "./generation-run";
import type { LlmTokenizer } from "./llm-tokenizer";
import type { LlmGenerationDefaults, LlmModelShape } from "../../../onnx/decoder/model-config";
import type { DecoderModel } from "../../../onnx/decoder/sequence-decoder";
import { RunGate } from "./run-gate";

export interface OnnxLlmEngineParts {
  /** The decoder's sessions and caches, in this thread or in a worker. */
  decoders: DecoderModel;
  tokenizer: LlmTokenizer;
  shape: LlmModelShape;
  defaults: LlmGenerationDefaults;
  /** The model's repo id or directory, for messages. */
  id?: string;
}

/** Generations running in this process, across engines (diagnostics: a closed flow must leave none). */
let liveGenerations = 0;

export class OnnxLlmEngine implements LlmEngine {
  readonly kind = "llm" as const;

  static get liveGenerations(): number {
    return liveGenerations;
  }

  private readonly gate = new RunGate();
  private readonly active = new Set<GenerationRun>();
  private readonly deps: GenerationDeps;
  private disposed = false;

  constructor(private readonly parts: OnnxLlmEngineParts) {
    this.deps = {
      decoders: parts.decoders,
      gate: this.gate,
      tokenizer: parts.tokenizer,
      shape: parts.shape,
      defaults: parts.defaults,
      eosIds: new Set(parts.defaults.eosIds),
    };
  }

  get tokenizer(): LlmTokenizer {
    return this.parts.tokenizer;
  }

  get shape(): LlmModelShape {
    return this.parts.shape;
  }

  get defaults(): LlmGenerationDefaults {
    return this.parts.defaults;
  }

  /** Streams currently generating (or queued for their next step). */
  get activeStreams(): number {
    return this.active.size;
  }

  generate(request: LlmRequest, options: LlmGenerateOptions = {}): Observable<LlmStreamChunk> {
    return new Observable<LlmStreamChunk>((subscriber) => {
      if (this.disposed) {
        subscriber.error(new Error(`the model ${this.parts.id ?? ""} was unloaded; load it again to generate`));
        return;
      }
      const run = new GenerationRun(this.deps, request, subscriber);
      this.active.add(run);
      liveGenerations++;
      const cancelSubscription = options.cancel$?.subscribe({ next: () => run.cancel() });
      void run.start().finally(() => {
        this.active.delete(run);
        liveGenerations--;
      });
      return () => {
        cancelSubscription?.unsubscribe();
        run.stop();
      };
    });
  }

  /** Whether the sessions run in a worker thread (config worker_thread). */
  get inWorker(): boolean {
    return this.parts.decoders.inWorker;
  }

  /** Ends every open stream with an error, waits for the step in flight, then frees the session (ends the worker). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const run of this.active) run.fail(new Error(`the model ${this.parts.id ?? ""} was unloaded while generating`));
    await this.gate.idle();
    await this.parts.decoders.release();
  }
}
