// The comparison suite: inception-wasm against onnxruntime-web, tfjs-backend-wasm and
// onnxruntime-node on the same network and weights, in one run on this machine.
//
// Every (engine, thread count) runs in a child process of its own (engine-child.ts), once per
// round; within a round the configurations alternate (the order rotates each round), so slow
// drifts of the machine hit every engine alike. Per child: the cold start phase by phase, the
// photo's outputs, single-image latency and batch throughput, peak RSS. While a child is timed,
// /proc/stat gives the CPU time the rest of the machine used; a round where others used more
// than DISTURBED_CORES is run again (once; quick: never) and stays flagged if still disturbed.
// Every figure is also given as a ratio to inception-wasm at the same thread count.
//
// The suite process is Node; the children run under Node (this binary) or Deno (the `deno`
// devDependency): SuiteOptions.runtime, else $INCEPTION_WASM_BENCH_RUNTIME (`npm run bench:deno`).
// The report's runtime, versions and file name are the children's runtime.

import { fork, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, availableParallelism, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InceptionError } from "../src/host/errors.js";
import type { BuildChoice } from "../src/host/wasm/kernels.js";
import { inferShapes, multiplyAdds } from "../src/host/ir/shapes.js";
import { topClasses } from "../src/node/index.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { exportGoogLeNetOnnx } from "../src/node/exportOnnx.js";
import { projectRoot, resolveDataDir } from "../src/node/weights.js";
import { renderChart, type KernelReport } from "./chart.js";
import type { ChildMessage, ChildRuntime, ChildSettings, ParentMessage } from "./engine-child.js";
import {
  ENGINES,
  INPUT_SIZE,
  packageVersion,
  type Binary,
  type ColdStart,
  type EngineConfig,
  type EngineName,
} from "./engines.js";

/** Other processes using more than this many cores (CPU time / wall time) while a child is timed disturb it. */
export const DISTURBED_CORES = 0.1;
/** Linux reports CPU time in clock ticks of 1/USER_HZ s; USER_HZ is 100 on every mainstream architecture. */
const TICK_MS = 10;
/** A child that does not report within this time has hung. */
const CHILD_TIMEOUT_MS = 300_000;

/** Runtimes the engine children can run in. */
export const RUNTIMES = ["node", "deno"] as const;
export type Runtime = (typeof RUNTIMES)[number];
/** Environment variable naming the children's runtime when SuiteOptions.runtime is not given (default node). */
export const RUNTIME_ENV = "INCEPTION_WASM_BENCH_RUNTIME";

/** A runtime's name (undefined or empty: node), checked. */
export function runtimeOption(name: string | undefined): Runtime {
  const runtime = RUNTIMES.find((r) => r === (name || "node"));
  if (!runtime)
    throw new InceptionError("E_USAGE", `$${RUNTIME_ENV}: expected ${RUNTIMES.join(" or ")}, found "${name}"`);
  return runtime;
}

export interface SuiteOptions {
  /** Engines compared with inception-wasm. */
  vs: EngineName[];
  threads: number[];
  /** Batch sizes: 1 gives single-image latency, larger ones throughput. */
  batches: number[];
  /** Timed single-image runs per configuration over all rounds (larger batches: runs / batch, at least one per round). */
  runs: number;
  /** Untimed single-image runs per child before timing. */
  warmup: number;
  rounds: number;
  /** Few runs, one round, no repeats: a smoke test in well under a minute. */
  quick: boolean;
  build: BuildChoice;
  weights?: string;
  /** Folder for the JSON and SVG (default bench/results). */
  outDir?: string;
  /** `npm run bench:kernels -- --json` output to add to the report and chart. */
  kernelsFile?: string;
  /** The runtime of the engine children (default: $INCEPTION_WASM_BENCH_RUNTIME, else node). */
  runtime?: Runtime;
}

/** CPU use while a child was timed, in cores (CPU time / wall time). */
export interface Disturbance {
  wallMs: number;
  childCores: number;
  otherCores: number;
  stealCores: number;
}

