/**
 * Compares two V8 heap snapshots (`v8.writeHeapSnapshot`, e.g. from `npm run soak -- --only turn
 * --heap-snapshots 5,30`): live objects by constructor (node type + name), count and self size,
 * largest growth first. For finding what a long stream keeps.
 *
 *   node dist/bench/heap-diff.js early.heapsnapshot late.heapsnapshot [--top 30]
 */
import * as fs from "fs";

interface Totals {
  count: number;
  bytes: number;
}

/** Count and self size of every object group ("type:name", strings and arrays grouped by type). */
export function groupSnapshot(file: string): Map<string, Totals> {
  const snapshot = JSON.parse(fs.readFileSync(file, "utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: (string[] | string)[] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const typeNames = snapshot.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const groups = new Map<string, Totals>();
  const nodes = snapshot.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = typeNames[nodes[i + typeAt]];
    // Strings, numbers and code are grouped by type alone: their names are their contents.
    const key = type === "object" || type === "closure" || type === "native" ? `${type}:${snapshot.strings[nodes[i + nameAt]]}` : type;
    const g = groups.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += nodes[i + sizeAt];
    groups.set(key, g);
  }
  return groups;
}

function main(): void {
  const args = process.argv.slice(2);
  const topAt = args.indexOf("--top");
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 30;
  const [early, late] = args;
  if (!early || !late) throw new Error("usage: heap-diff.js early.heapsnapshot late.heapsnapshot [--top N]");
  const a = groupSnapshot(early);
  const b = groupSnapshot(late);
  const total = (m: Map<string, Totals>) => [...m.values()].reduce((s, g) => ({ count: s.count + g.count, bytes: s.bytes + g.bytes }), { count: 0, bytes: 0 });
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((key) => {
    const x = a.get(key) ?? { count: 0, bytes: 0 };
    const y = b.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: y.count - x.count, bytes: y.bytes - x.bytes, before: x, after: y };
  });
  rows.sort((p, q) => q.bytes - p.bytes);
  const kib = (n: number) => (n / 1024).toFixed(1);
  const ta = total(a);
  const tb = total(b);
  console.log(`total: ${ta.count} → ${tb.count} objects, ${kib(ta.bytes)} → ${kib(tb.bytes)} KiB (${tb.bytes - ta.bytes >= 0 ? "+" : ""}${kib(tb.bytes - ta.bytes)} KiB)`);
  console.log("Δ KiB\tΔ count\tbefore (count / KiB)\tafter (count / KiB)\tgroup");
  for (const r of rows.slice(0, top)) console.log(`${kib(r.bytes)}\t${r.count}\t${r.before.count} / ${kib(r.before.bytes)}\t${r.after.count} / ${kib(r.after.bytes)}\t${r.key}`);
}

if (require.main === module) main();
