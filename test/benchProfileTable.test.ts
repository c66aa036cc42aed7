// The README's profile tables (bench/profileSummary.ts) from a small fixture of two runs: each
// layer name of GoogLeNet's kind lands in its class, the totals add the rows' causes, a class's
// cause is its largest sum, skipped configurations are listed once per runtime and reason; and the
// README's section is what `npm run bench:profile:table` writes from its marker's files.

import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ProfileReport, ProfileRow } from "../bench/profileCore.js";
import { classTable, layerClass, profileSection, totalsTable, type ProfileRuns } from "../bench/profileSummary.js";
import { projectRoot } from "../src/node/weights.js";

const run = promisify(execFile);

const step = (layer: string, kernel: string, causes: ProfileRow["causes"]): ProfileRow => {
  const ms = Object.values(causes).reduce((a, x) => a + (x ?? 0), 0);
  return { layer, kernel, ms, gflops: 0, ofPeak: 0, causes, dominant: "" };
};

function report(runtime: string, precision: string, threads: number, rows: ProfileRow[]): ProfileReport {
  return {
    runtime,
    cpu: "Test CPU",
    date: "2026-12-07T07:00:00.000Z",
    build: "relaxed",
    kernels: "build/",
    tile: "6x8",
    tileReason: "requested",
    precision,
    clock: "cpu",
    rounds: 3,
    threads,
    registerPeakGflops: 50,
    registerPeakSamples: [50, 49, 48],
    tileL1Gflops: 45,
    totalMs: rows.reduce((a, r) => a + r.ms, 0),
    gflops: 30,
    ofPeak: 0.6,
    byCause: {},
    memoryMs: 0.1,
    memoryBytes: 1 << 20,
    rows,
  };
}

const FIXTURE: ProfileRuns = {
  kind: "profiles",
  schema: 1,
  date: "2026-12-07T07:00:00.000Z",
  cpu: "Test CPU",
  cores: 2,
  command: "npm run bench:profile -- --rounds 3",
  runs: [
    {
      runtime: "node20",
      precision: "strict",
      seconds: 4.2,
      file: "bench/results/a.json",
      report: report("node 20.20.2", "strict", 1, [
        step("conv1/7x7_s2", "gemmConv", { compute: 8, loads: 1, packing: 2 }),
        step("pool1/3x3_s2", "maxPool", { other: 0.5 }),
        step("inception_3a/3x3", "gemmConv", { compute: 4, loads: 1 }),
        step("inception_3b/3x3", "gemmConv", { compute: 1, loads: 5 }),
        step("loss3/classifier", "fullyConnected", { other: 0.25 }),
        step("prob", "softmax", { other: 0.25 }),
      ]),
    },
    {
      runtime: "deno",
      precision: "fast",
      seconds: 6.8,
      file: "bench/results/b.json",
      report: report("deno 2.9.6", "fast", 2, [
        step("conv1/7x7_s2", "gemmConv", { compute: 8, loads: 9, packing: 2, sync: 1 }),
        step("inception_3a/3x3", "winogradConv", { compute: 2, loads: 1, transforms: 4, sync: 0.5 }),
      ]),
    },
  ],
  skipped: [
    { runtime: "workerd", precision: "strict", reason: "its clock stands still" },
    { runtime: "workerd", precision: "fast", reason: "its clock stands still" },
  ],
};

test("every kind of GoogLeNet layer lands in its class", () => {
  const cases: [string, string, string][] = [
    ["conv1/7x7_s2", "gemmConv", "conv1"],
    ["conv2/3x3_reduce", "gemmDense", "3x3/5x5 reduce"],
    ["conv2/3x3", "gemmConv", "3x3"],
    ["inception_4a/3x3", "winogradConv", "3x3"],
    ["inception_4a/5x5", "gemmConv", "5x5"],
    ["inception_4a/5x5_reduce", "gemmDense", "3x3/5x5 reduce"],
    ["inception_4a/1x1", "gemmDense", "1x1"],
    ["inception_4a/pool_proj", "gemmDense", "1x1"],
    ["inception_4a/pool", "maxPool", "pooling"],
    ["pool5/7x7_s1", "avgPool", "pooling"],
    ["conv2/norm2", "lrn", "LRN"],
    ["loss3/classifier", "fullyConnected", "FC"],
    ["prob", "softmax", "FC"],
    ["concat_x", "concat", "other"],
  ];
  for (const [layer, kernel, cls] of cases) assert.is(layerClass({ layer, kernel }), cls, layer);
});

test("the totals table: the rows' causes summed, a cause no row has as -, sync at N threads in the mode", () => {
  const lines = totalsTable(FIXTURE.runs.map((r) => r.report)).split("\n");
  assert.is(lines.length, 4, "header, rule, two runs");
  assert.is(
    lines[2],
    "| node 20.20.2 (relaxed, cpu clock) | strict, 1 thread | 23.0 | 0.60 | 50.0 | 6x8 (45.0) | 13.0 | 7.0 | 2.0 | - | - | 1.0 |",
  );
  assert.is(
    lines[3],
    "| deno 2.9.6 (relaxed, cpu clock) | fast, 1 thread, sync at 2 | 27.5 | 0.60 | 50.0 | 6x8 (45.0) | 10.0 | 10.0 | 2.0 | 4.0 | 1.5 | - |",
  );
});

test("the class table: each class's ms and its largest summed cause; a class no run has is left out", () => {
  const lines = classTable(FIXTURE.runs.map((r) => r.report)).split("\n");
  assert.is(
    lines[0],
    "| runtime | mode | conv1 ms, cause | 3x3 ms, cause | pooling ms, cause | FC ms, cause |",
    "only the classes present",
  );
  // 3x3 on Node: compute 4 + 1 = 5 against loads 1 + 5 = 6, though compute dominates one of its two steps.
  assert.is(
    lines[2],
    "| node 20.20.2 (relaxed, cpu clock) | strict, 1 thread | 11.0 compute | 11.0 loads | 0.5 other | 0.5 other |",
  );
  assert.is(
    lines[3],
    "| deno 2.9.6 (relaxed, cpu clock) | fast, 1 thread, sync at 2 | 20.0 loads | 7.5 transforms | - | - |",
  );
});

test("the section: CPU, date, command and seconds per run, both tables, a skipped runtime once per reason", () => {
  const text = profileSection(FIXTURE);
  assert.match(
    text,
    /^Test CPU, 2026-12-07: `npm run bench:profile -- --rounds 3` \(node20 strict 4 s, deno fast 7 s\)/,
  );
  assert.ok(text.includes("| runtime | mode | total ms |"), "the totals table");
  assert.ok(text.includes("| runtime | mode | conv1 ms, cause |"), "the class table");
  assert.ok(text.endsWith("\n- not profiled: workerd (strict, fast): its clock stands still"), text);
});

test("the README's profile section is what bench:profile:table writes from its marker's files", async () => {
  const script = join(projectRoot(), "dist", "bench", "profileReadme.js");
  const { stdout } = await run(process.execPath, [script, "--check"]).catch((e: { stdout: string }) => ({
    stdout: e.stdout,
  }));
  assert.match(stdout, /^README's profile tables are their files'/, stdout);
});

test.run();
