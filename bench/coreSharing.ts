// What N threads at once get from this machine: the register-only f32x4 multiply-add loop
// (assembly/probe.ts, probeRegisterPeak: throughput-bound, the ceiling of every kernel, owing
// nothing to our code), the 6x8 GEMM micro-kernel on L1-resident panels (probeTile: our kernel
// without the memory beyond L1) and a dependent scalar multiply-add chain (latency-bound), each run
// by one worker alone and by N workers at once for the same wall time, alternating round by round.
// The sum of the N workers' rates over the lone worker's is the scaling ceiling of such code here:
//   both ~N                      the threads have cores of their own;
//   latency ~N, throughput < N   they share one core's vector units (SMT siblings);
//   both < N                     the vCPUs share hardware threads with each other or other guests.
// Wall clock, Node worker_threads; medians over the rounds.
//
//   node dist/bench/coreSharing.js [--threads 2] [--rounds 9] [--ms 250] [--build auto|baseline|relaxed] [--out DIR]

import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { runtimeLabel } from "../src/host/runtimeName.js";
import { compileKernels, createSharedMemory, instantiateKernels, type BuildChoice } from "../src/host/wasm/kernels.js";
import { measureRegisterPeak, registerPeakFlops } from "../src/host/wasm/peak.js";
import { tileFamily, tileNamed } from "../src/host/wasm/tiles.js";
import { Arena } from "../src/host/wasm/arena.js";
import { fill } from "./kernelTiming.js";
import { nodeRuntime } from "../src/node/runtime.js";
import { intOption } from "./options.js";
import { slug } from "./slug.js";
import { median } from "./stats.js";

/** The loops: "throughput" and "tile" (f32x4 multiply-adds, GFLOP/s), "latency" (dependent scalar steps per ns). */
type Loop = "throughput" | "tile" | "latency";
const LOOPS: Loop[] = ["throughput", "tile", "latency"];

/** A request to a worker: wait for `go` (shared Int32 at 0 becomes 1), then run `loop` for `ms`. */
interface Job {
  loop: Loop;
  ms: number;
}

/** Steps of one dependent-chain call (a few ms at 4-8 cycles a step). */
const LATENCY_STEPS = 1 << 20;
/** The tile loop: the tile, its K steps (panels of 1.5-2 KB: L1) and micro-kernel calls per probeTile call (about 1 ms). */
const TILE = "6x8";
const TILE_KC = 64;
const TILE_CALLS = 4000;

/** One worker: its own instance of the build; runs jobs and posts each job's rate. */
async function worker(build: BuildChoice, go: Int32Array): Promise<void> {
  const compiled = await compileKernels(build, nodeRuntime);
  const memory = createSharedMemory(1 << 20, 1 << 20);
  const k = instantiateKernels(compiled.module, memory);
  const peak = measureRegisterPeak(k); // the warm-up: the probe leaves the baseline tier
  const tile = tileNamed(tileFamily(k), TILE, "TILE");
  const arena = new Arena(memory, k.heapBase());
  const a = arena.put(fill(new Float32Array(TILE_KC * tile.rows), 5));
  const b = arena.put(fill(new Float32Array(TILE_KC * tile.cols), 6));
  const c = arena.alloc(tile.rows * tile.cols * 4);
  const tmp = arena.alloc(4096);
  const tileCall = () => k.probeTile(tile.id, a, b, c, TILE_KC, TILE_CALLS, tmp);
  for (let i = 0; i < 20; i++) tileCall();
  const chains = peak.chains;
  const iterations = peak.iterations;
  let sink = 0;
  const chain = (x: number): number => {
    for (let i = 0; i < LATENCY_STEPS; i++) x = x * 0.999999 + 1e-6;
    return x;
  };
  for (let i = 0; i < 50; i++) sink += chain(1);
  parentPort!.postMessage({ ready: compiled.build });
  parentPort!.on("message", (job: Job) => {
    Atomics.wait(go, 0, 0);
    const t0 = performance.now();
    let work = 0,
      t = t0;
    while (t - t0 < job.ms) {
      if (job.loop === "throughput") {
        sink += k.probeRegisterPeak(0.5, 1, iterations);
        work += registerPeakFlops(chains, iterations);
      } else if (job.loop === "tile") {
        tileCall();
        work += 2 * TILE_CALLS * TILE_KC * tile.rows * tile.cols;
      } else {
        sink += chain(sink % 1);
        work += LATENCY_STEPS;
      }
      t = performance.now();
    }
    // GFLOP/s, or steps per ns; `sink` keeps the loops from being optimised away.
    parentPort!.postMessage({ rate: work / ((t - t0) * 1e6), sink: Number.isFinite(sink) });
  });
}

