// The suite's report as tables: the terminal table compare.ts prints and the Markdown table
// `npm run bench:table` writes into the README, from one list of columns. Reads reports of
// schema 2 (the runtime matrix) and schema 1 (one runtime, before the matrix).

import type { Precision } from "./childCore.js";
import type { EngineName } from "./engines.js";
import type { ResultRow, SuiteReport } from "./report.js";

/** The engine and, for inception-wasm, its precision mode when not strict. */
export const engineLabel = (row: { engine: EngineName; precision?: Precision }): string =>
  row.precision && row.precision !== "strict" ? `${row.engine} ${row.precision}` : row.engine;

const fixed = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : "-");
const withRatio = (x: number, ratio: number, digits: number): string => `${fixed(x, digits)} (${fixed(ratio, 2)})`;

/**
 * The network's fraction of its peak-bound time at batch 1: its GFLOP/s over threads x the
 * register-only peak of one thread (NaN without a peak: other engines, older reports).
 */
export function ofPeakBound(row: ResultRow): number {
  const peak = row.registerPeak?.gflops;
  return peak ? row.figures.batches["1"].gflops / (row.threads * peak) : Number.NaN;
}

interface Column {
  head: string;
  cell: (row: ResultRow) => string;
  /** In the README's table too. */
  readme: boolean;
}

function columns(r: SuiteReport): Column[] {
  const cols: Column[] = [
    { head: "runtime", cell: (row) => row.runtime, readme: true },
    { head: "engine", cell: engineLabel, readme: true },
    { head: "threads", cell: (row) => String(row.threads), readme: true },
  ];
  for (const b of r.settings.batches) {
    if (b === 1) {
      cols.push(
        {
          head: "median ms",
          cell: (row) => withRatio(row.figures.batches[b].medianMs, row.ratios.batches[b].medianMs, 1),
          readme: true,
        },
        { head: "min ms", cell: (row) => fixed(row.figures.batches[b].minMs, 1), readme: true },
        {
          head: "register peak GF/s",
          cell: (row) => (row.registerPeak ? `${fixed(row.registerPeak.gflops, 1)} (${row.registerPeak.build})` : "-"),
          readme: true,
        },
        { head: "of peak-bound", cell: (row) => fixed(ofPeakBound(row), 2), readme: true },
      );
    } else {
      cols.push({
        head: `batch-${b} img/s`,
        cell: (row) => withRatio(row.figures.batches[b].imagesPerSecond, row.ratios.batches[b].imagesPerSecond, 1),
        readme: true,
      });
    }
    cols.push({
      head: b === 1 ? "GFLOP/s" : `GFLOP/s b${b}`,
      cell: (row) => fixed(row.figures.batches[b].gflops, 1),
      readme: false,
    });
  }
  cols.push(
    {
      head: "cold start ms",
      cell: (row) => withRatio(row.figures.coldStart.totalMs, row.ratios.coldStart.totalMs, 0),
      readme: true,
    },
    {
      head: "compile/weights/setup/1st",
      cell: ({ figures: { coldStart: c } }) =>
        [c.compileMs, c.weightsMs, c.setupMs, c.firstInferenceMs].map((x) => fixed(x, 0)).join("/"),
      readme: false,
    },
    { head: "peak RSS MB", cell: (row) => withRatio(row.figures.peakRssMB, row.ratios.peakRssMB, 0), readme: true },
    {
      head: "binary MB",
      cell: (row) => `${fixed(row.figures.binaryMB, 2)}${row.binary.kind === "native" ? " native" : ""}`,
      readme: true,
    },
    { head: "max|dprob|", cell: (row) => row.accuracy.maxAbsProbDiff.toExponential(1), readme: true },
    { head: "top-5", cell: (row) => (row.accuracy.top5Agree ? "same" : "DIFF"), readme: true },
    { head: "cpu", cell: (row) => (row.cpu ? fixed(row.cpu.childCores, 1) : "-"), readme: false },
    {
      head: "disturbed",
      cell: (row) => (row.disturbed ? `${row.disturbedRounds}/${row.rounds}` : "no"),
      readme: true,
    },
  );
  return cols;
}

