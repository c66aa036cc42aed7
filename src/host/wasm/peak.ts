// The register-only peak of a build on the running engine: f32x4 multiply-adds in independent
// chains with no memory operand (assembly/probe.ts, probeRegisterPeak), the ceiling that no
// kernel of ours can pass and that owes nothing to our loads, packing or tiles. Benchmarks quote
// every kernel figure as a fraction of it.

import {
  compileKernels,
  createSharedMemory,
  instantiateKernels,
  type BuildName,
  type KernelFiles,
  type KernelQueries,
} from "./kernels.js";

/** One measurement of the register-only peak. */
export interface RegisterPeak {
  /** GFLOP/s of the fastest timed call (2 flops per multiply-add). */
  gflops: number;
  /** Independent f32x4 chains in the probe's loop (probeRegisterChains()). */
  chains: number;
  /** Loop steps per timed call (each: `chains` f32x4 multiply-adds). */
  iterations: number;
  /** Untimed warm-up calls, then timed calls. */
  warmupCalls: number;
  timedCalls: number;
  /** Milliseconds the whole measurement took on its clock. */
  ms: number;
}

/** Steps of a warm-up call: a few microseconds once optimised. */
const WARMUP_ITERATIONS = 2000;
/** Warm-up budget: V8 cannot switch a running wasm call to optimised code, so short calls come first. */
const WARMUP_MS = 8;
/** At most this many warm-up calls (about 20 ms optimised), whatever the clock says. */
const MAX_WARMUP_CALLS = 5000;
/** A timed call lasts at least this long (its steps are doubled from WARMUP_ITERATIONS until it does). */
const CALL_MS = 1;
/** Timed calls go on until this budget is spent, at least MIN_TIMED_CALLS and at most MAX_TIMED_CALLS. */
const TIMED_MS = 16;
const MIN_TIMED_CALLS = 5;
const MAX_TIMED_CALLS = 200;
/**
 * Largest step count of a call (about 30 ms at 50 GFLOP/s): a call this long that still reads under
 * CALL_MS means a clock that does not advance while code runs, and the probe gives up (NaN).
 */
export const MAX_PEAK_ITERATIONS = 1 << 24;

/** The probe's multiplier and addend: chains converge to y / (1 - x) = 2 (see probeRegisterPeak). */
const X = 0.5,
  Y = 1;

/** Flops of one probe call: iterations x chains x 4 lanes x (multiply + add). */
export function registerPeakFlops(chains: number, iterations: number): number {
  return iterations * chains * 4 * 2;
}

/**
 * Measures the register-only peak of an instantiated build (`k`; it needs no memory): short calls
 * until about WARMUP_MS have passed (they move the probe out of the engine's baseline tier), then
 * calls of at least CALL_MS for about TIMED_MS; the fastest call counts (a ceiling: a call that lost
 * the core to another process does not decide). About 25-30 ms in all. `now`: the clock in ms
 * (wall by default; a CPU-time clock leaves out time the core was taken).
 */
export function measureRegisterPeak(k: KernelQueries, now: () => number = () => performance.now()): RegisterPeak {
  const chains = k.probeRegisterChains();
  const started = now();
  let warmupCalls = 0;
  while (warmupCalls < 20 || (warmupCalls < MAX_WARMUP_CALLS && now() - started < WARMUP_MS)) {
    k.probeRegisterPeak(X, Y, WARMUP_ITERATIONS);
    warmupCalls++;
  }
  let iterations = WARMUP_ITERATIONS;
  let best = Infinity;
  for (;;) {
    const t0 = now();
    k.probeRegisterPeak(X, Y, iterations);
    const ms = now() - t0;
    if (ms >= CALL_MS) {
      best = ms;
      break;
    }
    if (iterations >= MAX_PEAK_ITERATIONS) {
      return { gflops: Number.NaN, chains, iterations, warmupCalls, timedCalls: 0, ms: now() - started };
    }
    iterations *= 2;
  }
  const timedFrom = now();
  let timedCalls = 1;
  while (timedCalls < MIN_TIMED_CALLS || (timedCalls < MAX_TIMED_CALLS && now() - timedFrom < TIMED_MS)) {
    const t0 = now();
    k.probeRegisterPeak(X, Y, iterations);
    const ms = now() - t0;
    if (ms > 0) best = Math.min(best, ms);
    timedCalls++;
  }
  return {
    gflops: registerPeakFlops(chains, iterations) / (best * 1e6),
    chains,
    iterations,
    warmupCalls,
    timedCalls,
    ms: now() - started,
  };
}

/**
 * The register-only peak GFLOP/s of one thread for `build` on the running engine, compiled from
 * `files` and measured in a one-page memory of its own (about 30 ms; the probe needs no memory).
 */
export async function registerPeakOf(build: BuildName, files: KernelFiles): Promise<number> {
  const compiled = await compileKernels(build, files);
  return measureRegisterPeak(instantiateKernels(compiled.module, createSharedMemory(65536, 65536))).gflops;
}
