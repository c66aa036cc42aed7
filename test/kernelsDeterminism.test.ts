// Determinism: a convolution's output bytes (sha256) do not depend on the GEMM register tile,
// on how its output is cut into (m, n) ranges, on the order the ranges run in, or on repetition. The baseline build
// promises the same bits on every machine (so the debug build, compiled from the same
// source without relaxed SIMD, must match it bit for bit); the relaxed build promises
// determinism on one machine.

import { createHash } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { convOutSize } from "../src/host/ir/window.js";
import {
  describeConv,
  loadBuild,
  runConv,
  splitRanges,
  type ConvCase,
  type GemmRange,
  type Loaded,
} from "./support/kernelHarness.js";
import { announceSeed, randomArray, rngFor, shuffled } from "./support/rng.js";

const seed = announceSeed("kernels-determinism");
const builds: Loaded[] = [await loadBuild("baseline"), await loadBuild("relaxed")];
const debug = await loadBuild("debug");

/** [cin, h, w, m, kernel, stride, pad]: several K blocks (K > 512), partial tiles, the dense path, im2col with padding. */
const CASES: [number, number, number, number, number, number, number][] = [
  [96, 28, 28, 130, 3, 1, 1], // K 864: two K blocks; M % 4 = 2
  [480, 14, 14, 190, 1, 1, 0], // dense 1x1, K 480
  [832, 7, 7, 97, 1, 1, 0], // dense 1x1, K 832: two K blocks, N 49
  [32, 14, 14, 99, 5, 1, 2], // 5x5 pad 2, K 800
  [3, 37, 37, 19, 7, 2, 3], // conv1-like, stride 2
];

/** Case i of `cases` with seeded random input, weights and bias (ReLU on even i; the rng stream named by `label`). */
function makeCase(i: number, cases = CASES, label = "case"): ConvCase {
  const [cin, h, w, m, kernel, stride, pad] = cases[i];
  const rng = rngFor(seed, `${label} ${i}`);
  const K = cin * kernel * kernel;
  return {
    input: randomArray(rng, cin * h * w, -1, 1),
    shape: { c: cin, h, w },
    weight: randomArray(rng, m * K, -1, 1),
    bias: randomArray(rng, m, -1, 1),
    outChannels: m,
    kh: kernel,
    kw: kernel,
    stride,
    pad,
    relu: i % 2 === 0,
  };
}

function outputs(c: ConvCase): number {
  return convOutSize(c.shape.h, c.kh, c.stride, c.pad) * convOutSize(c.shape.w, c.kw, c.stride, c.pad);
}

function hashOf(L: Loaded, c: ConvCase, ranges?: GemmRange[], tile = 0): string {
  const run = runConv(L.k, L.arena, { ...c, ranges, tile });
  return createHash("sha256")
    .update(new Uint8Array(run.out.buffer, run.out.byteOffset, run.out.byteLength))
    .digest("hex");
}

const baselineHashes = new Map<number, string>();

for (const L of builds) {
  test(`${L.build}: every tile, one call and split ranges in several orders, repeated 3 times: one hash`, () => {
    for (let i = 0; i < CASES.length; i++) {
      const c = makeCase(i);
      const N = outputs(c);
      const reference = hashOf(L, c);
      let runs = 0;
      for (let tile = 0; tile < L.k.gemmTileCount(); tile++) {
        const rng = rngFor(seed, `${L.build} splits ${i} tile ${tile}`);
        const variants: [string, GemmRange[] | undefined][] = [["one call", undefined]];
        // rows only, columns only, a grid; each also reversed and shuffled
        const tr = L.k.gemmTileRows(tile),
          tc = L.k.gemmTileCols(tile);
        const byRows: GemmRange[] = [];
        for (let m0 = 0; m0 < c.outChannels; m0 += 2 * tr)
          byRows.push({ m0, m1: Math.min(m0 + 2 * tr, c.outChannels), n0: 0, n1: N });
        const byCols: GemmRange[] = [];
        for (let n0 = 0; n0 < N; n0 += 3 * tc)
          byCols.push({ m0: 0, m1: c.outChannels, n0, n1: Math.min(n0 + 3 * tc, N) });
        const grid = splitRanges(rng, c.outChannels, N, tr, tc, 5);
        for (const [name, r] of [
          ["rows", byRows],
          ["columns", byCols],
          ["grid", grid],
        ] as const) {
          variants.push(
            [`${name} (${r.length} ranges)`, r],
            [`${name} reversed`, r.slice().reverse()],
            [`${name} shuffled`, shuffled(rng, r)],
          );
        }
        for (let rep = 0; rep < 3; rep++) {
          for (const [name, ranges] of variants) {
            const h = hashOf(L, c, ranges, tile);
            assert.is(
              h,
              reference,
              `[${L.build}] ${describeConv(c)} (seed ${seed}): tile ${tile} (${tr}x${tc}), ${name}, repetition ${rep + 1}: sha256 ${h} != tile 0's one call ${reference}`,
            );
            runs++;
          }
        }
      }
      console.log(
        `  ${L.build} case ${i} (${describeConv(c)}): ${runs} runs over every tile, sha256 ${reference.slice(0, 16)}`,
      );
      if (L.build === "baseline") baselineHashes.set(i, reference);
    }
  });
}

/** [cin, h, w, m, kernel, stride, pad] for im2col: rows of 4-pixel groups straddling output rows (14x14, 7x7), padding on every side, stride 2. */
const IM2COL_CASES: [number, number, number, number, number, number, number][] = [
  [20, 14, 14, 13, 3, 1, 1],
  [9, 7, 7, 17, 5, 1, 2],
  [3, 23, 21, 11, 7, 2, 3],
  [5, 12, 10, 7, 3, 2, 1], // outW 5: groups across output rows of a stride-2 conv (per-pixel path both ways)
  [4, 9, 11, 6, 1, 1, 1], // 1x1 padded: im2col with zero rows and columns
];

for (const L of builds) {
  test(`${L.build}: im2col's masked path gives its per-pixel path's bits (input at the memory's end), every tile`, () => {
    IM2COL_CASES.forEach((_, i) => {
      const c = makeCase(i, IM2COL_CASES, "im2col");
      for (let tile = 0; tile < L.k.gemmTileCount(); tile++) {
        const inside = hashOf(L, c, undefined, tile);
        const atEnd = hashOf(L, { ...c, inputAtMemoryEnd: true }, undefined, tile);
        assert.is(
          atEnd,
          inside,
          `[${L.build}] ${describeConv(c)} (seed ${seed}), tile ${tile}: input at the memory's end`,
        );
      }
    });
  });
}

test("debug build gives the baseline's bits (same source, mul then add, no relaxed SIMD)", () => {
  for (let i = 0; i < CASES.length; i++) {
    const c = makeCase(i);
    const rng = rngFor(seed, `debug splits ${i}`);
    const h = hashOf(
      debug,
      c,
      splitRanges(rng, c.outChannels, outputs(c), debug.k.gemmTileRows(0), debug.k.gemmTileCols(0)),
    );
    assert.is(h, baselineHashes.get(i), `debug vs baseline, ${describeConv(c)} (seed ${seed})`);
  }
});

test.run();
