/**
 * Shared by the fault corpus (test/nodes/faults-*.test.ts): a flow of one node under test,
 * helper nodes on its outputs, a Catch node scoped to it, and checks that a bad input gives a
 * clear error at the Catch node, nothing crashes (no uncaught exception or unhandled
 * rejection while the test runs), and the node still works for the next valid message.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { repoRoot } from "../helpers/paths";

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require("node-red-node-test-helper");
helper.init(require.resolve("node-red"));

const NODES = path.join(repoRoot(), "dist", "src", "nodes");

export type Msg = Record<string, unknown> & { payload?: unknown };

/** The compiled node module `name` ("tts-streamer", ...). */
export function nodeModule(name: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(NODES, `${name}.js`));
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const catchNode = require("@node-red/nodes/core/common/25-catch.js");

export interface Harness {
  /** The node under test. */
  node: { receive(msg: Msg): void; id: string };
  /** Messages per output of the node under test. */
  outputs: Msg[][];
  /** Messages the Catch node received. */
  caught: Msg[];
}

/**
 * Loads `extraNodes` (config nodes) and the node `under` (its wires are filled in) with
 * `outputCount` helper outputs and a Catch node scoped to it.
 */
export async function loadHarness(modules: unknown[], under: Record<string, unknown>, outputCount: number, extraNodes: Record<string, unknown>[] = []): Promise<Harness> {
  const outIds = Array.from({ length: outputCount }, (_, i) => `n_out${i}`);
  const flow = [
    ...extraNodes,
    { ...under, wires: outIds.map((id) => [id]) },
    ...outIds.map((id) => ({ id, type: "helper" })),
    { id: "n_catch", type: "catch", scope: [under.id], wires: [["n_caught"]] },
    { id: "n_caught", type: "helper" },
  ];
  await helper.load([...modules, catchNode], flow);
  const outputs = outIds.map(() => [] as Msg[]);
  outIds.forEach((id, i) => helper.getNode(id).on("input", (m: Msg) => outputs[i].push(m)));
  const caught: Msg[] = [];
  helper.getNode("n_caught").on("input", (m: Msg) => caught.push(m));
  return { node: helper.getNode(under.id as string), outputs, caught };
}

export async function waitFor(check: () => boolean, what = "the condition", ms = 20000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The error text a Catch node received. */
export const errorText = (m: Msg): string => String((m.error as { message?: string } | undefined)?.message ?? "");

/** Sends `msg` and waits for one more Catch message; returns its error text (checked against `expected`). */
export async function expectCaught(h: Harness, msg: Msg, expected: RegExp, ms = 20000): Promise<string> {
  const before = h.caught.length;
  h.node.receive(msg);
  await waitFor(() => h.caught.length > before, `an error at the Catch node for ${JSON.stringify(msg).slice(0, 80)}`, ms);
  const text = errorText(h.caught[before]);
  assert.match(text, expected);
  return text;
}

/** Lets pending work settle, then checks that no further error reached the Catch node. */
export async function expectNoMoreErrors(h: Harness, count: number, settleMs = 150): Promise<void> {
  await new Promise((r) => setTimeout(r, settleMs));
  assert.equal(h.caught.length, count, `unexpected errors: ${h.caught.slice(count).map(errorText).join(" | ")}`);
}

/** Records uncaught exceptions and unhandled rejections during each test; a test with any fails. */
export function watchCrashes(): void {
  const seen: unknown[] = [];
  const record = (err: unknown) => seen.push(err);
  beforeEach(() => {
    seen.length = 0;
    process.on("unhandledRejection", record);
  });
  afterEach(async () => {
    process.removeListener("unhandledRejection", record);
    await helper.unload();
    assert.deepEqual(seen.map((e) => (e instanceof Error ? e.message : String(e))), [], "nothing may crash or reject unhandled");
  });
}

/** A 1 MB string of plain words and sentences. */
export function megabyteText(): string {
  const sentence = "The quick brown fox jumps over the lazy dog again and again. ";
  return sentence.repeat(Math.ceil(1_048_576 / sentence.length)).slice(0, 1_048_576);
}