/** Timings of one batch size: median and min milliseconds per batch, images per second, effective GFLOP/s. */
export interface Throughput {
  medianMs: number;
  minMs: number;
  imagesPerSecond: number;
  gflops: number;
}

/** The figures of one configuration (ratios have the same shape). */
export interface Figures {
  /** Keyed by batch size. */
  batches: Record<string, Throughput>;
  coldStart: ColdStart;
  /** Peak RSS after cold start and single-image runs, and after the batch runs. */
  peakRssMB: number;
  peakRssBatchMB: number;
  binaryMB: number;
}

export interface ResultRow {
  engine: EngineName;
  threads: number;
  version: string;
  threadNote: string;
  binary: Binary;
  /** Timed runs pooled over the rounds, per batch size. */
  runs: Record<string, number>;
  rounds: number;
  /** Rounds still disturbed after their repeat. */
  disturbedRounds: number;
  disturbed: boolean;
  /** Medians over the rounds. */
  cpu?: Disturbance;
  figures: Figures;
  /** figures / inception-wasm's figures at the same thread count. */
  ratios: Figures;
  /** The photo's outputs against inception-wasm's (threads[0]). */
  accuracy: { maxAbsProbDiff: number; maxAbsLogitDiff: number; top5Agree: boolean; top5: number[] };
}

export interface SuiteReport {
  schema: 1;
  date: string;
  quick: boolean;
  machine: { cpu: string; cores: number; memoryMB: number; platform: string; arch: string };
  /** The engine children's runtime and version, e.g. "node 20.20.2" or "deno 2.9.6". */
  runtime: string;
  /** inception-wasm, the runtime, its V8, each measured engine; under Deno also `harness`: the Node that ran the suite process. */
  versions: Record<string, string>;
  model: { network: "GoogLeNet (BVLC)"; inputSize: number; multiplyAdds: number; gflopPerImage: number; photo: string };
  settings: {
    engines: EngineName[];
    threads: number[];
    batches: number[];
    rounds: number;
    runsPerRound: Record<string, number>;
    warmup: number;
    disturbedCores: number;
  };
  results: ResultRow[];
  unavailable: { engine: EngineName; threads: number; reason: string }[];
  /** The kernel benchmark report given with --kernels, and its file. */
  kernels?: KernelReport & { file: string };
}

interface CpuTimes {
  busy: number;
  steal: number;
  pids: Map<number, number>;
}

/** Machine-wide busy and steal ticks and each pid's CPU ticks (all threads), or undefined without /proc. */
function cpuTimes(pids: number[]): CpuTimes | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    const own = new Map<number, number>();
    for (const pid of pids) {
      // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const rest = stat
        .slice(stat.lastIndexOf(")") + 2)
        .split(" ")
        .map(Number);
      own.set(pid, rest[11] + rest[12]);
    }
    return { busy: user + nice + system + irq + softirq, steal, pids: own };
  } catch {
    return undefined;
  }
}

function disturbance(a: CpuTimes, b: CpuTimes, child: number, wallMs: number): Disturbance {
  const delta = (pid: number): number => (b.pids.get(pid) ?? 0) - (a.pids.get(pid) ?? 0);
  const ownTicks = [...b.pids.keys()].reduce((s, pid) => s + delta(pid), 0);
  const cores = (ticks: number): number => (ticks * TICK_MS) / wallMs;
  return {
    wallMs,
    childCores: cores(delta(child)),
    otherCores: Math.max(0, cores(b.busy - a.busy - ownTicks)),
    stealCores: cores(b.steal - a.steal),
  };
}

/** What one child reported, or why it could not run. */
type ChildRun =
  | {
      ok: true;
      ready: Extract<ChildMessage, { type: "ready" }>;
      result: Extract<ChildMessage, { type: "result" }>;
      disturbance?: Disturbance;
    }
  | { ok: false; reason: string };

const CHILD = fileURLToPath(new URL("./engine-child.js", import.meta.url));

/** The binary and its arguments before the script that start a child. */
interface ChildCommand {
  execPath: string;
  execArgv: string[];
}

