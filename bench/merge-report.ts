/**
 * `npm run bench -- --only <part> --merge`: puts freshly measured sections into the existing
 * bench/RESULTS.md instead of overwriting it, so one part can be re-measured without rerunning
 * the slow ones (the LLM cases take most of an hour). The file's header (the full run's command,
 * machine and load) and every other result section stay as they were; each replaced section
 * starts with a line that says when and how it was measured; the notes are re-read from
 * bench/NOTES.md.
 */

interface Section {
  title: string;
  body: string;
}

/** Splits a report at its "## " headings: the text before the first one, then the sections in order. */
function splitSections(markdown: string): { head: string; sections: Section[] } {
  const lines = markdown.split("\n");
  const head: string[] = [];
  const sections: Section[] = [];
  for (const line of lines) {
    if (line.startsWith("## ")) sections.push({ title: line.slice(3).trim(), body: "" });
    else if (sections.length === 0) head.push(line);
    else sections[sections.length - 1].body += line + "\n";
  }
  return { head: head.join("\n").trimEnd(), sections };
}

/**
 * The merged report. `resultTitles` tells result sections (kept or replaced) from the notes'
 * own "## " headings (replaced by `notes` wholesale); `fresh` maps titles to new markdown.
 */
export function mergeReport(previous: string, notes: string, resultTitles: string[], fresh: Record<string, string>, stamp: string): string {
  const { head, sections } = splitSections(previous);
  const kept = sections.filter((s) => resultTitles.includes(s.title));
  const parts = [head, ""];
  if (notes) parts.push(notes, "");
  const render = (title: string, body: string) => parts.push(`## ${title}`, "", body.trim(), "");
  for (const section of kept) {
    if (section.title in fresh) render(section.title, `${stamp}\n\n${fresh[section.title]}`);
    else render(section.title, section.body);
  }
  for (const [title, body] of Object.entries(fresh)) {
    if (!kept.some((s) => s.title === title)) render(title, `${stamp}\n\n${body}`);
  }
  return parts.join("\n");
}

/** Sections other tools write into RESULTS.md (`npm run soak`): a bench report keeps them as they were. */
export const FOREIGN_TITLES = ["Soak"];

/** `report` with the FOREIGN_TITLES sections of `previous` (when it has them) added at its end. */
export function keepForeignSections(previous: string, report: string): string {
  const have = new Set(splitSections(report).sections.map((s) => s.title));
  const carried = splitSections(previous).sections.filter((s) => FOREIGN_TITLES.includes(s.title) && !have.has(s.title));
  return [report.trimEnd(), ...carried.map((s) => `\n## ${s.title}\n${s.body.trimEnd()}`)].join("\n");
}
