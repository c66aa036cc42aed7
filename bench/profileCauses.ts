// How bench/profile.ts splits a GEMM or Winograd step's time into causes, from its measurements
// alone (pure arithmetic, tested in test/benchProfile.test.ts).

/** Milliseconds per cause; a step has only the causes its kernel can have (see bench/profile.ts). */
export type Causes = Partial<Record<"compute" | "loads" | "packing" | "transforms" | "sync" | "other", number>>;

/** What the split of one step is computed from. */
export interface RowFit {
  /** The step's median ms over rounds: the causes add up to it. */
  medianMs: number;
  /** Fastest ms of the whole row range and of the first `halfRows` rows (the same columns and data). */
  fullMs: number;
  halfMs: number;
  rows: number;
  halfRows: number;
  /** Flops its micro-kernels execute (padded to whole register tiles) and the register-only peak (GFLOP/s). */
  paddedFlops: number;
  peakGflops: number;
  /** Where the intercept goes: "packing" (GEMM: im2col or dense B panels) or "transforms" (Winograd input). */
  intercept: "packing" | "transforms";
}

/**
 * Time = intercept + rows x per-row time, fitted through the two fastest samples (clamped to
 * [0, fullMs]); compute = paddedFlops at the register-only peak (at most the per-row part); loads =
 * the rest of the per-row part (the micro-kernel's operand loads, from L1 or beyond, and edge tiles).
 * Shares are of the fastest sample, scaled to the median.
 */
export function fitCauses(f: RowFit): Causes {
  const perRow = (f.fullMs - f.halfMs) / (f.rows - f.halfRows);
  const intercept = Math.min(f.fullMs, Math.max(0, f.fullMs - perRow * f.rows));
  const compute = Math.min(f.fullMs - intercept, f.paddedFlops / (f.peakGflops * 1e6));
  const scale = f.medianMs / f.fullMs;
  return {
    compute: compute * scale,
    loads: (f.fullMs - intercept - compute) * scale,
    [f.intercept]: intercept * scale,
  };
}

/** The cause with the most milliseconds (the first of equals, in the object's order). */
export function dominantCause(causes: Causes): string {
  let best = "",
    most = -Infinity;
  for (const [name, ms] of Object.entries(causes)) {
    if (ms !== undefined && ms > most) [best, most] = [name, ms];
  }
  return best;
}
