// Issue 20's targets table and the fraction of the peak-bound time, from a hand-made report whose
// figures are chosen so every cell is known: each target met in one runtime and missed in the
// other, a missing engine ("-"), the within-Node targets "n/a" on Node, and a row without a peak.

import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Precision } from "../bench/childCore.js";
import type { EngineName } from "../bench/engines.js";
import type { ResultRow, SuiteReport } from "../bench/report.js";
import { ofPeakBound, targetsTable } from "../bench/table.js";

/** A row with only what the targets read: the batch-1 median and GFLOP/s, and the peak if given. */
function row(
  runtime: string,
  engine: EngineName,
  threads: number,
  medianMs: number,
  precision?: Precision,
  peak?: number,
): ResultRow {
  const gflops = (2 * 1_582_671_872) / (medianMs * 1e6);
  return {
    runtime,
    engine,
    precision,
    threads,
    figures: { batches: { "1": { medianMs, minMs: medianMs, imagesPerSecond: 1000 / medianMs, gflops } } },
    ...(peak ? { registerPeak: { build: "baseline", gflops: peak } } : {}),
  } as unknown as ResultRow;
}

/** inception-wasm's four configurations in one runtime. */
const ours = (rt: string, strict1: number, fast1: number, strict2: number, fast2: number, peak?: number) => [
  row(rt, "inception-wasm", 1, strict1, "strict", peak),
  row(rt, "inception-wasm", 1, fast1, "fast", peak),
  row(rt, "inception-wasm", 2, strict2, "strict", peak),
  row(rt, "inception-wasm", 2, fast2, "fast", peak),
];

const report = {
  settings: { runtimes: ["node20", "deno"], threads: [1, 2], precisions: ["strict", "fast"] },
  results: [
    // Node 20: every target met (ort-web 2.5x, LiteRT 2x, fast 0.8 of ort-node, scaling 2.0).
    ...ours("node20", 80, 40, 40, 20, 50),
    row("node20", "ort-web", 1, 200),
    row("node20", "litert", 1, 160),
    row("node20", "ort-node", 1, 50),
    // Deno: every target missed, LiteRT not measured, no peak.
    ...ours("deno", 100, 50, 80, 40),
    row("deno", "ort-web", 1, 150),
    row("deno", "ort-node", 1, 40),
  ],
} as unknown as SuiteReport;

test("ofPeakBound: the network's GFLOP/s over threads x the one-thread peak; NaN without a peak", () => {
  const strict1 = report.results[0];
  // 2 x 1.5827e9 flops in 80 ms = 39.57 GFLOP/s, over a 50 GFLOP/s peak.
  assert.ok(Math.abs(ofPeakBound(strict1) - 39.5667968 / 50) < 1e-6, String(ofPeakBound(strict1)));
  const strict2 = report.results[2];
  assert.ok(Math.abs(ofPeakBound(strict2) - 79.1335936 / 100) < 1e-6, String(ofPeakBound(strict2)));
  assert.ok(Number.isNaN(ofPeakBound(report.results.find((r) => r.runtime === "deno")!)));
});

test("targetsTable: met and missed per runtime, '-' where an engine is missing, 'n/a' for Node's own rows", () => {
  const [head, rule, node20, deno] = targetsTable(report);
  assert.equal(head, [
    "runtime",
    "strict vs ort-web (>= 2.0)",
    "strict vs LiteRT.js (>= 1.5)",
    "fast / ort-node (<= 1.0)",
    "strict vs Node 20 (<= 1.15)",
    "fast vs Node 20 (<= 1.15)",
    "strict scaling (>= 1.9)",
    "fast scaling (>= 1.9)",
    "strict of peak-bound (>= 0.75)",
  ]);
  assert.equal(
    rule,
    head.map(() => "---"),
  );
  assert.equal(node20, [
    "node20",
    "2.50 met",
    "2.00 met",
    "0.80 met",
    "n/a",
    "n/a",
    "2.00 met",
    "2.00 met",
    "0.79 met",
  ]);
  assert.equal(deno, [
    "deno",
    "1.50 missed",
    "-",
    "1.25 missed",
    "1.25 missed",
    "1.25 missed",
    "1.25 missed",
    "1.25 missed",
    "-",
  ]);
});

test("targetsTable: a figure on its bound is met, for both senses", () => {
  const onBound = {
    ...report,
    settings: { ...report.settings, runtimes: ["node20"] },
    results: [
      ...ours("node20", 100, 50, 50, 25, 50),
      row("node20", "ort-web", 1, 200),
      row("node20", "litert", 1, 150),
      row("node20", "ort-node", 1, 50),
    ],
  } as SuiteReport;
  const cells = targetsTable(onBound)[2];
  assert.equal(cells.slice(1, 4), ["2.00 met", "1.50 met", "1.00 met"]);
});

test.run();
