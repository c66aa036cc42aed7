// Timing helpers the kernel benchmarks share (bench/kernels.ts, bench/profile.ts): seeded fills,
// a sampler that keeps the median and the fastest sample, and a tile's micro-kernel on L1 data.

import type { KernelExports } from "../src/host/wasm/kernels.js";
import type { TileInfo } from "../src/host/wasm/tiles.js";
import type { Arena } from "../src/host/wasm/arena.js";

/** `a` filled with seeded values in [-1, 1) (a linear congruential sequence). */
export function fill(a: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

/** Median and fastest milliseconds of a sampled call. */
export interface Timing {
  median: number;
  min: number;
}

/**
 * A sampler on clock `now`: two warm-up calls of `fn`, then samples until `sampleMs` wall
 * milliseconds have passed (at least 3).
 */
export function sampler(now: () => number, sampleMs: number): (fn: () => void) => Timing {
  return (fn) => {
    fn();
    fn();
    const samples: number[] = [];
    const t0 = performance.now();
    while (samples.length < 3 || performance.now() - t0 < sampleMs) {
      const s = now();
      fn();
      samples.push(now() - s);
    }
    samples.sort((a, b) => a - b);
    return { median: samples[samples.length >> 1], min: samples[0] };
  };
}

/** A tile's micro-kernel on L1-resident panels (kc 64: 2-4 KB each), GFLOP/s of its fastest sample. */
export function tileL1Gflops(
  k: KernelExports,
  arena: Arena,
  tile: TileInfo,
  measure: (fn: () => void) => Timing,
): number {
  const kc = 64,
    iterations = 4000;
  const mark = arena.mark();
  const a = arena.put(fill(new Float32Array(kc * tile.rows), 5));
  const b = arena.put(fill(new Float32Array(kc * tile.cols), 6));
  const c = arena.alloc(tile.rows * tile.cols * 4);
  const tmp = arena.alloc(4096);
  const { min } = measure(() => k.probeTile(tile.id, a, b, c, kc, iterations, tmp));
  arena.release(mark);
  return (2 * iterations * kc * tile.rows * tile.cols) / (min * 1e6);
}