/**
 * How children start under `runtime`. Node: this process's binary. Deno: the devDependency's
 * binary (node_modules/.bin), else `deno` on PATH, with `run -A` (a child reads the data folder,
 * the wasm and node_modules, reads env vars, starts workers, may load a native addon) and
 * `--node-modules-dir=manual` (bare imports from the installed node_modules, never the network),
 * as test/run.ts runs the test files under Deno. Node's IPC channel works with Deno's process.send.
 */
function childCommand(runtime: Runtime): ChildCommand {
  if (runtime === "node") return { execPath: process.execPath, execArgv: [] };
  const tried: string[] = [];
  for (const bin of [join(projectRoot(), "node_modules", ".bin", "deno"), "deno"]) {
    const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 30_000 });
    if (r.status === 0) return { execPath: bin, execArgv: ["run", "-A", "--node-modules-dir=manual"] };
    tried.push(`${bin} (${r.error ? r.error.message : `exit ${r.status}`})`);
  }
  throw new InceptionError(
    "E_USAGE",
    `bench: runtime deno: no working deno binary; tried ${tried.join(", ")}. Install the devDependencies (npm ci) or put deno on PATH.`,
  );
}

/** Runs one configuration in a fresh child process. */
function runChild(command: ChildCommand, settings: ChildSettings): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [JSON.stringify(settings)], { ...command, stdio: ["ignore", "pipe", "pipe", "ipc"] });
    const label = `${settings.config.engine} (${settings.config.threads} thread(s))`;
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => process.stderr.write(d));
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d;
      process.stderr.write(d);
    });
    let ready: Extract<ChildMessage, { type: "ready" }> | undefined;
    let before: CpuTimes | undefined;
    let started = 0;
    let outcome: ChildRun | undefined;
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${label}: no result after ${CHILD_TIMEOUT_MS / 1000} s`));
    }, CHILD_TIMEOUT_MS);
    child.on("message", (m: ChildMessage) => {
      if (m.type === "ready") {
        ready = m;
        before = cpuTimes([child.pid!, process.pid]);
        started = performance.now();
        child.send({ type: "measure" } satisfies ParentMessage);
      } else if (m.type === "result" && ready) {
        const after = cpuTimes([child.pid!, process.pid]);
        const wallMs = performance.now() - started;
        outcome = {
          ok: true,
          ready,
          result: m,
          disturbance: before && after ? disturbance(before, after, child.pid!, wallMs) : undefined,
        };
      } else if (m.type === "unavailable") {
        outcome = { ok: false, reason: m.reason };
      } else if (m.type === "error") {
        outcome = { ok: false, reason: `failed: ${m.message.split("\n")[0]}` };
        process.stderr.write(`${label}: ${m.message}\n`);
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(
        outcome ?? {
          ok: false,
          reason: `failed: exited with ${signal ?? `code ${code}`} before reporting${stderr ? `: ${stderr.trim().split("\n").pop()}` : ""}`,
        },
      );
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** a / b leaf by leaf over objects of the same shape. */
function ratiosOf<T extends object>(a: T, b: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) {
    const w = (b as Record<string, unknown>)[k];
    out[k] = typeof v === "number" ? v / (w as number) : ratiosOf(v as object, w as object);
  }
  return out as T;
}

const maxAbsDiff = (a: number[], b: number[]): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const top5 = (p: number[]): number[] => topClasses(Float32Array.from(p), 5, []).map((c) => c.index);
const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/^-|-$/g, "");

/** The first photo (by name) of the data folder. */
async function defaultPhoto(weights: string | undefined): Promise<string> {
  const dir = join(resolveDataDir(weights), "photos");
  const name = (await readdir(dir)).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort()[0];
  if (!name) throw new Error(`bench: no photo (JPEG or PNG) in ${dir}`);
  return join(dir, name);
}

/** A measured configuration's rounds. */
type Rounds = Extract<ChildRun, { ok: true }>[];

/**
 * Runs every configuration once per round, alternating (the order rotates each round). A
 * disturbed round is run again up to `retries` times; a configuration that fails or cannot
 * run its thread count is dropped with the reason (inception-wasm failing ends the suite).
 */
async function runRounds(
  configs: EngineConfig[],
  rounds: number,
  retries: number,
  command: ChildCommand,
  child: Omit<ChildSettings, "config">,
): Promise<{
  done: Map<EngineConfig, Rounds>;
  disturbedRounds: Map<EngineConfig, number>;
  unavailable: Map<EngineConfig, string>;
}> {
  const done = new Map<EngineConfig, Rounds>();
  const disturbedRounds = new Map<EngineConfig, number>();
  const unavailable = new Map<EngineConfig, string>();
  for (let round = 0; round < rounds; round++) {
    for (const config of configs.map((_, i) => configs[(i + round) % configs.length])) {
      if (unavailable.has(config)) continue;
      let run: ChildRun;
      for (let attempt = 0; ; attempt++) {
        process.stderr.write(
          `bench: round ${round + 1}/${rounds}: ${config.engine}, ${config.threads} thread(s)${attempt ? " (again: disturbed)" : ""}\n`,
        );
        run = await runChild(command, { config, ...child });
        const d = run.ok ? run.disturbance : undefined;
        const disturbed = d !== undefined && d.otherCores + d.stealCores > DISTURBED_CORES;
        if (!disturbed || attempt >= retries) {
          if (disturbed) disturbedRounds.set(config, (disturbedRounds.get(config) ?? 0) + 1);
          break;
        }
      }
      const reason = !run.ok
        ? run.reason
        : run.ready.threads !== config.threads
          ? `runs ${run.ready.threads} thread(s), not ${config.threads}: ${run.ready.threadNote}`
          : undefined;
      if (reason === undefined && run.ok) {
        done.set(config, [...(done.get(config) ?? []), run]);
        continue;
      }
      if (config.engine === "inception-wasm")
        throw new Error(`bench: inception-wasm, ${config.threads} thread(s): ${reason}`);
      unavailable.set(config, reason!);
      done.delete(config);
    }
  }
  return { done, disturbedRounds, unavailable };
}

/** One configuration's figures over its rounds (medians; latencies pooled), without ratios. */
function resultRow(
  config: EngineConfig,
  list: Rounds,
  disturbedRounds: number,
  batchSizes: number[],
  macs: number,
  reference: Rounds[number]["ready"],
): Omit<ResultRow, "ratios"> {
  const first = list[0].ready;
  const batches: Record<string, Throughput> = {};
  const runs: Record<string, number> = {};
  for (const b of batchSizes) {
    const samples = list.flatMap((r) => r.result.samples[b]);
    const medianMs = median(samples);
    batches[b] = {
      medianMs,
      minMs: Math.min(...samples),
      imagesPerSecond: (1000 * b) / medianMs,
      gflops: (2 * macs * b) / (medianMs * 1e6),
    };
    runs[b] = samples.length;
  }
  const coldStart: ColdStart = { ...first.coldStart };
  for (const p of Object.keys(coldStart) as (keyof ColdStart)[])
    coldStart[p] = median(list.map((r) => r.ready.coldStart[p]));
  const windows = list.flatMap((r) => (r.disturbance ? [r.disturbance] : []));
  const cpu =
    windows.length === list.length
      ? {
          wallMs: median(windows.map((d) => d.wallMs)),
          childCores: median(windows.map((d) => d.childCores)),
          otherCores: median(windows.map((d) => d.otherCores)),
          stealCores: median(windows.map((d) => d.stealCores)),
        }
      : undefined;
  return {
    engine: config.engine,
    threads: config.threads,
    version: first.version,
    threadNote: first.threadNote,
    binary: first.binary,
    runs,
    rounds: list.length,
    disturbedRounds,
    disturbed: disturbedRounds > 0,
    cpu,
    figures: {
      batches,
      coldStart,
      peakRssMB: median(list.map((r) => r.ready.peakRssBytes)) / 2 ** 20,
      peakRssBatchMB: median(list.map((r) => r.result.peakRssBytes)) / 2 ** 20,
      binaryMB: first.binary.bytes / 2 ** 20,
    },
    accuracy: {
      maxAbsProbDiff: maxAbsDiff(first.probabilities, reference.probabilities),
      maxAbsLogitDiff: maxAbsDiff(first.logits, reference.logits),
      top5Agree: top5(first.probabilities).join() === top5(reference.probabilities).join(),
      top5: top5(first.probabilities),
    },
  };
}

/** Runs the suite; writes <outDir>/<date>-<cpu>-<runtime>[-quick].json and the .svg chart beside it. */
export async function runSuite(
  options: SuiteOptions,
): Promise<{ report: SuiteReport; jsonFile: string; svgFile: string }> {
  const rounds = options.quick ? 1 : options.rounds;
  const runs = options.quick ? 3 : options.runs;
  const warmup = options.quick ? 1 : options.warmup;
  const runsPerRound: Record<string, number> = Object.fromEntries(
    options.batches.map((b) => [b, Math.max(1, Math.ceil(runs / b / rounds))]),
  );
  const engines: EngineName[] = [
    "inception-wasm",
    ...ENGINES.filter((e) => e !== "inception-wasm" && options.vs.includes(e)),
  ];
  const graph = googlenetGraph();
  const shapes = inferShapes(graph, INPUT_SIZE, INPUT_SIZE);
  const macs = graph.nodes.reduce((s, n) => s + multiplyAdds(n, shapes), 0);
  const command = childCommand(options.runtime ?? runtimeOption(process.env[RUNTIME_ENV]));
  const photo = await defaultPhoto(options.weights);
  const onnxFile = join(tmpdir(), `inception-wasm-bench-${process.pid}.onnx`);
  await exportGoogLeNetOnnx(onnxFile, { weights: options.weights });
  const configs: EngineConfig[] = options.threads.flatMap((threads) =>
    engines.map((engine) => ({ engine, threads, build: options.build, weights: options.weights, onnxFile })),
  );
  const { done, disturbedRounds, unavailable } = await runRounds(configs, rounds, options.quick ? 0 : 1, command, {
    photo,
    warmup,
    runs: runsPerRound,
  }).finally(() => rm(onnxFile, { force: true }));

  const reference = done.get(configs[0])![0].ready; // inception-wasm at threads[0]
  const measured = configs
    .filter((c) => done.has(c))
    .map((c) => resultRow(c, done.get(c)!, disturbedRounds.get(c) ?? 0, options.batches, macs, reference));
  const rows: ResultRow[] = measured.map((row) => {
    const base = measured.find((r) => r.engine === "inception-wasm" && r.threads === row.threads)!;
    return { ...row, ratios: ratiosOf(row.figures, base.figures) };
  });

  const runtime: ChildRuntime = reference.runtime;
  const versions: Record<string, string> = {
    "inception-wasm": await packageVersion(),
    [runtime.name]: runtime.version,
    v8: runtime.v8,
  };
  if (runtime.name !== "node") versions.harness = `node ${process.versions.node}`;
  for (const row of rows) if (row.engine !== "inception-wasm") versions[row.engine] = row.version;
  const kernels = options.kernelsFile
    ? (JSON.parse(await readFile(options.kernelsFile, "utf8")) as KernelReport)
    : undefined;
  const cpuModel = cpus()[0]?.model.trim() ?? "unknown CPU";
  const report: SuiteReport = {
    schema: 1,
    date: new Date().toISOString(),
    quick: options.quick,
    machine: {
      cpu: cpuModel,
      cores: availableParallelism(),
      memoryMB: Math.round(totalmem() / 2 ** 20),
      platform: process.platform,
      arch: process.arch,
    },
    runtime: `${runtime.name} ${runtime.version}`,
    versions,
    model: {
      network: "GoogLeNet (BVLC)",
      inputSize: INPUT_SIZE,
      multiplyAdds: macs,
      gflopPerImage: (2 * macs) / 1e9,
      photo,
    },
    settings: {
      engines,
      threads: options.threads,
      batches: options.batches,
      rounds,
      runsPerRound,
      warmup,
      disturbedCores: DISTURBED_CORES,
    },
    results: rows,
    unavailable: [...unavailable].map(([c, reason]) => ({ engine: c.engine, threads: c.threads, reason })),
    kernels: kernels && { file: options.kernelsFile!, ...kernels },
  };
  const outDir = options.outDir ?? join(projectRoot(), "bench", "results");
  await mkdir(outDir, { recursive: true });
  const stem = join(
    outDir,
    `${report.date.slice(0, 10)}-${slug(cpuModel)}-${runtime.name}${runtime.version}${options.quick ? "-quick" : ""}`,
  );
  await writeFile(`${stem}.json`, JSON.stringify(report, null, 2) + "\n");
  await writeFile(`${stem}.svg`, renderChart(report));
  return { report, jsonFile: `${stem}.json`, svgFile: `${stem}.svg` };
}

const fixed = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : "-");
const withRatio = (x: number, ratio: number, digits: number): string => `${fixed(x, digits)} (${fixed(ratio, 2)})`;

/** The report as a table: figures with their ratio to inception-wasm at the same thread count. */
export function formatSuite(r: SuiteReport): string {
  const columns: { head: string; cell: (row: ResultRow) => string }[] = [
    { head: "engine", cell: (row) => row.engine },
    { head: "thr", cell: (row) => String(row.threads) },
  ];
  for (const b of r.settings.batches) {
    if (b === 1) {
      columns.push(
        {
          head: "median ms",
          cell: (row) => withRatio(row.figures.batches[b].medianMs, row.ratios.batches[b].medianMs, 1),
        },
        { head: "min ms", cell: (row) => fixed(row.figures.batches[b].minMs, 1) },
      );
    } else {
      columns.push({
        head: `batch ${b} img/s`,
        cell: (row) => withRatio(row.figures.batches[b].imagesPerSecond, row.ratios.batches[b].imagesPerSecond, 1),
      });
    }
    columns.push({
      head: b === 1 ? "GFLOP/s" : `GFLOP/s b${b}`,
      cell: (row) => fixed(row.figures.batches[b].gflops, 1),
    });
  }
  columns.push(
    { head: "cold start ms", cell: (row) => withRatio(row.figures.coldStart.totalMs, row.ratios.coldStart.totalMs, 0) },
    {
      head: "compile/weights/setup/1st",
      cell: ({ figures: { coldStart: c } }) =>
        [c.compileMs, c.weightsMs, c.setupMs, c.firstInferenceMs].map((x) => fixed(x, 0)).join("/"),
    },
    { head: "RSS MB", cell: (row) => withRatio(row.figures.peakRssMB, row.ratios.peakRssMB, 0) },
    {
      head: "binary MB",
      cell: (row) => `${fixed(row.figures.binaryMB, 2)}${row.binary.kind === "native" ? " native" : ""}`,
    },
    { head: "max|dprob|", cell: (row) => row.accuracy.maxAbsProbDiff.toExponential(1) },
    { head: "top-5", cell: (row) => (row.accuracy.top5Agree ? "same" : "DIFF") },
    { head: "cpu", cell: (row) => (row.cpu ? fixed(row.cpu.childCores, 1) : "-") },
    { head: "disturbed", cell: (row) => (row.disturbed ? `${row.disturbedRounds}/${row.rounds}` : "no") },
  );
  const table = [columns.map((c) => c.head), ...r.results.map((row) => columns.map((c) => c.cell(row)))];
  const widths = columns.map((_, i) => Math.max(...table.map((line) => line[i].length)));
  return [
    `GoogLeNet ${r.model.inputSize}x${r.model.inputSize} (${r.model.gflopPerImage.toFixed(3)} GFLOP/image) on ${r.machine.cpu}, ${r.machine.cores} cores, ${r.runtime}`,
    `${r.settings.rounds} round(s); timed runs per round: ${Object.entries(r.settings.runsPerRound)
      .map(([b, n]) => `batch ${b}: ${n}`)
      .join(", ")}; ` + "(x.xx) = figure / inception-wasm's at the same thread count",
    "",
    ...table.map((line) =>
      line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  "),
    ),
    ...r.unavailable.map((u) => `${u.engine}, ${u.threads} thread(s): not measured: ${u.reason}`),
    "",
    `cpu: cores the engine's process used while timed; disturbed: rounds (of all) where other processes used more than ${r.settings.disturbedCores} core(s)` +
      (r.quick ? "" : " even when run again"),
  ].join("\n");
}
