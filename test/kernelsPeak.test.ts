// The register-only peak probe (assembly/probe.ts probeRegisterPeak, src/host/wasm/peak.ts): that a
// call does the work its flop count claims (every chain, every step), checked by its exact result,
// and that the measurement reports what it ran. Its speed is the benchmarks' business, not asserted.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { MAX_PEAK_ITERATIONS, measureRegisterPeak, registerPeakFlops } from "../src/host/wasm/peak.js";
import { loadBuild, type Loaded } from "./support/kernelHarness.js";

const builds: Loaded[] = [await loadBuild("baseline"), await loadBuild("relaxed")];

/**
 * The probe's result in float64: `chains` chains, chain j from j, each step c = c * x + y, summed
 * over 4 lanes and every chain. With x = 0.5, y = 1 and at most 20 steps every value is a multiple of
 * 2^-20 below 2^5, so f32 holds each product, sum and the total exactly, fused or not: the f32 result
 * must equal it bit for bit (a missing chain or step changes it by at least 4 * 2^-20).
 */
function reference(chains: number, x: number, y: number, steps: number): number {
  let total = 0;
  for (let j = 0; j < chains; j++) {
    let c = j;
    for (let i = 0; i < steps; i++) c = c * x + y;
    total += 4 * c;
  }
  return total;
}

for (const { build, k } of builds) {
  test(`${build}: probeRegisterPeak runs every chain for every step (exact result)`, () => {
    const chains = k.probeRegisterChains();
    assert.ok(chains >= 8 && chains <= 14, `chains ${chains}: enough to hide FMA latency, few enough for 16 registers`);
    for (const steps of [0, 1, 2, 7, 20]) {
      assert.is(k.probeRegisterPeak(0.5, 1, steps), reference(chains, 0.5, 1, steps), `${steps} steps`);
    }
  });

  test(`${build}: measureRegisterPeak reports its calls and a finite figure`, () => {
    const peak = measureRegisterPeak(k);
    assert.is(peak.chains, k.probeRegisterChains());
    assert.ok(peak.warmupCalls >= 20, `warm-up calls ${peak.warmupCalls}`);
    assert.ok(peak.timedCalls >= 5, `timed calls ${peak.timedCalls}`);
    assert.ok(Number.isFinite(peak.gflops) && peak.gflops > 0, `GFLOP/s ${peak.gflops}`);
    assert.is(registerPeakFlops(peak.chains, peak.iterations), peak.iterations * peak.chains * 8);
  });
}

test("a clock that stands still gives NaN, not a figure, and the doubling stops", () => {
  const { k } = builds[0];
  const peak = measureRegisterPeak(k, () => 0);
  assert.ok(Number.isNaN(peak.gflops));
  assert.ok(
    peak.iterations >= MAX_PEAK_ITERATIONS && peak.iterations < 2 * MAX_PEAK_ITERATIONS,
    `${peak.iterations} steps`,
  );
  assert.is(peak.timedCalls, 0);
});

test.run();
