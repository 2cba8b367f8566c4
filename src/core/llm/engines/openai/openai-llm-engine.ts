/**
 * The llm engine of an OpenAI-compatible server (vLLM, llama.cpp's server, Ollama, LM Studio):
 * `POST {base}/chat/completions` with `stream: true`, read as server-sent events. Chunks are
 * those of the local engine (PROTOCOL §1); `token_ids` stay empty (servers do not send ids).
 *
 * Metrics are measured here, on the client: time_to_first_token from subscribe to the first
 * content delta; prompt/generated token counts from the server's usage chunk when it sends
 * one, else generated_tokens counts the content deltas (servers send one token per delta)
 * and prompt_tokens is 0; the final's `token_counts` says which ("usage" | "counted").
 * Reasoning deltas (`reasoning_content`, `reasoning`) stay out of `delta` and come on the
 * final chunk as `reasoning`. Cancel aborts the request (the socket closes) and ends the
 * stream with the cancelled final at once; nothing follows it.
 */
import { performance } from "perf_hooks";
import { Observable, type Subscriber } from "rxjs";
import type { LlmEngine, LlmGenerateOptions, LlmRequest, LlmStreamChunk } from "../../../types";
import { OpenAiHttpClient, isAbortError, type RemoteResponse } from "../../../openai/http-client";
import type { OpenAiEndpoint } from "../../../openai/endpoint";
import { malformedError, midStreamError, RemoteServerError, serverMessage } from "../../../openai/errors";
import { ensureOk } from "../../../openai/responses";
import { DONE, sseEvents } from "../../../openai/sse";
import { chatBody } from "./chat-request";

const CHAT_PATH = "/chat/completions";
const now = () => performance.now() / 1000;

type FinishReason = "stop" | "length";

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

export class OpenAiLlmEngine implements LlmEngine {
  readonly kind = "llm" as const;
  private readonly client: OpenAiHttpClient;
  /** Dropped for good once the server rejects them. */
  private includeUsage = true;
  private sendTopK = true;
  private warnedTopK = false;
  private readonly live = new Set<ChatRun>();
  private disposed = false;

  constructor(readonly endpoint: OpenAiEndpoint, private readonly warn: (message: string) => void = () => undefined) {
    this.client = new OpenAiHttpClient(endpoint);
  }

  generate(request: LlmRequest, options: LlmGenerateOptions = {}): Observable<LlmStreamChunk> {
    return new Observable<LlmStreamChunk>((subscriber) => {
      if (this.disposed) {
        subscriber.error(new Error(`the remote model ${this.endpoint.label} was released; deploy again to generate`));
        return;
      }
      const run = new ChatRun(this, request, subscriber);
      const cancel = options.cancel$?.subscribe({ next: () => run.cancel() });
      this.live.add(run);
      void run.start().finally(() => this.live.delete(run));
      return () => {
        cancel?.unsubscribe();
        run.stop();
      };
    });
  }

  /** @internal One POST with the extras the server takes, retried without those it rejects. */
  async post(request: LlmRequest, signal: AbortSignal): Promise<RemoteResponse> {
    for (;;) {
      const wantsTopK = request.top_k !== undefined && request.top_k !== null && request.top_k > 0;
      const sentTopK = this.sendTopK && wantsTopK;
      const sentUsage = this.includeUsage;
      const body = chatBody(request, { model: this.endpoint.model, includeUsage: sentUsage, topK: sentTopK });
      const response = await this.client.request({ method: "POST", path: CHAT_PATH, json: body, accept: "text/event-stream", signal });
      if ((response.status === 400 || response.status === 422) && (sentTopK || sentUsage)) {
        const said = serverMessage(await response.text().catch(() => ""));
        // Drop what the server names; when it names neither, stream_options first (the newer extra).
        if (sentTopK && /top_k/i.test(said)) this.dropTopK(said);
        else if (sentUsage) this.includeUsage = false;
        else this.dropTopK(said);
        continue;
      }
      if (!this.sendTopK && wantsTopK && !this.warnedTopK) this.dropTopK("");
      await ensureOk(this.client, response, this.endpoint.model);
      return response;
    }
  }

  private dropTopK(said: string): void {
    this.sendTopK = false;
    if (this.warnedTopK) return;
    this.warnedTopK = true;
    this.warn(`${this.endpoint.label} does not take top_k${said ? ` (${said})` : ""}; top_k is ignored for this server`);
  }

  get label(): string {
    return this.client.urlOf(CHAT_PATH);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const run of this.live) run.fail(new Error(`the remote model ${this.endpoint.label} was released while generating`));
    this.client.destroy();
  }
}

/** One generation: the request, its events, its chunks. */
class ChatRun {
  readonly abort = new AbortController();
  private readonly startedAt = now();
  private firstAt?: number;
  private lastAt?: number;
  private index = 0;
  private deltas = 0;
  private text = "";
  private reasoning = "";
  private usage: Usage | undefined;
  private ended = false;

  constructor(
    private readonly engine: OpenAiLlmEngine,
    private readonly request: LlmRequest,
    private readonly subscriber: Subscriber<LlmStreamChunk>,
  ) {}

