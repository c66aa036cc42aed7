// The comparison suite: inception-wasm against onnxruntime-web, tfjs-backend-wasm,
// onnxruntime-node and LiteRT.js on the same network and weights, over a matrix of runtimes and inception-wasm's
// precision modes, in one run on this machine.
//
// Every (runtime, engine, precision, thread count) runs in a child process of its own, once per
// round: engineChild.ts under Node (the host and the pinned Node devDependencies), Deno or Bun,
// browserChild.ts for Chromium. Within a round the configurations alternate (the order rotates
// each round), so slow drifts of the machine hit every engine alike. Per child: the cold start
// phase by phase, the photo's outputs, single-image latency and batch throughput, peak RSS. While
// a child is timed, /proc gives the CPU time the rest of the machine used (the child's process
// tree excluded); a round where others used more than DISTURBED_CORES is run again (once; quick:
// never) and stays flagged if still disturbed. Every figure is also given as a ratio to
// inception-wasm (strict) in the same runtime at the same thread count. A configuration that
// cannot run (no such runtime here, an engine a runtime cannot load, a precision the library does
// not have) is listed in `unavailable` with the reason, never dropped silently.

import { fork } from "node:child_process";
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
import { exportGoogLeNetTflite } from "../src/node/exportTflite.js";
import { projectRoot, resolveDataDir } from "../src/node/weights.js";
import { chromiumMissing } from "../test/support/chromium.js";
import { RUNTIMES as TEST_RUNTIMES, runtimeCommand } from "../test/support/runtimes.js";
import { renderChart } from "./chart.js";
import { slug } from "./slug.js";
import { INPUT_SIZE, type ColdStart, type Precision } from "./childCore.js";
import type { ChildMessage, ChildRuntime, ChildSettings, ParentMessage } from "./childIpc.js";
import { ENGINES, packageVersion, type EngineConfig, type EngineName } from "./engines.js";
import { cpuTicks, processTree } from "./proc.js";
import type { Disturbance, KernelReport, ResultRow, RuntimeInfo, SuiteReport, Throughput } from "./report.js";

/** Other processes using more than this many cores (CPU time / wall time) while a child is timed disturb it. */
export const DISTURBED_CORES = 0.1;
/** Linux reports CPU time in clock ticks of 1/USER_HZ s; USER_HZ is 100 on every mainstream architecture. */
const TICK_MS = 10;
/** A child that does not report within this time has hung. */
const CHILD_TIMEOUT_MS = 300_000;

/** The host Node's runtime id: node<major> (Node 20 here). */
const HOST = `node${process.versions.node.split(".")[0]}`;

/**
 * Runtimes the engine children can run under, by id: the Node running the suite (node<major>,
 * with --experimental-wasm-relaxed-simd up to Node 20, as users enable relaxed SIMD there), the
 * pinned Node devDependencies node22, node24 and node26 (the host when its major is the same),
 * Deno and Bun (their npm packages), and Chromium (Debian's, through playwright-core). The
 * binaries are found as test/support/runtimes.ts finds them for the tests.
 */
export function runtimeIds(): string[] {
  const pinned = TEST_RUNTIMES.filter((r) => r.startsWith("node") && r !== "node" && r !== HOST);
  return [HOST, ...pinned, "deno", "bun", "chromium"];
}

/** `--runtimes`: ids from runtimeIds(), comma-separated, in the order given. */
export function parseRuntimes(text: string): string[] {
  const known = runtimeIds();
  const ids = text.split(",").map((t) => t.trim());
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length > 0)
    throw new InceptionError(
      "E_USAGE",
      `--runtimes: expected ids from ${known.join(", ")}, found "${unknown.join(", ")}"`,
    );
  return [...new Set(ids)];
}

export interface SuiteOptions {
  /** Runtime ids (runtimeIds()) the children run under. */
  runtimes: string[];
  /** inception-wasm's precision modes; "strict" (the default mode) must be among them: it is every ratio's base. */
  precisions: Precision[];
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
  /** Few runs, one round, no repeats: a smoke test. */
  quick: boolean;
  build: BuildChoice;
  weights?: string;
  /** Folder for the JSON and SVG (default bench/results). */
  outDir?: string;
  /** `npm run bench:kernels -- --json` output to add to the report and chart. */
  kernelsFile?: string;
  /** The command line that ran the suite, recorded in the report (the README's table quotes it). */
  command: string;
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
    return { busy: user + nice + system + irq + softirq, steal, pids: new Map(pids.map((p) => [p, cpuTicks(p)])) };
  } catch {
    return undefined;
  }
}

