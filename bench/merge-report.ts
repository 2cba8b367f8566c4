/**
 * `npm run bench -- --only <part> --merge`: puts freshly measured sections into the existing
 * bench/RESULTS.md instead of overwriting it, so one part can be re-measured without rerunning
 * the slow ones (the LLM cases take most of an hour). The file's header (the full run's command,
 * machine and load) and every other result section stay as they were; each replaced section
 * starts with a line that says when and how it was measured; the notes are re-read from
 * bench/NOTES.md. Text someone wrote into a section by hand goes between HAND_WRITTEN markers
 * (HTML comments, invisible on the page): a re-measured section keeps those blocks at its end.
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
export function mergeReport(previous: string, notes: string, resultTitles: string[], fresh: Record<string, string>, stamp: string, partial: string[] = []): string {
  const { head, sections } = splitSections(previous);
  const kept = sections.filter((s) => resultTitles.includes(s.title));
  const parts = [head, ""];
  if (notes) parts.push(notes, "");
  const render = (title: string, body: string) => parts.push(`## ${title}`, "", body.trim(), "");
  for (const section of kept) {
    if (!(section.title in fresh)) render(section.title, section.body);
    else if (partial.includes(section.title)) render(section.title, mergeSubsections(section.body, fresh[section.title], stamp));
    else render(section.title, `${stamp}\n\n${fresh[section.title]}`);
  }
  for (const [title, body] of Object.entries(fresh)) {
    if (!kept.some((s) => s.title === title)) render(title, `${stamp}\n\n${body}`);
  }
  return parts.join("\n");
}

/** Marks text written by hand inside a result section (see withHandWritten). */
export const HAND_WRITTEN = { open: "<!-- hand-written -->", close: "<!-- /hand-written -->" } as const;

/** The hand-written blocks of a section body, markers included, in order. */
export function handWrittenBlocks(body: string): string[] {
  const blocks: string[] = [];
  let from = 0;
  for (;;) {
    const start = body.indexOf(HAND_WRITTEN.open, from);
    if (start < 0) return blocks;
    const end = body.indexOf(HAND_WRITTEN.close, start);
    if (end < 0) return blocks; // an unclosed marker keeps nothing rather than the rest of the section
    blocks.push(body.slice(start, end + HAND_WRITTEN.close.length));
    from = end + HAND_WRITTEN.close.length;
  }
}

/**
 * `report` (a full run's or a merged one) with every hand-written block of a `previous` section
 * that the same section of `report` lost added at that section's end.
 */
export function keepHandWritten(previous: string, report: string): string {
  const before = new Map(splitSections(previous).sections.map((s) => [s.title, handWrittenBlocks(s.body)]));
  const { head, sections } = splitSections(report);
  const parts = [head, ""];
  for (const section of sections) {
    const lost = (before.get(section.title) ?? []).filter((block) => !section.body.includes(block));
    parts.push(`## ${section.title}`, "", [section.body.trim(), ...lost].filter((p) => p !== "").join("\n\n"), "");
  }
  return parts.join("\n").trimEnd();
}

/**
 * What names a "### " subsection across runs: its title up to the first figure, bracket or
 * colon ("False wakes per hour over 1.02 h…" and "… over 1.05 h…" are the same subsection).
 */
export function subsectionKey(title: string): string {
  return title.split(/[0-9(:]/)[0].trim();
}

/**
 * A section body with the "### " subsections of `fresh` put in place of those of the same key
 * (each with `stamp` under its heading); new ones go at the end, the rest stays as it was,
 * including text before the first subsection. For a run that measured some pieces of a part.
 */
export function mergeSubsections(previousBody: string, fresh: string, stamp: string): string {
  const split = (body: string) => {
    const head: string[] = [];
    const subs: { title: string; body: string[] }[] = [];
    for (const line of body.split("\n")) {
      if (line.startsWith("### ")) subs.push({ title: line.slice(4).trim(), body: [] });
      else if (subs.length === 0) head.push(line);
      else subs[subs.length - 1].body.push(line);
    }
    return { head, subs };
  };
  const before = split(previousBody);
  const after = split(fresh);
  const used = new Set<number>();
  const render = (title: string, body: string[]) => [`### ${title}`, "", ...body].join("\n").trimEnd();
  const freshRender = (i: number) => {
    used.add(i);
    const f = after.subs[i];
    return render(f.title, [stamp, "", ...trimLines(f.body)]);
  };
  const out = [before.head.join("\n").trimEnd()];
  for (const sub of before.subs) {
    const i = after.subs.findIndex((f) => subsectionKey(f.title) === subsectionKey(sub.title));
    out.push(i >= 0 && !used.has(i) ? freshRender(i) : render(sub.title, trimLines(sub.body)));
  }
  after.subs.forEach((_, i) => {
    if (!used.has(i)) out.push(freshRender(i));
  });
  return out.filter((p) => p !== "").join("\n\n");
}

function trimLines(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a].trim() === "") a++;
  while (b > a && lines[b - 1].trim() === "") b--;
  return lines.slice(a, b);
}

/** Sections other tools write into RESULTS.md (`npm run soak`): a bench report keeps them as they were. */
export const FOREIGN_TITLES = ["Soak"];

/** `report` with the FOREIGN_TITLES sections of `previous` (when it has them) added at its end. */
export function keepForeignSections(previous: string, report: string): string {
  const have = new Set(splitSections(report).sections.map((s) => s.title));
  const carried = splitSections(previous).sections.filter((s) => FOREIGN_TITLES.includes(s.title) && !have.has(s.title));
  return [report.trimEnd(), ...carried.map((s) => `\n## ${s.title}\n${s.body.trimEnd()}`)].join("\n");
}
