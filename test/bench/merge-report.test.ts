/**
 * bench/RESULTS.md holds sections other tools write (`npm run soak`'s "## Soak"): a bench run,
 * full or merged, must keep them instead of silently dropping what took an hour to measure.
 */
import { strict as assert } from "assert";
import { keepForeignSections, keepHandWritten, mergeReport } from "../../bench/merge-report";
import { parseBenchOptions } from "../../bench/options";

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

describe("bench report: a part measured in pieces (--hands-free-parts)", () => {
  const before = [
    "# Results",
    "",
    "## Hands-free",
    "",
    "Settings line.",
    "",
    "### Wake word scores on the speech clips",
    "",
    "clip table",
    "",
    "### False wakes per hour over 1.02 h of other speech",
    "",
    "old false wakes",
    "",
    "### Wake latency (16 trials)",
    "",
    "old latency",
    "",
  ].join("\n");

  it("replaces only the subsections it measured (matched up to the first figure or bracket), each stamped; keeps the rest", () => {
    const fresh = "Fresh settings.\n\n### False wakes per hour over 1.00 h of other speech\n\nnew false wakes\n\n### A verifier (new)\n\nverifier rows\n";
    const merged = mergeReport(before, "", ["Hands-free"], { "Hands-free": fresh }, "stamp", ["Hands-free"]);
    assert.match(merged, /## Hands-free\n\nSettings line\.\n\n### Wake word scores on the speech clips\n\nclip table\n\n### False wakes per hour over 1\.00 h of other speech\n\nstamp\n\nnew false wakes\n\n### Wake latency \(16 trials\)\n\nold latency\n\n### A verifier \(new\)\n\nstamp\n\nverifier rows/);
    assert.doesNotMatch(merged, /old false wakes|Fresh settings/);
    assert.equal(merged.match(/^### False wakes/gm)?.length, 1);
  });

  it("without the partial flag the whole section is replaced, as before", () => {
    const merged = mergeReport(before, "", ["Hands-free"], { "Hands-free": "### Wake latency\n\nnew" }, "stamp");
    assert.match(merged, /## Hands-free\n\nstamp\n\n### Wake latency\n\nnew/);
    assert.doesNotMatch(merged, /clip table/);
  });
});

describe("bench options: --hands-free-parts", () => {
  it("picks pieces of part handsfree (all by default); an unknown piece is a clear error", () => {
    assert.deepEqual(parseBenchOptions([], "out").handsFreePieces, ["clips", "false-wakes", "trials", "barge"]);
    assert.deepEqual(parseBenchOptions(["--only", "handsfree", "--hands-free-parts", "trials, false-wakes"], "out").handsFreePieces, ["trials", "false-wakes"]);
    assert.throws(() => parseBenchOptions(["--hands-free-parts", "latency"], "out"), /unknown --hands-free-parts piece 'latency'/);
  });
});

describe("bench report: hand-written notes inside a result section", () => {
  const note = "<!-- hand-written -->\n- Why the row moved: the machine drifted.\n<!-- /hand-written -->";
  const before = ["# Results", "", "## TTS", "", "old table", "", note, "", "## Soak", "", "soak table", ""].join("\n");

  it("a re-measured section keeps its hand-written block at its end, once", () => {
    const merged = keepHandWritten(before, mergeReport(before, "", ["TTS"], { TTS: "new table" }, "stamp"));
    assert.match(merged, /## TTS\n\nstamp\n\nnew table\n\n<!-- hand-written -->\n- Why the row moved: the machine drifted.\n<!-- \/hand-written -->/);
    assert.doesNotMatch(merged, /old table/);
    assert.equal(merged.split("Why the row moved").length - 1, 1);
    // Run again on its own output: still once.
    const again = keepHandWritten(merged, mergeReport(merged, "", ["TTS"], { TTS: "newer table" }, "stamp 2"));
    assert.equal(again.split("Why the row moved").length - 1, 1);
    assert.match(again, /newer table/);
  });

  it("a full report keeps the blocks of the sections it writes anew; an unclosed marker carries nothing", () => {
    const full = keepHandWritten(before, "# Results\n\n## TTS\n\nfresh table\n");
    assert.match(full, /fresh table\n\n<!-- hand-written -->/);
    const unclosed = "# R\n\n## TTS\n\nold\n\n<!-- hand-written -->\nhalf a note\n";
    assert.equal(keepHandWritten(unclosed, "# R\n\n## TTS\n\nfresh\n"), "# R\n\n## TTS\n\nfresh");
  });
});
