// The per-layer profile's measuring core, portable (no `node:` module: it runs under Node, Deno
// and Bun through bench/profile.ts and in a Chromium page through bench/profilePage.ts): GoogLeNet
// planned for batch 1, 224x224, real weights and a synthetic input; per planned step its time,
// GFLOP/s, the fraction of the register-only peak (src/host/wasm/peak.ts) and which cause
// dominates, each cause measured:
//
//   packing     the intercept of the step's time against its output rows: a GEMM packs its B panels
//               (im2col, or dense rows for 1x1) once per column block whatever rows it computes, so
//               timing the whole row range and about half of it (same columns, same data) gives
//               time = packing + rows x per-row kernel time;
//   transforms  the same intercept for a Winograd step (fast mode): its input transform, done once
//               per tile block whatever output channels it computes;
//   compute     the step's multiply-adds (rows and columns padded to whole register tiles) at the
//               register-only peak: the time if the micro-kernel did nothing but multiply-add;
//   loads       the rest of the per-row time: the micro-kernel's operand loads (from L1: compare the
//               tile's L1 figure in the header with the peak; and beyond L1: A panels streamed, B
//               panels, C), edge tiles, and for Winograd its output transform;
//   sync        with threads N > 1: the step alone through the worker pool (its own one-step plan),
//               idle thread-ms over N x the stage's wall time (fork-join, waiting, imbalance);
//   other       pooling, LRN, FC and softmax: the kernel itself (not decomposed).
//
// Rounds alternate the full and the half-rows calls of every step; a step's time is its median over
// rounds, and its causes the fit on the fastest samples (the least disturbed), scaled to that median.

import type { Profile } from "../src/host/exec/executor.js";
import { WorkerPool } from "../src/host/exec/threadPool.js";
import type { WorkerHost } from "../src/host/exec/workers.js";
import type { TensorMap } from "../src/host/ir/tensors.js";
import { planGraph, writeWeights, type Plan, type Step } from "../src/host/plan/plan.js";
import { Arena } from "../src/host/wasm/arena.js";
import { encodeCall, narrowCall, withScratch } from "../src/host/wasm/calls.js";
import {
  createSharedMemory,
  instantiateKernels,
  scratchKernels,
  type CompiledKernels,
} from "../src/host/wasm/kernels.js";
import { measureRegisterPeak } from "../src/host/wasm/peak.js";
import { chooseTile, type TileChoice, type TileInfo } from "../src/host/wasm/tiles.js";
import { syntheticInput } from "../src/model/network/golden.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { sampler, tileL1Gflops } from "./kernelTiming.js";
import { dominantCause, fitCauses, type Causes } from "./profileCauses.js";
import { slug } from "./slug.js";
import { median } from "./stats.js";

/** Untimed rounds first: they move every kernel out of the engine's baseline tier (no OSR for wasm in V8). */
const WARMUP_ROUNDS = 3;

/** What a profile runs on: compiled kernels, weights, a clock and a worker host, all the caller's. */
export interface ProfileSettings {
  compiled: CompiledKernels;
  tensors: TensorMap;
  /** The register tile: "auto" (the load-time probe's pick) or a tile's name. */
  tile: TileChoice;
  fast: boolean;
  rounds: number;
  /** 1: the serial profile only; N > 1: each step also alone through an N-thread pool (sync). */
  threads: number;
  /** Milliseconds on the clock named `clock` (only differences mean anything). */
  now: () => number;
  clock: string;
  /** Starts the pool's workers (threads > 1). */
  host: WorkerHost;
  /** Recorded in the report: the runtime and its version, the CPU, where the kernels came from. */
  runtime: string;
  cpu: string;
  kernels: string;
}

/** One planned step's profile. */
export interface ProfileRow {
  layer: string;
  kernel: string;
  ms: number;
  gflops: number;
  /** gflops over the register-only peak. */
  ofPeak: number;
  /** Milliseconds per cause (sync: idle thread-ms of the N-thread run, scaled to the step's 1-thread time). */
  causes: Causes;
  /** The largest cause; a kernel of its own ("other") is named by its op. */
  dominant: string;
  /** With threads N: the step alone on N threads (stage wall ms) and its idle fraction. */
  threadsMs?: number;
  idle?: number;
}