const runsLine = (r: SuiteReport): string =>
  `${r.settings.rounds} round(s); timed runs per round: ${Object.entries(r.settings.runsPerRound)
    .map(([b, n]) => `batch ${b}: ${n}`)
    .join(", ")}`;

const unavailableLines = (r: SuiteReport): string[] =>
  r.unavailable.map((u) => `${u.runtime}: ${engineLabel(u)}, ${u.threads} thread(s): not measured: ${u.reason}`);

/** The rows measured in a setting other than the runtime's own (ResultRow.caveat), one line each. */
const caveatLines = (r: SuiteReport): string[] =>
  r.results
    .filter((row) => row.caveat)
    .map((row) => `${row.runtime}: ${engineLabel(row)}, ${row.threads} thread(s): ${row.caveat}`);

/** The runtimes line: each id with its version and JavaScript engine, or why it did not run. */
const runtimesLine = (r: SuiteReport): string =>
  r.runtimes
    .map((x) =>
      x.unavailable ? `${x.id}: not run (${x.unavailable})` : `${x.id} = ${x.name} ${x.version}, ${x.engine}`,
    )
    .join("; ");

/** The report as a terminal table: figures with their ratio to inception-wasm (strict) in the same runtime at the same thread count. */
export function formatSuite(r: SuiteReport): string {
  const cols = columns(r);
  const table = [cols.map((c) => c.head), ...r.results.map((row) => cols.map((c) => c.cell(row)))];
  const widths = cols.map((_, i) => Math.max(...table.map((line) => line[i].length)));
  return [
    `GoogLeNet ${r.model.inputSize}x${r.model.inputSize} (${r.model.gflopPerImage.toFixed(3)} GFLOP/image) on ${r.machine.cpu}, ${r.machine.cores} cores`,
    runtimesLine(r),
    `${runsLine(r)}; (x.xx) = figure / inception-wasm (strict)'s in the same runtime at the same thread count`,
    "",
    ...table.map((line) =>
      line.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  "),
    ),
    ...unavailableLines(r),
    ...caveatLines(r).map((l) => `measured with a caveat: ${l}`),
    "",
    `${fixed(r.wallSeconds / 60, 1)} minutes in all; cpu: cores the engine's processes used while timed; disturbed: rounds (of all) where other processes used more than ${r.settings.disturbedCores} core(s)` +
      (r.quick ? "" : " even when run again"),
  ].join("\n");
}

/**
 * The README's benchmark section body from a report: which command produced it and where, the
 * runtimes, the Markdown table and what was not measured. `file` is the JSON's path as the README links it.
 */
export function readmeTable(r: SuiteReport, file: string): string {
  const cols = columns(r).filter((c) => c.readme);
  const line = (cells: string[]): string => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  const summary =
    r.settings.runtimes.length > 1
      ? [
          ...matrixSummary(r).map(line),
          "",
          `Issue 20's targets (batch 1; ${TARGET_NOTE}):`,
          "",
          ...targetsTable(r).map(line),
          "",
          "All figures:",
          "",
        ]
      : [];
  return [
    `Produced by \`${r.command}\` on ${r.date.slice(0, 10)} (${r.machine.cpu}, ${r.machine.cores} vCPUs${r.quick ? "; a quick smoke run" : ""};`,
    `[JSON](${file}), [chart](${file.replace(/\.json$/, ".svg")})); the table is written from the JSON by`,
    `\`npm run bench:table -- ${file}\`, not by hand. ${runsLine(r)}; (x.xx) is the figure divided by`,
    `inception-wasm (strict)'s in the same runtime at the same thread count. Runtimes: ${runtimesLine(r)}.`,
    "Register peak: the register-only f32x4 multiply-add peak of one thread (src/host/wasm/peak.ts) for the build",
    "inception-wasm ran, measured in its processes; of peak-bound: the network's GFLOP/s (GoogLeNet's direct",
    "multiply-adds) over threads x that peak (fast mode's Winograd does fewer multiply-adds, so it can pass 1).",
    "",
    ...summary,
    line(cols.map((c) => c.head)),
    line(cols.map(() => "---")),
    ...r.results.map((row) => line(cols.map((c) => c.cell(row)))),
    ...(r.unavailable.length ? ["", "Not measured:", "", ...unavailableLines(r).map((l) => `- ${l}`)] : []),
    ...(caveatLines(r).length ? ["", "Measured with a caveat:", "", ...caveatLines(r).map((l) => `- ${l}`)] : []),
    "",
    `![single-image latency per runtime, engine and thread count${r.kernels ? "; kernel GFLOP/s against the measured peak" : ""}](${file.replace(/\.json$/, ".svg")})`,
  ].join("\n");
}

