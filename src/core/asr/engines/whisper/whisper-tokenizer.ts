/**
 * Whisper's text side over tokenizers.js: decoding generated ids to text (special and
 * timestamp tokens left out) and encoding a prompt.
 */
type Tokenizer = import("@huggingface/tokenizers", { with: { "resolution-mode": "import" } }).Tokenizer;

export class WhisperTokenizer {
  private constructor(private readonly tokenizer: Tokenizer, readonly added: Map<string, number>, private readonly eot: number | undefined) {}

  /** From tokenizer.json and tokenizer_config.json already parsed (the loader reads them with file-naming errors). */
  static async fromJson(json: Record<string, unknown>, config: Record<string, unknown>): Promise<WhisperTokenizer> {
    const { Tokenizer } = await import("@huggingface/tokenizers");
    const addedTokens = Array.isArray(json.added_tokens) ? (json.added_tokens as { id: number; content: string }[]) : [];
    const added = new Map(addedTokens.map((t) => [t.content, t.id] as [string, number]));
    return new WhisperTokenizer(new Tokenizer(json, config), added, added.get("<|endoftext|>"));
  }

  /** Text of the ids below <|endoftext|> (the ordinary vocabulary); specials and timestamps are dropped. */
  decodeText(ids: number[]): string {
    const text = this.eot === undefined ? ids : ids.filter((id) => id < this.eot!);
    if (text.length === 0) return "";
    return this.tokenizer.decode(text, { skip_special_tokens: true });
  }

  /** Ids of `text` without any added special tokens. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }
}