function disturbance(a: CpuTimes, b: CpuTimes, childTree: number[], wallMs: number): Disturbance {
  const delta = (pid: number): number => (b.pids.get(pid) ?? 0) - (a.pids.get(pid) ?? 0);
  const ownTicks = [...b.pids.keys()].reduce((s, pid) => s + delta(pid), 0);
  const cores = (ticks: number): number => (ticks * TICK_MS) / wallMs;
  return {
    wallMs,
    childCores: cores(childTree.reduce((s, pid) => s + delta(pid), 0)),
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

const ENGINE_CHILD = fileURLToPath(new URL("./engineChild.js", import.meta.url));
const BROWSER_CHILD = fileURLToPath(new URL("./browserChild.js", import.meta.url));

/** How children of one runtime start: the binary, its arguments before the script, the script. */
interface ChildCommand {
  execPath: string;
  execArgv: string[];
  script: string;
}

/**
 * The command of a runtime, or why it has none. Chromium's child is a Node process (this binary)
 * driving the browser. Node's IPC channel works with Deno's and Bun's process.send.
 */
function childCommand(id: string): ChildCommand | { error: string } {
  if (id === "chromium") {
    const missing = chromiumMissing();
    if (missing) return { error: missing };
    return { execPath: process.execPath, execArgv: [], script: BROWSER_CHILD };
  }
  const test = TEST_RUNTIMES.find((r) => r === (id === HOST ? "node" : id));
  if (!test) return { error: `unknown runtime ${id}` };
  const cmd = runtimeCommand(test);
  if ("error" in cmd) return cmd;
  return { execPath: cmd.argv[0], execArgv: cmd.argv.slice(1), script: ENGINE_CHILD };
}

const commandLine = (c: ChildCommand): string => [c.execPath.replace(`${projectRoot()}/`, ""), ...c.execArgv].join(" ");

/** A configuration of the matrix. */
interface MatrixConfig {
  runtime: string;
  config: EngineConfig;
}

const describeConfig = ({ runtime, config: c }: MatrixConfig): string =>
  `${runtime}: ${c.engine}${c.engine === "inception-wasm" ? ` (${c.precision})` : ""}, ${c.threads} thread(s)`;

/** Runs one configuration in a fresh child process. */
function runChild(command: ChildCommand, settings: ChildSettings, label: string): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = fork(command.script, [JSON.stringify(settings)], {
      execPath: command.execPath,
      execArgv: command.execArgv,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => process.stderr.write(d));
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d;
      process.stderr.write(d);
    });
    let ready: Extract<ChildMessage, { type: "ready" }> | undefined;
    let before: CpuTimes | undefined;
    let tree: number[] = [];
    let started = 0;
    let outcome: ChildRun | undefined;
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${label}: no result after ${CHILD_TIMEOUT_MS / 1000} s`));
    }, CHILD_TIMEOUT_MS);
    child.on("message", (m: ChildMessage) => {
      if (m.type === "ready") {
        ready = m;
        tree = processTree(child.pid!);
        before = cpuTimes([process.pid, ...tree]);
        started = performance.now();
        child.send({ type: "measure" } satisfies ParentMessage);
      } else if (m.type === "result" && ready) {
        const after = cpuTimes([process.pid, ...tree]);
        const wallMs = performance.now() - started;
        outcome = {
          ok: true,
          ready,
          result: m,
          disturbance: before && after ? disturbance(before, after, tree, wallMs) : undefined,
        };
      } else if (m.type === "unavailable") {
        outcome = { ok: false, reason: m.reason };
      } else if (m.type === "error") {
        outcome = { ok: false, reason: `failed: ${m.message.split("\n")[0]}` };
        process.stderr.write(`${label}: ${m.message}\n`);
      }
    });
    child.on("error", (e) => {
      outcome ??= { ok: false, reason: `failed to start: ${e.message}` };
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

/** The first photo (by name) of the data folder. */
async function defaultPhoto(weights: string | undefined): Promise<string> {
  const dir = join(resolveDataDir(weights), "photos");
  const name = (await readdir(dir)).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort()[0];
  if (!name) throw new Error(`bench: no photo (JPEG or PNG) in ${dir}`);
  return join(dir, name);
}

/** A measured configuration's rounds. */
type Rounds = Extract<ChildRun, { ok: true }>[];

/** The group a configuration's ratios and accuracy refer to: its runtime and thread count. */
const groupOf = ({ runtime, config }: MatrixConfig): string => `${runtime}/${config.threads}`;
const isBase = ({ config }: MatrixConfig): boolean =>
  config.engine === "inception-wasm" && config.precision === "strict";

/**
 * Runs every configuration once per round, alternating (the order rotates each round). A
 * disturbed round is run again up to `retries` times. A configuration that fails or cannot run
 * its thread count is dropped from later rounds with the reason; when inception-wasm (strict)
 * fails, so does the rest of its runtime and thread count (no base for their ratios).
 */
async function runRounds(
  configs: MatrixConfig[],
  rounds: number,
  retries: number,
  commands: Map<string, ChildCommand>,
  child: Omit<ChildSettings, "config">,
): Promise<{
  done: Map<MatrixConfig, Rounds>;
  disturbedRounds: Map<MatrixConfig, number>;
  unavailable: Map<MatrixConfig, string>;
}> {
  const done = new Map<MatrixConfig, Rounds>();
  const disturbedRounds = new Map<MatrixConfig, number>();
  const unavailable = new Map<MatrixConfig, string>();
  const total = configs.length * rounds;
  let count = 0;
  for (let round = 0; round < rounds; round++) {
    for (const mc of configs.map((_, i) => configs[(i + round) % configs.length])) {
      count++;
      if (unavailable.has(mc)) continue;
      const label = describeConfig(mc);
      let run: ChildRun;
      for (let attempt = 0; ; attempt++) {
        process.stderr.write(
          `bench: [${count}/${total}] round ${round + 1}/${rounds}: ${label}${attempt ? " (again: disturbed)" : ""}\n`,
        );
        run = await runChild(commands.get(mc.runtime)!, { config: mc.config, ...child }, label);
        const d = run.ok ? run.disturbance : undefined;
        const disturbed = d !== undefined && d.otherCores + d.stealCores > DISTURBED_CORES;
        if (!disturbed || attempt >= retries) {
          if (disturbed) disturbedRounds.set(mc, (disturbedRounds.get(mc) ?? 0) + 1);
          break;
        }
      }
      const reason = !run.ok
        ? run.reason
        : run.ready.threads !== mc.config.threads
          ? `runs ${run.ready.threads} thread(s), not ${mc.config.threads}: ${run.ready.threadNote}`
          : undefined;
      if (reason === undefined && run.ok) {
        done.set(mc, [...(done.get(mc) ?? []), run]);
        continue;
      }
      process.stderr.write(`bench: ${label}: not measured: ${reason}\n`);
      unavailable.set(mc, reason!);
      done.delete(mc);
      if (isBase(mc))
        for (const other of configs)
          if (other !== mc && groupOf(other) === groupOf(mc) && !unavailable.has(other)) {
            unavailable.set(other, `no inception-wasm (strict) to compare with here: ${reason}`);
            done.delete(other);
          }
    }
  }
  return { done, disturbedRounds, unavailable };
}

/** The rounds' register-only peak (their median), when the engine measured one. */
function registerPeakOver(list: Rounds): Pick<ResultRow, "registerPeak"> {
  const peaks = list.flatMap((r) => (r.result.registerPeak ? [r.result.registerPeak] : []));
  if (peaks.length === 0) return {};
  return { registerPeak: { build: peaks[0].build, gflops: median(peaks.map((p) => p.gflops)) } };
}

/** One configuration's figures over its rounds (medians; latencies pooled), without ratios. */
function resultRow(
  { runtime, config }: MatrixConfig,
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
    runtime,
    engine: config.engine,
    ...(config.engine === "inception-wasm" ? { precision: config.precision } : {}),
    threads: config.threads,
    version: first.version,
    threadNote: first.threadNote,
    ...(first.caveat ? { caveat: first.caveat } : {}),
    binary: first.binary,
    runs,
    rounds: list.length,
    disturbedRounds,
    disturbed: disturbedRounds > 0,
    cpu,
    ...registerPeakOver(list),
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

/** A report's file name without extension: <date>-<cpu>-<runtime ids>[-quick]. */
export function reportStem(report: Pick<SuiteReport, "date" | "machine" | "settings" | "quick">): string {
  return `${report.date.slice(0, 10)}-${slug(report.machine.cpu)}-${report.settings.runtimes.join("-")}${report.quick ? "-quick" : ""}`;
}

/** Runs the suite; writes <outDir>/<reportStem>.json and the .svg chart beside it. */
export async function runSuite(
  options: SuiteOptions,
): Promise<{ report: SuiteReport; jsonFile: string; svgFile: string }> {
  if (!options.precisions.includes("strict"))
    throw new InceptionError("E_USAGE", '--precision: "strict" must be included: it is the base of every ratio');
  const started = performance.now();
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
  const commands = new Map<string, ChildCommand>();
  const runtimes: RuntimeInfo[] = options.runtimes.map((id) => {
    const c = childCommand(id);
    if ("error" in c) return { id, unavailable: c.error };
    commands.set(id, c);
    return { id, command: commandLine(c) };
  });
  const photo = await defaultPhoto(options.weights);
  const onnxFile = join(tmpdir(), `inception-wasm-bench-${process.pid}.onnx`);
  const tfliteFile = join(tmpdir(), `inception-wasm-bench-${process.pid}.tflite`);
  await exportGoogLeNetOnnx(onnxFile, { weights: options.weights });
  if (engines.includes("litert")) await exportGoogLeNetTflite(tfliteFile, { weights: options.weights });
  const maxBatch = Math.max(...options.batches);
  const all: MatrixConfig[] = options.runtimes.flatMap((runtime) =>
    options.threads.flatMap((threads) =>
      engines.flatMap((engine) =>
        (engine === "inception-wasm" ? options.precisions : (["strict"] as const)).map((precision) => ({
          runtime,
          config: {
            engine,
            threads,
            precision,
            maxBatch,
            build: options.build,
            weights: options.weights,
            onnxFile,
            tfliteFile,
          },
        })),
      ),
    ),
  );
  const configs = all.filter((c) => commands.has(c.runtime));
  const { done, disturbedRounds, unavailable } = await runRounds(configs, rounds, options.quick ? 0 : 1, commands, {
    photo,
    warmup,
    runs: runsPerRound,
  }).finally(() => Promise.all([rm(onnxFile, { force: true }), rm(tfliteFile, { force: true })]));
  for (const c of all)
    if (!commands.has(c.runtime)) unavailable.set(c, runtimes.find((r) => r.id === c.runtime)!.unavailable!);

  const base = (c: MatrixConfig): MatrixConfig | undefined =>
    configs.find((b) => isBase(b) && groupOf(b) === groupOf(c) && done.has(b));
  const measured = configs
    .filter((c) => done.has(c))
    .map((c) => {
      // Accuracy: against inception-wasm (strict) at threads[0] in the same runtime.
      const reference = configs.find(
        (b) => isBase(b) && b.runtime === c.runtime && b.config.threads === options.threads[0] && done.has(b),
      );
      const ref = done.get(reference ?? base(c)!)![0].ready;
      return { c, row: resultRow(c, done.get(c)!, disturbedRounds.get(c) ?? 0, options.batches, macs, ref) };
    });
  if (measured.length === 0)
    throw new Error(
      `bench: nothing measured:\n${[...unavailable].map(([c, r]) => `${describeConfig(c)}: ${r}`).join("\n")}`,
    );
  const rows: ResultRow[] = measured.map(({ c, row }) => {
    const b = measured.find((m) => m.c === base(c))!.row;
    return { ...row, ratios: ratiosOf(row.figures, b.figures) };
  });
  for (const info of runtimes) {
    const ran: ChildRuntime | undefined = configs
      .filter((c) => c.runtime === info.id && done.has(c))
      .map((c) => done.get(c)![0].ready.runtime)[0];
    if (ran) Object.assign(info, { name: ran.name, version: ran.version, engine: ran.engine });
    else info.unavailable ??= "no configuration ran here (see unavailable)";
  }

  const versions: Record<string, string> = {
    "inception-wasm": await packageVersion(),
    harness: `node ${process.versions.node}`,
  };
  for (const row of rows) if (row.engine !== "inception-wasm") versions[row.engine] ??= row.version;
  const kernels = options.kernelsFile
    ? (JSON.parse(await readFile(options.kernelsFile, "utf8")) as KernelReport)
    : undefined;
  const cpuModel = cpus()[0]?.model.trim() ?? "unknown CPU";
  const report: SuiteReport = {
    schema: 2,
    date: new Date().toISOString(),
    quick: options.quick,
    command: options.command,
    wallSeconds: (performance.now() - started) / 1000,
    machine: {
      cpu: cpuModel,
      cores: availableParallelism(),
      memoryMB: Math.round(totalmem() / 2 ** 20),
      platform: process.platform,
      arch: process.arch,
    },
    runtimes,
    versions,
    model: {
      network: "GoogLeNet (BVLC)",
      inputSize: INPUT_SIZE,
      multiplyAdds: macs,
      gflopPerImage: (2 * macs) / 1e9,
      photo,
    },
    settings: {
      runtimes: options.runtimes,
      precisions: options.precisions,
      engines,
      threads: options.threads,
      batches: options.batches,
      rounds,
      runsPerRound,
      warmup,
      disturbedCores: DISTURBED_CORES,
    },
    results: rows,
    unavailable: all
      .filter((c) => unavailable.has(c))
      .map((c) => ({
        runtime: c.runtime,
        engine: c.config.engine,
        ...(c.config.engine === "inception-wasm" ? { precision: c.config.precision } : {}),
        threads: c.config.threads,
        reason: unavailable.get(c)!,
      })),
    kernels: kernels && { file: options.kernelsFile!, ...kernels },
  };
  const outDir = options.outDir ?? join(projectRoot(), "bench", "results");
  await mkdir(outDir, { recursive: true });
  const stem = join(outDir, reportStem(report));
  await writeFile(`${stem}.json`, JSON.stringify(report, null, 2) + "\n");
  await writeFile(`${stem}.svg`, renderChart(report));
  return { report, jsonFile: `${stem}.json`, svgFile: `${stem}.svg` };
}
