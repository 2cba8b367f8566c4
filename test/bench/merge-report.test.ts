/**
 * bench/RESULTS.md holds sections other tools write (`npm run soak`'s "## Soak"): a bench run,
 * full or merged, must keep them instead of silently dropping what took an hour to measure.
 */
import { strict as assert } from "assert";
import { keepForeignSections, mergeReport } from "../../bench/merge-report";

const previous = ["# Results", "", "## TTS", "", "old tts", "", "## Soak", "", "soak table", "", "### 1-hour turn", "", "rss rows", ""].join("\n");

describe("bench report: sections of other tools", () => {
  it("a merged run keeps the Soak section (with its sub-headings) after replacing its own", () => {
    const merged = keepForeignSections(previous, mergeReport(previous, "", ["TTS"], { TTS: "new tts" }, "stamp"));
    assert.match(merged, /## TTS\n\nstamp\n\nnew tts/);
    assert.doesNotMatch(merged, /old tts/);
    assert.match(merged, /## Soak\n\nsoak table\n\n### 1-hour turn\n\nrss rows$/);
    assert.equal(merged.match(/^## Soak$/gm)?.length, 1);
  });

  it("a full report gains the previous Soak section; a report that has one keeps its own", () => {
    assert.match(keepForeignSections(previous, "# Results\n\n## TTS\n\nfresh\n"), /fresh\n\n## Soak\n\nsoak table/);
    const own = "# Results\n\n## Soak\n\nnewer soak\n";
    assert.equal(keepForeignSections(previous, own), own.trimEnd());
    assert.equal(keepForeignSections("", "# R\n"), "# R");
  });
});
