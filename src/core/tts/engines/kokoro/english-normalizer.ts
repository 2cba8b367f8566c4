/**
 * Kokoro's English text normalisation (the rules of the reference pipelines: hexgrad's
 * `kokoro` and kokoro-js), applied before espeak-ng so that the model hears the spoken
 * form it was trained on: titles (Dr., Mr., …), years, clock times, money, decimals,
 * thousands separators, ranges and letter-dotted acronyms. Written from the rules, not
 * from their code; peer-tested against kokoro-js (test/core/tts-kokoro-peer.test.ts).
 */

/** "1995" → "19 95", "1900" → "19 hundred", "1905" → "19 oh 5", "3:05" → "3 oh 5", "3:00" → "3 o'clock". */
function speakYearOrTime(match: string): string {
  if (match.includes(".")) return match; // decimals are handled later, as "point"
  const clock = /^(\d+):(\d+)$/.exec(match);
  if (clock) {
    const hours = Number(clock[1]);
    const minutes = Number(clock[2]);
    if (minutes === 0) return `${hours} o'clock`;
    return minutes < 10 ? `${hours} oh ${minutes}` : `${hours} ${minutes}`;
  }
  const year = parseInt(match.slice(0, 4), 10);
  // Years before 1100 and round millennia (2000–2009) are read as ordinary numbers.
  if (year < 1100 || year % 1000 < 10) return match;
  const century = match.slice(0, 2);
  const rest = parseInt(match.slice(2, 4), 10);
  const plural = match.endsWith("s") ? "s" : "";
  if (year % 1000 >= 100) {
    if (rest === 0) return `${century} hundred${plural}`;
    if (rest < 10) return `${century} oh ${rest}${plural}`;
  }
  return `${century} ${rest}${plural}`;
}

/** "$5.50" → "5 dollars and 50 cents", "£1" → "1 pound", "$3 million" → "3 million dollars". */
function speakMoney(match: string): string {
  const dollars = match[0] === "$";
  const unit = dollars ? "dollar" : "pound";
  const amount = match.slice(1);
  if (Number.isNaN(Number(amount))) return `${amount} ${unit}s`; // "5 million" and the like
  if (!amount.includes(".")) return `${amount} ${unit}${amount === "1" ? "" : "s"}`;
  const [whole, fraction] = amount.split(".");
  const small = parseInt(fraction.padEnd(2, "0"), 10);
  const smallUnit = dollars ? (small === 1 ? "cent" : "cents") : small === 1 ? "penny" : "pence";
  return `${whole} ${unit}${whole === "1" ? "" : "s"} and ${small} ${smallUnit}`;
}

/** "3.14" → "3 point 1 4". */
function speakDecimal(match: string): string {
  const [whole, fraction] = match.split(".");
  return `${whole} point ${fraction.split("").join(" ")}`;
}

/** Rewrites in order; each step sees the previous one's output (the order is part of the rule set). */
const STEPS: [RegExp, string | ((match: string) => string)][] = [
  // Typographic quotes and brackets to the symbols Kokoro's vocabulary has.
  [/[‘’]/g, "'"],
  [/«/g, "“"],
  [/»/g, "”"],
  [/[“”]/g, '"'],
  [/\(/g, "«"],
  [/\)/g, "»"],
  // Full-width CJK punctuation to ASCII followed by a space.
  [/、/g, ", "],
  [/。/g, ". "],
  [/！/g, "! "],
  [/，/g, ", "],
  [/：/g, ": "],
  [/；/g, "; "],
  [/？/g, "? "],
  // Whitespace: tabs etc. to spaces, runs of spaces to one, spaces on blank lines removed.
  [/[^\S \n]/g, " "],
  [/ {2,}/g, " "],
  [/(?<=\n) +(?=\n)/g, ""],
  // Titles and abbreviations.
  [/\bD[Rr]\.(?= [A-Z])/g, "Doctor"],
  [/\b(?:Mr\.|MR\.(?= [A-Z]))/g, "Mister"],
  [/\b(?:Ms\.|MS\.(?= [A-Z]))/g, "Miss"],
  [/\b(?:Mrs\.|MRS\.(?= [A-Z]))/g, "Mrs"],
  [/\betc\.(?! [A-Z])/gi, "etc"],
  [/\b(y)eah?\b/gi, "$1e'a"],
  // Numbers: years and clock times, thousands separators, money, decimals, ranges.
  [/\d*\.\d+|\b\d{4}s?\b|(?<!:)\b(?:[1-9]|1[0-2]):[0-5]\d\b(?!:)/g, speakYearOrTime],
  [/(?<=\d),(?=\d)/g, ""],
  [/[$£]\d+(?:\.\d+)?(?: hundred| thousand| (?:[bm]|tr)illion)*\b|[$£]\d+\.\d\d?\b/gi, speakMoney],
  [/\d*\.\d+/g, speakDecimal],
  [/(?<=\d)-(?=\d)/g, " to "],
  [/(?<=\d)S/g, " S"],
  // Plurals and possessives of capitalised acronyms ("CDs", "NASA's").
  [/(?<=[BCDFGHJ-NP-TV-Z])'?s\b/g, "'S"],
  [/(?<=X')S\b/g, "s"],
  // Dotted acronyms: "U.S.A. is" → "U-S-A- is", "U.S" → "U-S".
  [/(?:[A-Za-z]\.){2,} [a-z]/g, (m) => m.replace(/\./g, "-")],
  [/(?<=[A-Z])\.(?=[A-Z])/gi, "-"],
];

export function normalizeEnglish(text: string): string {
  let out = text;
  for (const [pattern, replacement] of STEPS) {
    out = typeof replacement === "string" ? out.replace(pattern, replacement) : out.replace(pattern, replacement);
  }
  return out.trim();
}
