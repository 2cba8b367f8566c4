/**
 * Text → Kokoro phonemes. Punctuation runs are kept as they are (the model has symbols for
 * them and they shape prosody); the text between them goes through espeak-ng (system binary
 * or the bundled WASM build, src/core/tts/espeak.ts) and espeak's IPA is then mapped onto
 * Kokoro's symbol set, as the reference pipelines do.
 */
import { espeakPhonemes } from "../../espeak";
import { normalizeEnglish } from "./english-normalizer";

/** Punctuation Kokoro keeps verbatim; a run of it (with the spaces around it) is one piece. */
const PUNCTUATION = ';:,.!?¡¿—…"«»“”(){}[]';
const PUNCTUATION_RUN = new RegExp(`(?:\\s*[${PUNCTUATION.replace(/[\]\\^-]/g, "\\$&")}]+\\s*)+`, "g");

/** Kokoro's language codes (the first letter of a voice name) and the espeak-ng voice for each. */
export const KOKORO_LANGUAGES: Record<string, { espeak: string; name: string; english: boolean }> = {
  a: { espeak: "en-us", name: "American English", english: true },
  b: { espeak: "en-gb", name: "British English", english: true },
  e: { espeak: "es", name: "Spanish", english: false },
  f: { espeak: "fr-fr", name: "French", english: false },
  h: { espeak: "hi", name: "Hindi", english: false },
  i: { espeak: "it", name: "Italian", english: false },
  p: { espeak: "pt-br", name: "Brazilian Portuguese", english: false },
};

/** Languages whose Kokoro voices were trained on a G2P that espeak-ng does not reproduce. */
const NOT_ESPEAK: Record<string, string> = { j: "Japanese", z: "Mandarin Chinese" };

/** The language entry for a voice ("af_heart" → American English); a clear error for the others. */
export function languageOfVoice(voice: string): (typeof KOKORO_LANGUAGES)[string] {
  const code = voice[0];
  const language = KOKORO_LANGUAGES[code];
  if (language) return language;
  if (NOT_ESPEAK[code]) {
    throw new Error(
      `Kokoro voice '${voice}' speaks ${NOT_ESPEAK[code]}, which Kokoro phonemises with misaki's own G2P, not espeak-ng; ` +
        `pick an English (a*, b*), Spanish (e*), French (f*), Hindi (h*), Italian (i*) or Portuguese (p*) voice`,
    );
  }
  throw new Error(`Kokoro voice '${voice}': its first letter should name the language (a, b, e, f, h, i, p)`);
}

/** Splits `text` into alternating pieces: punctuation runs (kept) and the text between them (phonemised). */
function splitAtPunctuation(text: string): { punctuation: boolean; text: string }[] {
  const pieces: { punctuation: boolean; text: string }[] = [];
  let at = 0;
  for (const match of text.matchAll(PUNCTUATION_RUN)) {
    if (match.index! > at) pieces.push({ punctuation: false, text: text.slice(at, match.index) });
    if (match[0].length > 0) pieces.push({ punctuation: true, text: match[0] });
    at = match.index! + match[0].length;
  }
  if (at < text.length) pieces.push({ punctuation: false, text: text.slice(at) });
  return pieces;
}

/** espeak's IPA → Kokoro's symbols (its vocabulary has no ʲ, r, x, ɬ), plus the English fixes. */
function toKokoroSymbols(ipa: string, american: boolean): string {
  let out = ipa
    .replace(/kəkˈoːɹoʊ/g, "kˈoʊkəɹoʊ") // "Kokoro", as its authors say it
    .replace(/kəkˈɔːɹəʊ/g, "kˈəʊkəɹəʊ")
    .replace(/ʲ/g, "j")
    .replace(/r/g, "ɹ")
    .replace(/x/g, "k")
    .replace(/ɬ/g, "l")
    .replace(/(?<=[a-zɹː])(?=hˈʌndɹɪd)/g, " ") // "nineteenhundred" → "nineteen hundred"
    .replace(/ z(?=[;:,.!?¡¿—…"«»“” ]|$)/g, "z"); // a stray plural "z" joins its word
  if (american) out = out.replace(/(?<=nˈaɪn)ti(?!ː)/g, "di"); // flapped "ninety"
  return out.trim();
}

export interface PhonemizeOptions {
  /** espeak-ng voice (en-us, en-gb, es, …). */
  espeakVoice: string;
  /** Apply Kokoro's English normalisation and fixes. */
  english: boolean;
  american: boolean;
  signal?: AbortSignal;
}

/** espeak's IPA for one piece: its clause lines joined by spaces, as the reference pipelines join them. */
function joinLines(ipa: string): string {
  return ipa
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(" ");
}

/**
 * The IPA of every piece, in one espeak-ng run when possible: each espeak run costs a process
 * start or a fresh WASM instance (~0.4 s here), and a sentence has a piece per comma. The pieces
 * go in separated by blank lines (a paragraph break ends a clause without changing how a word
 * is read), and come back one line each; if the line count does not match (a piece espeak split
 * into clauses itself), each piece is phonemised on its own instead.
 */
async function phonemizePieces(texts: string[], voice: string, signal?: AbortSignal): Promise<string[]> {
  if (texts.length === 0) return [];
  if (texts.length > 1 && texts.every((t) => !t.includes("\n"))) {
    const lines = (await espeakPhonemes(texts.join("\n\n"), voice, signal))
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.length > 0);
    if (lines.length === texts.length) return lines;
  }
  return Promise.all(texts.map(async (text) => joinLines(await espeakPhonemes(text, voice, signal))));
}

export async function phonemizeForKokoro(text: string, options: PhonemizeOptions): Promise<string> {
  const clean = options.english ? normalizeEnglish(text) : text.trim();
  const pieces = splitAtPunctuation(clean);
  const spokenPieces = pieces.filter((piece) => !piece.punctuation);
  const ipa = await phonemizePieces(spokenPieces.map((piece) => piece.text), options.espeakVoice, options.signal);
  let next = 0;
  const joined = pieces.map((piece) => (piece.punctuation ? piece.text : ipa[next++])).join("");
  return toKokoroSymbols(joined, options.american);
}