  cancel(): void {
    if (this.ended) return;
    this.ended = true;
    this.abort.abort();
    this.subscriber.next({ kind: "cancelled", is_final: true, finish_reason: "cancelled", delta: "", index: this.index, token_ids: [], text: this.text, ...this.metrics() });
    this.subscriber.complete();
  }

  stop(): void {
    this.ended = true;
    this.abort.abort();
  }

  /** Ends the stream with an error and aborts the request (the engine is being released). */
  fail(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.abort.abort();
    this.subscriber.error(error);
  }

  async start(): Promise<void> {
    try {
      const response = await this.engine.post(this.request, this.abort.signal);
      if (this.ended) return response.close();
      if (!response.contentType.includes("text/event-stream")) return await this.readWhole(response);
      let finish: string | undefined;
      let sawDone = false;
      for await (const event of sseEvents(response)) {
        if (this.ended) return;
        if (event === DONE) {
          sawDone = true;
          break;
        }
        finish = this.onEvent(event.data, response.url) ?? finish;
      }
      if (this.ended) return;
      if (!sawDone && finish === undefined) throw midStreamError(response.url, "the event stream ended without a finish_reason or [DONE]");
      this.finish(finish);
    } catch (err) {
      if (this.ended || isAbortError(err)) return;
      this.ended = true;
      this.subscriber.error(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** One SSE event; returns its finish_reason when it has one. */
  private onEvent(data: string, url: string): string | undefined {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(data) as Record<string, unknown>;
    } catch {
      throw malformedError(url, "an event whose data is not JSON", data);
    }
    if (!json || typeof json !== "object") throw malformedError(url, "an event that is not a JSON object", data);
    if (json.error) throw new RemoteServerError(`${url} reported an error mid-stream: ${serverMessage(data)}`, "server-error", { url });
    if (json.usage && typeof json.usage === "object") this.usage = json.usage as Usage;
    // The usage chunk comes with choices empty or null.
    const choices = json.choices;
    if (!Array.isArray(choices) || choices.length === 0) return undefined;
    const choice = choices[0] as { delta?: Record<string, unknown>; finish_reason?: unknown };
    const delta = choice.delta ?? {};
    const thought = delta.reasoning_content ?? delta.reasoning;
    if (typeof thought === "string") this.reasoning += thought;
    // The first delta may carry only the role.
    if (typeof delta.content === "string" && delta.content !== "") this.emit(delta.content);
    return typeof choice.finish_reason === "string" ? choice.finish_reason : undefined;
  }

  /** A server that ignored stream: true answered with one JSON completion. */
  private async readWhole(response: RemoteResponse): Promise<void> {
    const body = await response.text();
    let json: { choices?: { message?: { content?: unknown; reasoning_content?: unknown }; finish_reason?: unknown }[]; usage?: Usage };
    try {
      json = JSON.parse(body);
    } catch {
      throw malformedError(response.url, `a ${response.contentType || "body"} that is neither an event stream nor JSON`, body);
    }
    const choice = json.choices?.[0];
    if (!choice) throw malformedError(response.url, "a completion without choices", body);
    if (json.usage) this.usage = json.usage;
    if (typeof choice.message?.reasoning_content === "string") this.reasoning += choice.message.reasoning_content;
    if (typeof choice.message?.content === "string" && choice.message.content !== "") this.emit(choice.message.content);
    if (!this.ended) this.finish(typeof choice.finish_reason === "string" ? choice.finish_reason : undefined);
  }

  private emit(delta: string): void {
    const t = now();
    this.firstAt ??= t;
    this.lastAt = t;
    this.deltas++;
    this.text += delta;
    this.subscriber.next({ kind: "text", delta, index: this.index++, token_ids: [], is_final: false });
  }

  private finish(reason: string | undefined): void {
    if (this.ended) return;
    this.ended = true;
    const finish_reason: FinishReason = reason === "length" ? "length" : "stop";
    this.subscriber.next({
      kind: "text",
      delta: "",
      index: this.index,
      token_ids: [],
      is_final: true,
      text: this.text,
      finish_reason,
      ...this.metrics(),
      ...(this.reasoning ? { reasoning: this.reasoning } : {}),
    } as LlmStreamChunk);
    this.subscriber.complete();
  }

  private metrics() {
    const fromUsage = typeof this.usage?.completion_tokens === "number";
    const generated = fromUsage ? this.usage!.completion_tokens! : this.deltas;
    const span = this.firstAt !== undefined && this.lastAt !== undefined ? this.lastAt - this.firstAt : 0;
    return {
      ...(this.firstAt !== undefined ? { time_to_first_token: this.firstAt - this.startedAt } : {}),
      total_seconds: now() - this.startedAt,
      prompt_tokens: typeof this.usage?.prompt_tokens === "number" ? this.usage.prompt_tokens : 0,
      generated_tokens: generated,
      tokens_per_second: generated > 1 && span > 0 ? (generated - 1) / span : 0,
      token_counts: fromUsage ? ("usage" as const) : ("counted" as const),
    };
  }
}
