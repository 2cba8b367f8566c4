/**
 * Whisper's text side over tokenizers.js: decoding generated ids to text (special and
 * timestamp tokens left out) and encoding a prompt.
 */
import * as fs from "fs";

type Tokenizer = import("@huggingface/tokenizers", { with: { "resolution-mode": "import" } }).Tokenizer;

export class WhisperTokenizer {
  private constructor(private readonly tokenizer: Tokenizer, readonly added: Map<string, number>, private readonly eot: number | undefined) {}

  static async load(tokenizerJson: string, tokenizerConfigJson: string | undefined): Promise<WhisperTokenizer> {
    const json = JSON.parse(fs.readFileSync(tokenizerJson, "utf8")) as { added_tokens?: { id: number; content: string }[] };
    const config = tokenizerConfigJson ? JSON.parse(fs.readFileSync(tokenizerConfigJson, "utf8")) : {};
    const { Tokenizer } = await import("@huggingface/tokenizers");
    const added = new Map((json.added_tokens ?? []).map((t) => [t.content, t.id] as [string, number]));
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