/** A runtime's register-only peak as a cell: strict's at its first thread count, "-" when not measured. */
function runtimePeak(r: SuiteReport, runtime: string): string {
  const row = r.results.find((x) => x.runtime === runtime && x.engine === "inception-wasm" && x.registerPeak);
  return row?.registerPeak ? `${fixed(row.registerPeak.gflops, 1)} (${row.registerPeak.build})` : "-";
}

/**
 * The matrix at a glance: a row per runtime, its register-only peak (one thread, the build
 * inception-wasm ran: runtimePeak), a column per engine (inception-wasm per precision) and thread
 * count, each cell the single-image median in ms with its ratio, "-" where not measured.
 * Rows of cells (the header and its rule first).
 */
function matrixSummary(r: SuiteReport): string[][] {
  const keys = r.settings.threads.flatMap((threads) =>
    r.settings.engines.flatMap((engine) =>
      (engine === "inception-wasm" ? r.settings.precisions : [undefined]).map((precision) => ({
        engine,
        precision,
        threads,
      })),
    ),
  );
  const head = ["median ms (x.xx)", "register peak GF/s", ...keys.map((k) => `${engineLabel(k)}, ${k.threads} thr`)];
  return [
    head,
    head.map(() => "---"),
    ...r.settings.runtimes.map((runtime) => [
      runtime,
      runtimePeak(r, runtime),
      ...keys.map((k) => {
        const row = r.results.find(
          (x) =>
            x.runtime === runtime && x.engine === k.engine && x.precision === k.precision && x.threads === k.threads,
        );
        return row ? withRatio(row.figures.batches["1"].medianMs, row.ratios.batches["1"].medianMs, 1) : "-";
      }),
    ]),
  ];
}

/** How the targets table reads. */
const TARGET_NOTE =
  'x.xx "met" or "missed"; vs ort-web and vs LiteRT.js: their median over strict\'s, 1 thread; ' +
  "fast / ort-node: fast's median over onnxruntime-node's in the same runtime, 1 thread; " +
  "vs Node 20: the runtime's median over Node 20's, 1 thread; scaling: 1-thread median over 2-thread median; " +
  "of peak-bound: strict, 1 thread (GFLOP/s over the register-only peak)";

/** One target: what it compares and the figure's bound. */
interface Target {
  head: string;
  figure: (r: SuiteReport, runtime: string) => number;
  /** Met when the figure is at least (">=") or at most ("<=") the bound. */
  sense: ">=" | "<=";
  bound: number;
  /** Only these runtimes (default all). */
  applies?: (runtime: string) => boolean;
}

/** The single-image median of a configuration, NaN where it was not measured. */
function medianOf(r: SuiteReport, runtime: string, engine: EngineName, threads: number, precision?: Precision): number {
  const row = r.results.find(
    (x) =>
      x.runtime === runtime &&
      x.engine === engine &&
      x.threads === threads &&
      (engine !== "inception-wasm" || x.precision === precision),
  );
  return row ? row.figures.batches["1"].medianMs : Number.NaN;
}

const strict1 = (r: SuiteReport, rt: string) => medianOf(r, rt, "inception-wasm", 1, "strict");
const fast1 = (r: SuiteReport, rt: string) => medianOf(r, rt, "inception-wasm", 1, "fast");
const notNode = (rt: string) => !rt.startsWith("node");

