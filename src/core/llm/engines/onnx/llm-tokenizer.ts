/**
 * The model's text side: tokenizer.json (via @huggingface/tokenizers) plus the chat
 * template, turning a request into prompt ids and generated ids back into text.
 */
import { ChatPrompt, templateTokens, type PromptInput } from "./chat-prompt";

type HfTokenizer = import("@huggingface/tokenizers", { with: { "resolution-mode": "import" } }).Tokenizer;

export class LlmTokenizer {
  private constructor(
    private readonly tokenizer: HfTokenizer,
    readonly chat: ChatPrompt,
  ) {}

  /**
   * `chatTemplate` overrides tokenizer_config.json's chat_template (newer repos ship it as
   * chat_template.jinja beside the config).
   */
  static async create(
    tokenizerJson: Record<string, unknown>,
    tokenizerConfig: Record<string, unknown> = {},
    chatTemplate?: string,
  ): Promise<LlmTokenizer> {
    const { Tokenizer } = await import("@huggingface/tokenizers");
    let tokenizer: HfTokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (err) {
      throw new Error(`tokenizer.json could not be read: ${(err as Error).message}`);
    }
    const chat = await ChatPrompt.create(chatTemplate ?? tokenizerConfig.chat_template, templateTokens(tokenizerConfig));
    return new LlmTokenizer(tokenizer, chat);
  }

  get hasChatTemplate(): boolean {
    return this.chat.hasTemplate;
  }

  /** The prompt's token ids. Templated text already holds its special tokens; raw text gets the tokenizer's own (e.g. BOS). */
  encodePrompt(input: PromptInput): number[] {
    const text = this.chat.render(input);
    return this.tokenizer.encode(text, { add_special_tokens: this.chat.isRaw(input) }).ids;
  }

  /** Plain encode of `text` (special tokens added as the tokenizer's post-processor says). */
  encode(text: string, addSpecialTokens = true): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** Text of `ids` without special tokens (what a listener should hear or read). */
  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: true });
  }

  /** Id of a vocabulary entry (special tokens included), if any. */
  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }
}
