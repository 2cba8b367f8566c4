/**
 * Short status texts for errors. A node's status line has room for about 30 characters
 * ("no audio device", "offline: model not cached"); the error itself keeps the whole reason
 * (what failed, the tool's own words, what to do) for the Catch node and the debug sidebar.
 * Errors that know their short form carry it as `statusText`; others are cut at a word.
 */
export const STATUS_TEXT_MAX = 32;

export interface StatusTextError extends Error {
  statusText?: string;
}

/** Attaches the short status text to `err` and returns it (for `throw withStatusText(new Error(…), "…")`). */
export function withStatusText<E extends Error>(err: E, text: string): E & StatusTextError {
  (err as E & StatusTextError).statusText = text;
  return err as E & StatusTextError;
}

/** The status text for `err`: its own short form, else its message's first clause, cut to fit. */
export function statusTextOf(err: unknown): string {
  const own = (err as StatusTextError | undefined)?.statusText;
  if (typeof own === "string" && own.trim()) return fit(own.trim());
  const message = err instanceof Error ? err.message : String(err);
  return fit(message.split(/[:;(\n]/)[0].trim() || message.trim() || "error");
}

function fit(text: string): string {
  if (text.length <= STATUS_TEXT_MAX) return text;
  const cut = text.slice(0, STATUS_TEXT_MAX - 1);
  const space = cut.lastIndexOf(" ");
  return (space > STATUS_TEXT_MAX / 2 ? cut.slice(0, space) : cut) + "…";
}

/** Why a player or recorder process gave up, from its exit and the end of its stderr. */
export function deviceFailureText(role: "player" | "recorder", signal: NodeJS.Signals | null, stderr: string): string {
  if (/unknown pcm|audio open error|no such (file or )?device|cannot open|no soundcards|connection refused|host is down|no default|device or resource busy/i.test(stderr)) {
    return role === "player" ? "no audio device" : "no microphone";
  }
  if (signal && signal !== "SIGTERM" && signal !== "SIGKILL") return `audio ${role} crashed (${signal})`;
  return `audio ${role} failed`;
}