/** A whole profile, as bench/profile.ts --json writes it. */
export interface ProfileReport {
  runtime: string;
  cpu: string;
  date: string;
  build: string;
  kernels: string;
  tile: string;
  tileReason: string;
  precision: string;
  clock: string;
  rounds: number;
  threads: number;
  /** The best of three measurements (registerPeakSamples: all three, so an implausible one shows). */
  registerPeakGflops: number;
  registerPeakSamples: number[];
  tileL1Gflops: number;
  /** The sum of the per-step medians. */
  totalMs: number;
  gflops: number;
  /** gflops over the register-only peak: the time the network's multiply-adds take at that peak, over totalMs. */
  ofPeak: number;
  /** Milliseconds per cause over every step, at 1 thread (sync is in the rows and `pool`). */
  byCause: Record<string, number>;
  memoryMs: number;
  memoryBytes: number;
  pool?: {
    startMs: number;
    totalMs: number;
    stagesMs: number;
    /** Idle thread-ms over threads x stage wall ms, over every step. */
    idleShare: number;
  };
  rows: ProfileRow[];
}

/** The step with rows [first, first + rows) of its row range (the same columns and data). */
function withRows(step: Step, rows: number, scratch: number): number[] {
  const r = step.split.rows!,
    c = step.split.cols;
  return encodeCall(
    narrowCall(step.call, { r0: r.first, r1: r.first + rows, c0: c?.first ?? 0, c1: c?.end ?? 0 }, scratch),
  );
}

/** Rows of a half-rows call: about half the range in whole aligned panels, or 0 when the range has one panel. */
function halfRows(step: Step): number {
  const r = step.split.rows;
  if (!r || step.op !== "conv") return 0;
  const half = Math.floor((r.end - r.first) / 2 / r.align) * r.align;
  return half >= r.align && half < r.end - r.first ? half : 0;
}

/** Multiply-adds a step's micro-kernels execute: rows and columns padded to whole register tiles (GEMM), else its own count. */
function paddedMultiplyAdds(step: Step, plan: Plan): number {
  const a = step.call.args as Record<string, number>;
  if (step.call.kernel === "gemmConv" || step.call.kernel === "gemmDense") {
    const { rows, cols } = plan.tile;
    return Math.ceil(a.M / rows) * rows * Math.ceil(a.N / cols) * cols * a.K;
  }
  if (step.call.kernel === "winogradConv") return 36 * (a.t1 - a.t0) * (a.m1 - a.m0) * a.C;
  return 0;
}

