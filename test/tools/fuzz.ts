// npm run fuzz -- [--cases N] [--seed S] [--formats iwnet,mat,...] [--timeout MS] [--parallel P]
// Runs N seeded fuzz cases per format (test/support/fuzz.ts) and prints the outcome table;
// exits 1 when any case crashed, hung, threw an untyped error or was a wrong success.

import { parseArgs } from "node:util";
import { FORMATS, type Format } from "../support/fuzz.js";
import { formatReport, runFuzz } from "../support/fuzzRunner.js";
import { seedFromEnv } from "../support/rng.js";

const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "1000" },
    seed: { type: "string" },
    formats: { type: "string", default: FORMATS.join(",") },
    timeout: { type: "string", default: "10000" },
    parallel: { type: "string", default: "2" },
    examples: { type: "boolean", default: false },
  },
});
const formats = values.formats.split(",") as Format[];
const unknown = formats.filter((f) => !FORMATS.includes(f));
if (unknown.length > 0)
  throw new Error(`--formats: expected some of ${FORMATS.join(", ")}, found ${unknown.join(", ")}`);
const seed = values.seed === undefined ? seedFromEnv() : Number(values.seed);
const cases = Number(values.cases);
console.log(`fuzz: ${cases} cases per format, seed ${seed} (replay: npm run fuzz -- --cases ${cases} --seed ${seed})`);
const report = await runFuzz({
  formats,
  cases,
  seed,
  timeoutMs: Number(values.timeout),
  heapMb: 1024,
  parallel: Number(values.parallel),
});
console.log(formatReport(report, formats));
if (values.examples) for (const e of report.examples) console.log(`${e.format} ${e.outcome}: ${e.what}: ${e.detail}`);
console.log(`${(report.ms / 1000).toFixed(1)} s, ${report.failures.length} failing case(s)`);
process.exitCode = report.failures.length > 0 ? 1 : 0;
