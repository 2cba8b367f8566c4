/**
 * Builds the text a model sees from a request: the tokenizer's chat template (Jinja, via
 * @huggingface/jinja) over the messages with the assistant turn opened, or — for base
 * models without a template, or when the caller asks for `raw` — the prompt as-is.
 */
import type { ChatMessage } from "../../../types";

type JinjaTemplate = import("@huggingface/jinja", { with: { "resolution-mode": "import" } }).Template;

export interface PromptInput {
  prompt: string | ChatMessage[];
  system?: string;
  enable_thinking?: boolean;
  raw?: boolean;
}

/** Special-token strings a template may use (`bos_token`, `eos_token`, ...). */
export type TemplateTokens = Record<string, string>;

export class ChatPrompt {
  private constructor(
    private readonly template: JinjaTemplate | undefined,
    private readonly tokens: TemplateTokens,
  ) {}

  /** `source` is tokenizer_config.json's chat_template (a string, or a list of named templates) or a chat_template.jinja file's text. */
  static async create(source: unknown, tokens: TemplateTokens = {}): Promise<ChatPrompt> {
    const text = pickTemplate(source);
    if (text === undefined) return new ChatPrompt(undefined, tokens);
    const { Template } = await import("@huggingface/jinja");
    let template: JinjaTemplate;
    try {
      template = new Template(text);
    } catch (err) {
      throw new Error(`the model's chat template does not parse: ${(err as Error).message}`);
    }
    return new ChatPrompt(template, tokens);
  }

  get hasTemplate(): boolean {
    return this.template !== undefined;
  }

  /** The messages a request stands for: the system prompt first unless the messages bring their own. */
  static messagesOf(input: PromptInput): ChatMessage[] {
    const messages = typeof input.prompt === "string" ? [{ role: "user", content: input.prompt }] : [...input.prompt];
    if (input.system && !messages.some((m) => m.role === "system")) messages.unshift({ role: "system", content: input.system });
    return messages;
  }

  /** Whether this input is rendered without the template. */
  isRaw(input: PromptInput): boolean {
    return input.raw === true || !this.template;
  }

  /** The prompt text. Raw mode joins system prompt and message contents with blank lines. */
  render(input: PromptInput): string {
    const messages = ChatPrompt.messagesOf(input);
    if (this.isRaw(input)) return messages.map((m) => m.content).join("\n\n");
    try {
      return this.template!.render({
        ...this.tokens,
        messages,
        add_generation_prompt: true,
        // Speech wants the answer, not the reasoning: thinking is off unless asked for.
        enable_thinking: input.enable_thinking === true,
      });
    } catch (err) {
      throw new Error(`the model's chat template failed on these messages: ${(err as Error).message}`);
    }
  }
}

function pickTemplate(source: unknown): string | undefined {
  if (typeof source === "string") return source.trim() === "" ? undefined : source;
  if (Array.isArray(source)) {
    // transformers' named templates: [{name: "default", template: "..."}, {name: "tool_use", ...}]
    const named = source.filter(
      (t): t is { name: string; template: string } => t && typeof t.name === "string" && typeof t.template === "string",
    );
    return (named.find((t) => t.name === "default") ?? named[0])?.template;
  }
  return undefined;
}

/** tokenizer_config.json's special tokens as template variables (entries may be strings or {content}). */
export function templateTokens(tokenizerConfig: Record<string, unknown>): TemplateTokens {
  const tokens: TemplateTokens = {};
  for (const key of ["bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"]) {
    const value = tokenizerConfig[key];
    if (typeof value === "string") tokens[key] = value;
    else if (value && typeof value === "object" && typeof (value as { content?: unknown }).content === "string") {
      tokens[key] = (value as { content: string }).content;
    }
  }
  return tokens;
}
