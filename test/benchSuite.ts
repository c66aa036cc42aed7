// The comparison suite's quick run as the bench tests check it: `bench --quick --json` in a child
// process prints (and writes) a report in which every (runtime, engine, precision, thread count) is
// either measured, with positive figures and ratios to inception-wasm (strict), or reported as not
// measured with a reason other than a package not installed; the JSON and SVG are written under
// the runtime set's name.

import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import type { Precision } from "../bench/childCore.js";
import type { SuiteReport } from "../bench/report.js";
import { engineLabel } from "../bench/table.js";

/** dist/bench. */
export const BENCH = join(fileURLToPath(new URL(".", import.meta.url)), "..", "bench");
export const run = promisify(execFile);
/** Per child process (configuration) of a quick run, loaded machine included. */
const LIMIT_PER_CHILD_MS = 15_000;

/** Every number reachable in `value`, with its path. */
function numbers(value: unknown, path: string): [string, number][] {
  if (typeof value === "number") return [[path, value]];
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => numbers(v, `${path}.${k}`));
  return [];
}

/**
 * Runs `bench --quick --json` over `runtimes` against `engines` at `threads` and `precisions`,
 * checks the report and the files written, and returns the report.
 */
export async function quickSuite(
  runtimes: string[],
  engines: string[],
  threads: number[],
  batches: number[],
  precisions: Precision[],
): Promise<SuiteReport> {
  const out = await mkdtemp(join(tmpdir(), "inception-wasm-bench-"));
  try {
    const children = runtimes.length * threads.length * (engines.length + precisions.length);
    const limit = children * LIMIT_PER_CHILD_MS;
    const t0 = performance.now();
    const args = [
      ...["--quick", "--json", "--runtimes", runtimes.join(","), "--precision", precisions.join(",")],
      ...["--vs", engines.join(","), "--threads", threads.join(","), "--batch", batches.join(","), "--out", out],
    ];
    const { stdout } = await run(process.execPath, [join(BENCH, "compare.js"), ...args], { maxBuffer: 1 << 24 });
    const ms = performance.now() - t0;
    console.log(`\nbench --quick over ${runtimes.join(", ")} (${children} children) took ${(ms / 1000).toFixed(1)} s`);
    assert.ok(ms < limit, `bench --quick took ${ms} ms, more than ${limit}`);

    const report = JSON.parse(stdout) as SuiteReport;
    assert.is(report.schema, 2);
    assert.is(report.quick, true);
    assert.ok(
      report.wallSeconds > 0 && report.wallSeconds * 1000 <= ms,
      `wallSeconds ${report.wallSeconds}: within the ${ms} ms the command took`,
    );
    assert.is(report.command, `npm run bench -- ${args.join(" ")}`);
    assert.ok(report.machine.cores >= 1 && report.machine.cpu.length > 0);
    assert.equal(
      report.runtimes.map((r) => r.id),
      runtimes,
    );
    assert.is(report.versions.harness, `node ${process.versions.node}`);
    assert.ok(report.versions["inception-wasm"]);
    assert.is(report.model.multiplyAdds, 1_582_671_872);
    assert.equal(report.settings.batches, batches);
    assert.equal(report.settings.precisions, precisions);

    for (const info of report.runtimes) {
      assert.ok(!info.unavailable, `${info.id} ran: ${info.unavailable}`);
      assert.ok(info.name && info.version && info.engine && info.command, `${info.id}: name, version, engine, command`);
      for (const t of threads) {
        const rows = report.results.filter((r) => r.runtime === info.id && r.threads === t);
        const iw = rows.find((r) => r.engine === "inception-wasm" && r.precision === "strict");
        assert.ok(iw, `${info.id}: inception-wasm (strict) ${t} thread(s) measured`);
        for (const [path, x] of numbers(iw.ratios, "ratios"))
          assert.ok(Math.abs(x - 1) < 1e-12, `${info.id}: inception-wasm ${path} = ${x}, expected 1`);
        assert.is(
          iw.accuracy.maxAbsProbDiff,
          0,
          `${info.id}: inception-wasm gives the same bits at every thread count`,
        );
        const wanted = [
          ...precisions.map((precision) => ({ engine: "inception-wasm", precision })),
          ...engines.map((engine) => ({ engine, precision: undefined })),
        ];
        for (const w of wanted) {
          const what = `${info.id}: ${engineLabel(w as never)} ${t}`;
          const same = (r: { runtime: string; engine: string; precision?: string; threads: number }) =>
            r.runtime === info.id && r.engine === w.engine && r.precision === w.precision && r.threads === t;
          const measured = report.results.filter(same).length;
          const missing = report.unavailable.filter(same);
          assert.is(measured + missing.length, 1, `${what}: measured or reported not measured (exactly one)`);
          if (missing.length) assert.ok(missing[0].reason.length > 0, `${what}: a reason`);
          // A package the suite compares with is provisioned (bench/package.json), never left out.
          if (missing.length)
            assert.not.match(missing[0].reason, / is not installed /, `${what}: ${missing[0].reason}`);
          if (missing.length && w.precision === "fast")
            assert.match(missing[0].reason, /precision/, `${what}: not measured because of the precision`);
        }
      }
    }
    for (const row of report.results) {
      const what = `${row.runtime}: ${engineLabel(row)} ${row.threads}`;
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
      for (const [path, x] of [...figures, ...ratios]) {
        // Chromium's child times the import of a bundle already in the HTTP cache: it may take 0 ms.
        const mayBeZero = row.runtime === "chromium" && path.endsWith("importMs");
        assert.ok(
          Number.isFinite(x) && (x > 0 || (mayBeZero && x === 0)),
          `${what}: ${path} = ${x}, expected a positive number`,
        );
      }
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
    const json = files.find((f) => f.endsWith(`-${runtimes.join("-")}-quick.json`));
    assert.ok(json, `the JSON's name gives the runtime set: ${files.join(", ")}`);
    assert.equal(JSON.parse(await readFile(join(out, json), "utf8")), report, "the written JSON is the printed one");
    const svg = await readFile(join(out, json.replace(/\.json$/, ".svg")), "utf8");
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const info of report.runtimes)
      assert.ok(svg.includes(`${info.id} = ${info.name} ${info.version}`), "the chart names the runtimes");
    for (const row of report.results) {
      const label = `${row.runtime}: ${engineLabel(row)}, ${row.threads} thread`;
      assert.ok(svg.includes(label), `chart row ${label}`);
    }
    return report;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
