// The comparison suite as CI runs it: `bench --quick --json` in a child process finishes within
// a minute and prints (and writes) a report in which every engine and thread count is either
// measured, with positive figures and ratios to inception-wasm, or reported as not measured.
// Then a Deno smoke: the same suite with its engine children under Deno ($INCEPTION_WASM_BENCH_RUNTIME).

import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RUNTIME_ENV, type SuiteReport } from "../bench/suite.js";

const compare = join(fileURLToPath(new URL(".", import.meta.url)), "..", "bench", "compare.js");
const run = promisify(execFile);
const LIMIT_MS = 60_000;

/** Every number reachable in `value`, with its path. */
function numbers(value: unknown, path: string): [string, number][] {
  if (typeof value === "number") return [[path, value]];
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => numbers(v, `${path}.${k}`));
  return [];
}

/**
 * Runs `bench --quick --json` against `engines` at `threads` (children under `runtime`), checks
 * the report and the files written, and returns the report and the JSON file's name.
 */
async function quickSuite(
  runtime: "node" | "deno",
  engines: string[],
  threads: number[],
  batches: number[],
): Promise<{ report: SuiteReport; json: string }> {
  const out = await mkdtemp(join(tmpdir(), "inception-wasm-bench-"));
  try {
    const t0 = performance.now();
    const { stdout } = await run(
      process.execPath,
      [
        compare,
        "--quick",
        "--json",
        "--vs",
        engines.join(","),
        "--threads",
        threads.join(","),
        "--batch",
        batches.join(","),
        "--out",
        out,
      ],
      { maxBuffer: 1 << 24, env: { ...process.env, [RUNTIME_ENV]: runtime } },
    );
    const ms = performance.now() - t0;
    console.log(`\nbench --quick (${runtime}) took ${(ms / 1000).toFixed(1)} s`);
    assert.ok(ms < LIMIT_MS, `bench --quick took ${ms} ms, more than ${LIMIT_MS}`);

    const report = JSON.parse(stdout) as SuiteReport;
    assert.is(report.schema, 1);
    assert.is(report.quick, true);
    assert.ok(report.machine.cores >= 1 && report.machine.cpu.length > 0);
    assert.match(report.runtime, new RegExp(`^${runtime} \\d`));
    assert.is(report.runtime, `${runtime} ${report.versions[runtime]}`);
    assert.ok(report.versions["inception-wasm"] && report.versions.v8);
    assert.is(report.model.multiplyAdds, 1_582_671_872);
    assert.equal(report.settings.batches, batches);

    for (const t of threads) {
      const iw = report.results.find((r) => r.engine === "inception-wasm" && r.threads === t);
      assert.ok(iw, `inception-wasm ${t} thread(s) measured`);
      for (const [path, x] of numbers(iw.ratios, "ratios"))
        assert.ok(Math.abs(x - 1) < 1e-12, `inception-wasm ${path} = ${x}, expected 1`);
      assert.is(iw.accuracy.maxAbsProbDiff, 0, "inception-wasm gives the same bits at every thread count");
      for (const engine of engines) {
        const row = report.results.find((r) => r.engine === engine && r.threads === t);
        const missing = report.unavailable.find((u) => u.engine === engine && u.threads === t);
        assert.ok(Boolean(row) !== Boolean(missing), `${engine} ${t}: measured or reported not measured (exactly one)`);
        if (missing) assert.ok(missing.reason.length > 0, `${engine} ${t}: a reason`);
      }
    }
    for (const row of report.results) {
      const what = `${row.engine} ${row.threads}`;
      for (const b of batches) {
        assert.ok(row.figures.batches[b] && row.ratios.batches[b], `${what}: batch ${b} figures and ratios`);
        assert.ok(row.runs[b] >= 1, `${what}: timed runs at batch ${b}`);
      }
      const figures = numbers(row.figures, "figures"),
        ratios = numbers(row.ratios, "ratios");
      assert.equal(
        ratios.map(([p]) => p.replace(/^ratios/, "")),
        figures.map(([p]) => p.replace(/^figures/, "")),
        `${what}: a ratio for every figure`,
      );
      for (const [path, x] of [...figures, ...ratios])
        assert.ok(Number.isFinite(x) && x > 0, `${what}: ${path} = ${x}, expected a positive number`);
      assert.ok(row.binary.bytes > 0 && row.binary.name.length > 0, `${what}: binary size`);
      assert.ok(
        row.accuracy.maxAbsProbDiff >= 0 && row.accuracy.maxAbsProbDiff < 1e-3,
        `${what}: max |dprob| ${row.accuracy.maxAbsProbDiff}`,
      );
      assert.is(row.accuracy.top5.length, 5);
      assert.type(row.accuracy.top5Agree, "boolean");
      assert.type(row.disturbed, "boolean");
    }

    const files = (await readdir(out)).sort();
    assert.is(files.length, 2, `JSON and SVG written: ${files.join(", ")}`);
    const json = files.find((f) => f.endsWith(`-${runtime}${report.versions[runtime]}-quick.json`));
    assert.ok(json, `the JSON's name gives the runtime: ${files.join(", ")}`);
    assert.equal(JSON.parse(await readFile(join(out, json), "utf8")), report, "the written JSON is the printed one");
    const svg = await readFile(join(out, json.replace(/\.json$/, ".svg")), "utf8");
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.includes(report.runtime), "the chart names the runtime");
    for (const row of report.results)
      assert.ok(svg.includes(`${row.engine}, ${row.threads} thread`), `chart row for ${row.engine} ${row.threads}`);
    return { report, json };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

test("bench --quick --json: a valid report within a minute", async () => {
  const { report } = await quickSuite("node", ["ort-web", "tfjs-wasm", "ort-node"], [1, 2], [1, 8]);
  assert.is(report.versions.node, process.versions.node, "the children run this Node");
  assert.is(report.versions.harness, undefined);
});

test("bench --quick under Deno: the engine children run in Deno", async () => {
  const { report } = await quickSuite("deno", ["ort-node"], [1], [1]);
  assert.ok(report.versions.deno, "Deno's version");
  assert.is(report.versions.harness, `node ${process.versions.node}`, "the suite process's Node");
});

test.run();