/** Profiles the network under `s` (see the header): every step timed over s.rounds rounds after warm-up. */
export async function profileNetwork(s: ProfileSettings): Promise<ProfileReport> {
  const { compiled, rounds, threads, now } = s;
  const graph = googlenetGraph();
  const chosen = chooseTile(compiled, s.tile, "--tile");
  const tile: TileInfo = chosen.tile;
  const probe = scratchKernels(compiled).k;
  const plan: Plan = planGraph(graph, probe, {
    height: 224,
    width: 224,
    lanes: Math.max(1, threads),
    keepAll: false,
    precision: s.fast ? "fast" : "strict",
    tile,
  });
  const memoryStart = performance.now();
  const memory = createSharedMemory(plan.memoryBytes, plan.memoryBytes);
  /** Wall ms to create the network's shared memory (a fresh one: the first in this process). */
  const memoryMs = performance.now() - memoryStart;
  const k = instantiateKernels(compiled.module, memory);
  writeWeights(graph, plan, s.tensors, k, memory);
  new Float32Array(memory.buffer, plan.input.ptr, 3 * 224 * 224).set(syntheticInput(3 * 224 * 224));

  const scratch = plan.scratch[0];
  const calls = plan.steps.map((step) => {
    const half = halfRows(step);
    return {
      step,
      fn: k[step.call.kernel],
      full: encodeCall(withScratch(step.call, scratch)),
      half,
      halfArgs: half > 0 ? withRows(step, half, scratch) : [],
    };
  });
  const full = calls.map((): number[] => []);
  const halves = calls.map((): number[] => []);
  for (let r = 0; r < WARMUP_ROUNDS + rounds; r++) {
    calls.forEach((c, i) => {
      // Alternate which of the two calls goes first, so neither always finds the other's data in cache.
      const order = r % 2 === 0 ? ["full", "half"] : ["half", "full"];
      for (const which of order) {
        if (which === "half" && c.half === 0) continue;
        const t0 = now();
        c.fn(...(which === "full" ? c.full : c.halfArgs));
        const ms = now() - t0;
        if (r >= WARMUP_ROUNDS) (which === "full" ? full : halves)[i].push(ms);
      }
    });
  }
  // The network writes its activations in place: the half-rows calls leave every output as the full
  // call wrote it (same values, fewer rows), so later steps read the same data either way.

  // The peaks, in a memory of their own, after the rounds (when the engine's background compiles, which a
  // CPU-time clock counts, are over): the register-only peak and the tile's micro-kernel on L1 data, best of 3.
  const side = createSharedMemory(1 << 20, 1 << 20);
  const sideK = instantiateKernels(compiled.module, side);
  const arena = new Arena(side, sideK.heapBase());
  const measure = sampler(now, 20);
  const peaks = [0, 1, 2].map(() => measureRegisterPeak(sideK, now).gflops);
  const registerPeak = Math.max(...peaks);
  const tileL1 = Math.max(...[0, 1, 2].map(() => tileL1Gflops(sideK, arena, tile, measure)));

  /** Wall ms WorkerPool.create took (threads - 1 workers started, each instantiating the module). */
  let poolStartMs = 0;
  /** Per step alone on `threads` threads (its own one-step plan through the pool): stage wall ms and idle thread-ms. */
  async function pooled(): Promise<{ wall: number; idle: number }[]> {
    const started = performance.now();
    const pool = await WorkerPool.create(compiled.module, memory, threads, s.host);
    poolStartMs = performance.now() - started;
    try {
      const subs = plan.steps.map((step) => ({ ...plan, steps: [step] }));
      const walls = subs.map((): number[] => []);
      const idles = subs.map((): number[] => []);
      for (let r = 0; r < WARMUP_ROUNDS + rounds; r++) {
        for (let i = 0; i < subs.length; i++) {
          const profile: Profile = new Map();
          await pool.run(subs[i], profile);
          const idle = profile.get("wait") ?? 0;
          const busyWall = [...profile].reduce((a, [op, ms]) => (op === "wait" ? a : a + ms), 0);
          if (r >= WARMUP_ROUNDS) {
            walls[i].push(busyWall);
            idles[i].push(idle);
          }
        }
      }
      return subs.map((_, i) => ({ wall: median(walls[i]), idle: median(idles[i]) }));
    } finally {
      await pool.dispose();
    }
  }
  const poolStart = threads > 1 ? now() : 0;
  const parallel = threads > 1 ? await pooled() : undefined;
  const pooledMs = threads > 1 ? now() - poolStart : 0;

  const rows: ProfileRow[] = calls.map((c, i) => {
    const { step } = c;
    const ms = median(full[i]);
    const flops = 2 * step.multiplyAdds;
    const gflops = flops / (ms * 1e6);
    const causes: Causes = {};
    const kernel = step.call.kernel;
    if (c.half > 0) {
      const r = step.split.rows!;
      Object.assign(
        causes,
        fitCauses({
          medianMs: ms,
          fullMs: Math.min(...full[i]),
          halfMs: Math.min(...halves[i]),
          rows: r.end - r.first,
          halfRows: c.half,
          paddedFlops: 2 * paddedMultiplyAdds(step, plan),
          peakGflops: registerPeak,
          intercept: kernel === "winogradConv" ? "transforms" : "packing",
        }),
      );
    } else if (step.op === "conv") {
      causes.compute = ms; // a single panel of rows: not decomposed
    } else causes.other = ms;
    const row: ProfileRow = {
      layer: step.node,
      kernel,
      ms,
      gflops,
      ofPeak: gflops / registerPeak,
      causes,
      dominant: "",
    };
    if (parallel) {
      const p = parallel[i];
      row.threadsMs = p.wall;
      row.idle = p.wall > 0 ? p.idle / (threads * p.wall) : 0;
      // Sync in the same unit as the other causes: the idle share of the N-thread run, of this step's time.
      causes.sync = row.idle * ms;
    }
    const name = dominantCause(causes);
    row.dominant = name === "other" ? step.op : name;
    return row;
  });

  const totalMs = rows.reduce((a, r) => a + r.ms, 0);
  const totalFlops = plan.steps.reduce((a, st) => a + 2 * st.multiplyAdds, 0);
  const byCause: Record<string, number> = {};
  for (const r of rows) {
    for (const [c, ms] of Object.entries(r.causes)) if (c !== "sync") byCause[c] = (byCause[c] ?? 0) + ms;
  }
  return {
    runtime: s.runtime,
    cpu: s.cpu,
    date: new Date().toISOString(),
    build: compiled.build,
    kernels: s.kernels,
    tile: tile.name,
    tileReason: chosen.reason,
    precision: plan.precision,
    clock: s.clock,
    rounds,
    threads,
    registerPeakGflops: registerPeak,
    registerPeakSamples: peaks,
    tileL1Gflops: tileL1,
    totalMs,
    gflops: totalFlops / (totalMs * 1e6),
    ofPeak: totalFlops / (totalMs * 1e6) / registerPeak,
    byCause,
    memoryMs,
    memoryBytes: plan.memoryBytes,
    pool: parallel && {
      startMs: poolStartMs,
      totalMs: pooledMs,
      stagesMs: parallel.reduce((a, p) => a + p.wall, 0),
      idleShare: parallel.reduce((a, p) => a + p.idle, 0) / (threads * parallel.reduce((a, p) => a + p.wall, 0)),
    },
    rows,
  };
}