if (!isMainThread) {
  const { build, go } = workerData as { build: BuildChoice; go: SharedArrayBuffer };
  await worker(build, new Int32Array(go));
} else {
  const { values: opts } = parseArgs({
    options: {
      threads: { type: "string", default: "2" },
      rounds: { type: "string", default: "9" },
      ms: { type: "string", default: "250" },
      build: { type: "string", default: "auto" },
      out: { type: "string" },
    },
  });
  const threads = intOption("bench/coreSharing", "threads", opts.threads, 2);
  const rounds = intOption("bench/coreSharing", "rounds", opts.rounds);
  const ms = intOption("bench/coreSharing", "ms", opts.ms);
  const go = new SharedArrayBuffer(4);
  const flag = new Int32Array(go);
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL(import.meta.url), { workerData: { build: opts.build, go } }),
  );
  const next = (w: Worker): Promise<{ ready?: string; rate?: number }> =>
    new Promise((resolve, reject) => {
      w.once("error", reject);
      w.once("message", (m) => {
        w.off("error", reject);
        resolve(m);
      });
    });
  const builds = await Promise.all(workers.map(next));
  const build = builds[0].ready!;
  const load0 = loadavg();

  /** Per-thread rates of `loop` run by `n` workers at once. */
  async function runAt(loop: Loop, n: number): Promise<number[]> {
    Atomics.store(flag, 0, 0);
    const results = workers.slice(0, n).map(next);
    for (const w of workers.slice(0, n)) w.postMessage({ loop, ms } satisfies Job);
    await new Promise((r) => setTimeout(r, 20)); // every worker is waiting on the flag
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    return (await Promise.all(results)).map((r) => r.rate!);
  }

  const samples = Object.fromEntries(LOOPS.map((l) => [l, { alone: [] as number[], together: [] as number[][] }]));
  for (let r = 0; r < rounds; r++) {
    for (const loop of LOOPS) {
      const order = r % 2 === 0 ? [1, threads] : [threads, 1];
      for (const n of order) {
        const rates = await runAt(loop, n);
        if (n === 1) samples[loop].alone.push(rates[0]);
        else samples[loop].together.push(rates);
      }
    }
  }
  await Promise.all(workers.map((w) => w.terminate()));

  const figures = Object.fromEntries(
    LOOPS.map((loop) => {
      const s = samples[loop];
      const sums = s.together.map((rates) => rates.reduce((a, b) => a + b, 0));
      return [
        loop,
        {
          aloneMedian: median(s.alone),
          perThreadTogetherMedian: median(s.together.flat()),
          /** Each round's sum of the N rates over that round's lone rate. */
          ceilingMedian: median(sums.map((sum, i) => sum / s.alone[i])),
          ceilingMin: Math.min(...sums.map((sum, i) => sum / s.alone[i])),
          ceilingMax: Math.max(...sums.map((sum, i) => sum / s.alone[i])),
        },
      ];
    }),
  );
  const report = {
    date: new Date().toISOString(),
    command: `node dist/bench/coreSharing.js --threads ${threads} --rounds ${rounds} --ms ${ms} --build ${opts.build}`,
    runtime: runtimeLabel(),
    cpu: cpus()[0]?.model.trim() ?? "unknown CPU",
    cores: cpus().length,
    build,
    threads,
    rounds,
    ms,
    loadAverage: { before: load0, after: loadavg() },
    units: {
      throughput: "GFLOP/s (f32x4 multiply-adds, 12 chains)",
      tile: `GFLOP/s (${TILE} micro-kernel, L1 panels)`,
      latency: "dependent f64 multiply-add steps per ns",
    },
    figures,
    samples,
  };
  const f2 = (x: number) => x.toFixed(2);
  console.log(
    `${report.runtime}, ${report.cpu} (${report.cores} vCPUs), ${build} build, 1 vs ${threads} threads at once, ` +
      `${rounds} rounds of ${ms} ms, load average ${load0.map(f2).join(" ")}`,
  );
  for (const loop of LOOPS) {
    const f = figures[loop];
    console.log(
      `${loop.padEnd(10)} alone ${f2(f.aloneMedian)}, each of ${threads} at once ${f2(f.perThreadTogetherMedian)} ` +
        `(${report.units[loop]}); ceiling ${f2(f.ceilingMedian)}x (rounds ${f2(f.ceilingMin)}-${f2(f.ceilingMax)}x)`,
    );
  }
  if (opts.out) {
    await mkdir(opts.out, { recursive: true });
    const file = join(opts.out, `${report.date.slice(0, 10)}-${slug(report.cpu)}-core-sharing.json`);
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(file);
  }
}