/** Issue 20's targets, in its order. */
const TARGETS: Target[] = [
  {
    head: "strict vs ort-web (>= 2.0)",
    figure: (r, rt) => medianOf(r, rt, "ort-web", 1) / strict1(r, rt),
    sense: ">=",
    bound: 2,
  },
  {
    head: "strict vs LiteRT.js (>= 1.5)",
    figure: (r, rt) => medianOf(r, rt, "litert", 1) / strict1(r, rt),
    sense: ">=",
    bound: 1.5,
  },
  {
    head: "fast / ort-node (<= 1.0)",
    figure: (r, rt) => fast1(r, rt) / medianOf(r, rt, "ort-node", 1),
    sense: "<=",
    bound: 1,
  },
  {
    head: "strict vs Node 20 (<= 1.15)",
    figure: (r, rt) => strict1(r, rt) / strict1(r, "node20"),
    sense: "<=",
    bound: 1.15,
    applies: notNode,
  },
  {
    head: "fast vs Node 20 (<= 1.15)",
    figure: (r, rt) => fast1(r, rt) / fast1(r, "node20"),
    sense: "<=",
    bound: 1.15,
    applies: notNode,
  },
  {
    head: "strict scaling (>= 1.9)",
    figure: (r, rt) => strict1(r, rt) / medianOf(r, rt, "inception-wasm", 2, "strict"),
    sense: ">=",
    bound: 1.9,
  },
  {
    head: "fast scaling (>= 1.9)",
    figure: (r, rt) => fast1(r, rt) / medianOf(r, rt, "inception-wasm", 2, "fast"),
    sense: ">=",
    bound: 1.9,
  },
  {
    head: "strict of peak-bound (>= 0.75)",
    figure: (r, rt) => {
      const row = r.results.find(
        (x) => x.runtime === rt && x.engine === "inception-wasm" && x.precision === "strict" && x.threads === 1,
      );
      return row ? ofPeakBound(row) : Number.NaN;
    },
    sense: ">=",
    bound: 0.75,
  },
];

/**
 * Issue 20's targets per runtime from the report: each cell the figure and "met" or "missed", "-"
 * where a figure is missing (an engine not measured there: the report's "Not measured" says why)
 * and "n/a" where the target does not apply (Node's own rows for the within-Node targets).
 */
export function targetsTable(r: SuiteReport): string[][] {
  const head = ["runtime", ...TARGETS.map((t) => t.head)];
  return [
    head,
    head.map(() => "---"),
    ...r.settings.runtimes.map((runtime) => [
      runtime,
      ...TARGETS.map((t) => {
        if (t.applies && !t.applies(runtime)) return "n/a";
        const x = t.figure(r, runtime);
        if (!Number.isFinite(x)) return "-";
        const met = t.sense === ">=" ? x >= t.bound : x <= t.bound;
        return `${fixed(x, 2)} ${met ? "met" : "missed"}`;
      }),
    ]),
  ];
}

/** A schema-1 report (one runtime: `runtime` "node 20.20.2", no precision, no command). */
interface SchemaOne
  extends Omit<SuiteReport, "schema" | "runtimes" | "command" | "settings" | "results" | "unavailable"> {
  schema: 1;
  runtime: string;
  settings: Omit<SuiteReport["settings"], "runtimes" | "precisions">;
  results: Omit<ResultRow, "runtime" | "precision">[];
  unavailable: Omit<SuiteReport["unavailable"][number], "runtime">[];
}

/**
 * A report of either schema as schema 2 (schema 1: its one runtime, inception-wasm strict, the
 * command `npm run bench`, the run's duration unknown: NaN).
 */
export function asSchema2(report: SuiteReport | SchemaOne): SuiteReport {
  if (report.schema === 2) return report;
  const [name, version] = report.runtime.split(" ");
  const id = name === "node" ? `node${version.split(".")[0]}` : name;
  return {
    ...report,
    schema: 2,
    command: name === "deno" ? "npm run bench:deno" : "npm run bench",
    wallSeconds: Number.NaN,
    runtimes: [{ id, name, version, engine: `V8 ${report.versions.v8}` }],
    settings: { ...report.settings, runtimes: [id], precisions: ["strict"] },
    results: report.results.map((row) => ({
      ...row,
      runtime: id,
      ...(row.engine === "inception-wasm" ? { precision: "strict" as const } : {}),
    })),
    unavailable: report.unavailable.map((u) => ({ ...u, runtime: id })),
  };
}
