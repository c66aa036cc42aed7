// The comparison suite's command line (a repository-only tool: the other engines are dev
// dependencies): inception-wasm against onnxruntime-web, tfjs-backend-wasm, onnxruntime-node and LiteRT.js,
// over runtimes and inception-wasm's precision modes, each configuration in its own process,
// alternating over rounds (suite.ts).
//
//   node dist/bench/compare.js [--runtimes node20,node22,node24,node26,deno,bun,chromium] [--precision strict,fast]
//     [--vs ort-web,tfjs-wasm,ort-node,litert] [--threads 1,2] [--batch 1,8] [--runs N] [--warmup N] [--rounds N]
//     [--quick] [--json] [--out DIR] [--kernels FILE] [--build B] [--weights PATH]

import { parseArgs } from "node:util";
import "../src/node/index.js";
import { ENGINES } from "./engines.js";
import { PRECISIONS, type Precision } from "./childCore.js";
import { intOption, usageError } from "./options.js";
import { parseRuntimes, runSuite, runtimeIds } from "./suite.js";
import { formatSuite } from "./table.js";

const { values: opts } = parseArgs({
  options: {
    runtimes: { type: "string", default: runtimeIds().join(",") },
    precision: { type: "string", default: PRECISIONS.join(",") },
    vs: { type: "string", default: "ort-web,tfjs-wasm,ort-node,litert" },
    threads: { type: "string", default: "1,2" },
    batch: { type: "string", default: "1,8" },
    runs: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    out: { type: "string" },
    kernels: { type: "string" },
    build: { type: "string", default: "auto" },
    weights: { type: "string" },
  },
});

function fail(message: string): never {
  return usageError("bench/compare", message);
}
const int = (name: string, text: string, min: number): number => intOption("bench/compare", name, text, min);

const list = (name: string, text: string): number[] => text.split(",").map((t) => int(name, t.trim(), 1));
const known = ENGINES.filter((e) => e !== "inception-wasm");
const vs = opts.vs
  .split(",")
  .map((e) => e.trim())
  .filter((e) => e !== ""); // --vs "": inception-wasm alone
const unknown = vs.filter((e) => !known.some((k) => k === e));
if (unknown.length) fail(`--vs: expected engines from ${known.join(", ")}, found "${unknown.join(", ")}"`);
const build = opts.build;
if (build !== "auto" && build !== "baseline" && build !== "relaxed")
  fail(`--build: expected auto, baseline or relaxed, found "${build}"`);

const precisions = opts.precision.split(",").map((p) => p.trim());
const badPrecision = precisions.filter((p) => !PRECISIONS.some((q) => q === p));
if (badPrecision.length || !precisions.includes("strict"))
  fail(
    `--precision: expected modes from ${PRECISIONS.join(", ")}, strict among them (every ratio's base), found "${opts.precision}"`,
  );
let runtimes: string[] = [];
try {
  runtimes = parseRuntimes(opts.runtimes);
} catch (error) {
  fail((error as Error).message);
}

const { report, jsonFile, svgFile } = await runSuite({
  runtimes,
  precisions: [...new Set(precisions as Precision[])],
  vs: known.filter((e) => vs.includes(e)),
  threads: list("threads", opts.threads),
  batches: list("batch", opts.batch),
  runs: int("runs", opts.runs, 1),
  warmup: int("warmup", opts.warmup, 0),
  rounds: int("rounds", opts.rounds, 1),
  quick: opts.quick,
  build,
  weights: opts.weights,
  outDir: opts.out,
  kernelsFile: opts.kernels,
  command: ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
});
console.log(opts.json ? JSON.stringify(report, null, 2) : `${formatSuite(report)}\n\n${jsonFile}\n${svgFile}`);
