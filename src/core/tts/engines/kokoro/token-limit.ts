/**
 * Kokoro reads at most 512 tokens (510 phonemes between the two "$" pads); kokoro-js
 * silently truncates longer input. Here a longer phoneme string is cut into pieces that fit,
 * each cut at the last clause boundary (, ; : — … ! ? .) before the limit, else at the last
 * word boundary, else (one enormous "word") exactly at the limit, so nothing is dropped.
 */
export const KOKORO_MAX_PHONEMES = 510;

const CLAUSE_END = new Set([",", ";", ":", "—", "…", "!", "?", "."]);

/**
 * Splits `phonemes` so that each piece has at most `limit` symbols that `counts` accepts
 * (symbols outside the vocabulary are dropped by the tokenizer and do not count).
 */
export function splitAtTokenLimit(phonemes: string, counts: (symbol: string) => boolean, limit = KOKORO_MAX_PHONEMES): string[] {
  const symbols = [...phonemes];
  const pieces: string[] = [];
  let start = 0;
  while (start < symbols.length) {
    let used = 0;
    let end = start;
    let clauseCut = -1;
    let wordCut = -1;
    while (end < symbols.length) {
      const symbol = symbols[end];
      if (counts(symbol)) {
        if (used === limit) break;
        used++;
      }
      end++;
      if (CLAUSE_END.has(symbol)) clauseCut = end;
      else if (symbol === " ") wordCut = end;
    }
    if (end < symbols.length) end = clauseCut > start ? clauseCut : wordCut > start ? wordCut : end;
    const piece = symbols.slice(start, end).join("").trim();
    if (piece.length > 0) pieces.push(piece);
    start = end;
  }
  return pieces;
}