/** The report's file name in a results folder: <date>-<cpu>-<runtime>-<build>-<precision>-t<N>-profile.json. */
export function profileFileName(r: ProfileReport): string {
  return `${r.date.slice(0, 10)}-${slug(r.cpu)}-${slug(r.runtime)}-${r.build}-${r.precision}-t${r.threads}-profile.json`;
}

/** The report as text: a header, a line per step (ms, GFLOP/s, fraction of peak, ms per cause, dominant) and the totals. */
export function formatProfile(report: ProfileReport): string {
  const { rows, threads, pool } = report;
  const f = (x: number | undefined, d = 2, w = 7): string => (x === undefined ? "-" : x.toFixed(d)).padStart(w);
  const causeNames: (keyof Causes)[] = [
    "compute",
    "loads",
    "packing",
    "transforms",
    ...(pool ? ["sync" as const] : []),
    "other",
  ];
  const lines = [
    `${report.runtime}, ${report.cpu}, ${report.build} build, tile ${report.tile}, ${report.precision}, 1 thread, ${report.rounds} rounds, ${report.clock} clock`,
    `register-only peak ${report.registerPeakGflops.toFixed(1)} GFLOP/s (best of ${report.registerPeakSamples.map((g) => g.toFixed(1)).join(", ")}); tile ${report.tile} on L1 data ${report.tileL1Gflops.toFixed(1)} (${(report.tileL1Gflops / report.registerPeakGflops).toFixed(3)} of peak)`,
    "",
    `${"layer".padEnd(28)} ${"kernel".padEnd(12)} ${"ms".padStart(7)} ${"GF/s".padStart(6)} ${"/peak".padStart(6)}  ${causeNames.map((c) => c.padStart(7)).join(" ")}${pool ? `  ${`ms@${threads}`.padStart(7)} ${"idle".padStart(5)}` : ""}  dominant`,
    ...rows.map(
      (r) =>
        `${r.layer.padEnd(28)} ${r.kernel.padEnd(12)} ${f(r.ms)} ${f(r.gflops, 1, 6)} ${f(r.ofPeak, 3, 6)}  ${causeNames.map((c) => f(r.causes[c])).join(" ")}${pool ? `  ${f(r.threadsMs)} ${f(r.idle, 2, 5)}` : ""}  ${r.dominant}`,
    ),
    "",
    `total ${report.totalMs.toFixed(1)} ms (sum of per-step medians), ${report.gflops.toFixed(1)} GFLOP/s = ${report.ofPeak.toFixed(3)} of the register-only peak; by cause at 1 thread: ` +
      Object.entries(report.byCause)
        .map(([c, ms]) => `${c} ${ms.toFixed(1)} ms (${((100 * ms) / report.totalMs).toFixed(0)} %)`)
        .join(", "),
    `shared memory of ${(report.memoryBytes / 2 ** 20).toFixed(1)} MiB created in ${report.memoryMs.toFixed(2)} ms`,
  ];
  if (pool)
    lines.push(
      `${threads} threads, each step alone: ${pool.stagesMs.toFixed(1)} ms of stages (wall clock), idle ${(100 * pool.idleShare).toFixed(0)} % of the thread-ms (a pool run per step and round: ${pool.totalMs.toFixed(0)} ms in all); pool start ${pool.startMs.toFixed(1)} ms`,
    );
  return lines.join("\n");
}
