// bench/profile.ts's split of a step's time into causes (bench/profileCauses.ts): the fit recovers
// an exactly linear time's intercept, clamps what noise pushes out of range, and names the largest.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { dominantCause, fitCauses, type RowFit } from "../bench/profileCauses.js";

/** A step whose time is exactly packing + rows x perRow; its multiply-adds at the register-only peak would take `peakMs`. */
function linear(packing: number, perRow: number, rows: number, halfRows: number, peakMs: number): RowFit {
  const fullMs = packing + perRow * rows;
  return {
    medianMs: fullMs,
    fullMs,
    halfMs: packing + perRow * halfRows,
    rows,
    halfRows,
    paddedFlops: peakMs * 40e6,
    peakGflops: 40,
    intercept: "packing",
  };
}

const close = (a: number | undefined, b: number, what: string): void =>
  assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${what}: ${a} against ${b}`);

test("an exactly linear time: the intercept is the packing, compute the time at peak, loads the rest", () => {
  const c = fitCauses(linear(1.5, 0.1, 192, 96, 12));
  close(c.packing, 1.5, "packing");
  close(c.compute, 12, "compute");
  close(c.loads, 19.2 - 12, "loads");
  assert.is(dominantCause(c), "compute");
});

test("the causes add up to the median; shares are the fastest sample's, scaled", () => {
  const fit = { ...linear(2, 0.05, 64, 30, 1), medianMs: 2 * (2 + 0.05 * 64) };
  const c = fitCauses(fit);
  close((c.packing ?? 0) + (c.compute ?? 0) + (c.loads ?? 0), fit.medianMs, "sum");
  close(c.packing, 4, "packing, doubled with the median");
});

test("noise that makes the half call slower than the whole clamps the intercept to the whole time", () => {
  const c = fitCauses({ ...linear(1, 0.1, 100, 50, 5), halfMs: 20 });
  close(c.packing, 11, "packing");
  close(c.compute, 0, "compute");
  close(c.loads, 0, "loads");
  assert.is(dominantCause(c), "packing");
});

test("a per-row time faster than the peak allows: compute is capped at it, loads never negative", () => {
  const c = fitCauses(linear(0, 0.1, 100, 50, 50));
  close(c.compute, 10, "compute");
  close(c.loads, 0, "loads");
  assert.is(fitCauses({ ...linear(1, 0.1, 100, 50, 5), intercept: "transforms" }).transforms, 1);
});

test("dominantCause skips absent causes and names the largest", () => {
  assert.is(dominantCause({ compute: 1, loads: undefined, sync: 3, other: 2 }), "sync");
  assert.is(dominantCause({}), "");
});

test.run();
