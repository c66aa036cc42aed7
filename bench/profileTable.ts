// Kernel by kernel across runtimes: reads bench:profile JSON reports (one per runtime, e.g.
// bench/results/*-profile.json) and prints, per runtime, the time of each kind of work summed over
// the network's steps, and the ratio of each to the first report's.
//
//   node dist/bench/profileTable.js FILE...

import { readFileSync } from "node:fs";
import type { Causes } from "./profileCauses.js";

interface Report {
  runtime: string;
  cpu: string;
  build: string;
  tile: string;
  clock: string;
  threads: number;
  registerPeakGflops: number;
  tileL1Gflops: number;
  totalMs: number;
  memoryMs: number;
  pool?: { startMs: number; stagesMs: number; idleShare: number };
  rows: { kernel: string; ms: number; causes: Causes }[];
}

const files = process.argv.slice(2);
if (files.length === 0) throw new Error("usage: profile-table FILE... (bench:profile --json reports)");
const reports = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as Report);

/** The columns: a label and the figure of a report. */
const sum = (r: Report, pick: (row: Report["rows"][number]) => number): number =>
  r.rows.reduce((a, row) => a + pick(row), 0);
const gemm = (row: Report["rows"][number]): boolean => row.kernel.startsWith("gemm") || row.kernel === "winogradConv";
const columns: [string, (r: Report) => number | undefined, number][] = [
  ["register peak GF/s", (r) => r.registerPeakGflops, 1],
  ["tile L1 GF/s", (r) => r.tileL1Gflops, 1],
  ["GEMM kernel ms", (r) => sum(r, (x) => (gemm(x) ? (x.causes.compute ?? 0) + (x.causes.loads ?? 0) : 0)), 1],
  ["packing ms", (r) => sum(r, (x) => (x.causes.packing ?? 0) + (x.causes.transforms ?? 0)), 2],
  ...(["maxPool", "avgPool", "lrn", "fullyConnected", "softmax"] as const).map(
    (k): [string, (r: Report) => number, number] => [`${k} ms`, (r) => sum(r, (x) => (x.kernel === k ? x.ms : 0)), 2],
  ),
  ["total ms", (r) => r.totalMs, 1],
  ["memory ms", (r) => r.memoryMs, 2],
  ["pool start ms", (r) => r.pool?.startMs, 1],
  ["idle at N thr", (r) => r.pool?.idleShare, 2],
];
console.log(
  `| ${["runtime (build, tile, clock)", ...columns.map(([c]) => c)].join(" | ")} |\n|${" --- |".repeat(columns.length + 1)}`,
);
const base = reports[0];
for (const r of reports) {
  const cells = columns.map(([, of, digits]) => {
    const v = of(r),
      b = of(base);
    if (v === undefined) return "-";
    return r === base || b === undefined || b === 0
      ? v.toFixed(digits)
      : `${v.toFixed(digits)} (${(v / b).toFixed(2)})`;
  });
  console.log(`| ${[`${r.runtime} (${r.build}, ${r.tile}, ${r.clock})`, ...cells].join(" | ")} |`);
}
console.log(`\n${base.cpu}; ratios to ${base.runtime}; N = ${reports.map((r) => r.threads).join(", ")}`);
