// Kernel sweeps against the float64 reference, for the baseline and relaxed builds, and a
// short run on the debug build (its asserts must not fire). Tolerances: test/support/tolerance.ts.
// Replay a failure with the printed TEST_SEED.

import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Shape } from "../src/host/ir/graph.js";
import { avgPoolRef, fcRef, lrnRef, maxPoolRef, softmaxRef } from "../src/host/reference/ops.js";
import { convOutSize, poolOutSize } from "../src/host/ir/window.js";
import {
  abs,
  assertUntouched,
  checkConv,
  chw,
  fmtShape,
  loadBuild,
  runConv,
  runFc,
  runLrn,
  runPool,
  runSoftmax,
  splitRanges,
  edgesAround,
  gemmEdgeKs,
  tileIds,
  type ConvCase,
  type Loaded,
} from "./support/kernelHarness.js";
import { createSharedMemory, releaseSharedMemory } from "../src/host/wasm/kernels.js";
import { announceSeed, pick, randomArray, randomInt, rngFor, type Rng } from "./support/rng.js";
import {
  assertClose,
  avgPoolTolerance,
  dotTolerance,
  lrnTolerance,
  MAX_POOL_TOLERANCE,
  softmaxSumTolerance,
  softmaxTolerance,
} from "./support/tolerance.js";

const seed = announceSeed("kernels.test");
const builds: Loaded[] = [await loadBuild("baseline"), await loadBuild("relaxed")];
const debug = await loadBuild("debug");

interface ConvParams {
  cin: number;
  h: number;
  w: number;
  m: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
  bias: boolean;
  relu: boolean;
}

/** A convolution with random data and (given L) a random tile; optionally random output ranges and a random concat slot. */
function makeConv(
  rng: Rng,
  p: ConvParams,
  L?: Loaded,
  options: { ranges?: boolean; concat?: boolean; im2col?: boolean; misalign?: boolean; tile?: number } = {},
): ConvCase {
  const shape: Shape = { c: p.cin, h: p.h, w: p.w };
  const K = p.cin * p.kh * p.kw;
  const c: ConvCase = {
    input: randomArray(rng, p.cin * p.h * p.w, -1, 1),
    shape,
    weight: randomArray(rng, p.m * K, -1, 1),
    bias: p.bias ? randomArray(rng, p.m, -1, 1) : undefined,
    outChannels: p.m,
    kh: p.kh,
    kw: p.kw,
    stride: p.stride,
    pad: p.pad,
    relu: p.relu,
  };
  if (L) c.tile = options.tile ?? randomInt(rng, 0, L.k.gemmTileCount() - 1);
  if (options.ranges && L) {
    const N = convOutSize(p.h, p.kh, p.stride, p.pad) * convOutSize(p.w, p.kw, p.stride, p.pad);
    c.ranges = splitRanges(rng, p.m, N, L.k.gemmTileRows(c.tile!), L.k.gemmTileCols(c.tile!));
  }
  if (options.concat) {
    const before = randomInt(rng, 0, 9),
      after = randomInt(rng, 0, 9);
    c.concat = { c0: before, totalChannels: before + p.m + after };
  }
  if (options.im2col) c.path = "im2col";
  if (options.misalign) c.misalign = 4 * randomInt(rng, 1, 3);
  return c;
}

const ctx = (name: string, L: Loaded, extra = ""): string =>
  `[${L.build}] ${name} (seed ${seed}${extra ? `, ${extra}` : ""})`;

const CONV_RANDOM_CASES = 150;

/** A padding in 0..min(3, k): up to a whole kernel of zeros (windows entirely in the padding give the bias). */
function randomPad(rng: Rng, k: number): number {
  return randomInt(rng, 0, Math.min(3, k));
}

// ---------------------------------------------------------------- GEMM and convolution

for (const L of builds) {
  const { k, arena } = L;

  test(`${L.build}: GEMM K sweep, dense 1x1 (K around the tile sizes and the K block multiples)`, () => {
    const name = "GEMM K sweep dense";
    const rng = rngFor(seed, `${L.build} ${name}`);
    const Ks = gemmEdgeKs(k);
    let checked = 0;
    for (const K of Ks) {
      for (const m of [pick(rng, [1, 5, 9, 13]), pick(rng, [2, 6, 10]), pick(rng, [3, 7, 11]), pick(rng, [4, 8, 16])]) {
        const n = pick(rng, [1, 3, 7, 8, 9, 15, 17, 63, 64, 65, 70]);
        const h = pick(rng, [1, n > 8 ? 2 : 1]);
        const c = makeConv(
          rng,
          {
            cin: K,
            h,
            w: Math.max(1, Math.round(n / h)),
            m,
            kh: 1,
            kw: 1,
            stride: 1,
            pad: 0,
            bias: rng() < 0.5,
            relu: rng() < 0.5,
          },
          L,
          { ranges: rng() < 0.3, concat: rng() < 0.3 },
        );
        checked += checkConv(k, arena, c, ctx(name, L)).checked;
      }
    }
    console.log(`  ${L.build}: dense K sweep, ${Ks.length} K values, ${checked} outputs checked`);
  });

  test(`${L.build}: GEMM K sweep, im2col (windows whose K = cin*kh*kw lies just below and above 1 and 2 K blocks)`, () => {
    const name = "GEMM K sweep im2col";
    const rng = rngFor(seed, `${L.build} ${name}`);
    const kb = k.gemmKBlock();
    // [cin, kh, kw]: K = cin * kh * kw. Small windows, then for each window the channel counts whose K brackets
    // one and two K blocks, then 1x1 windows forced through im2col at every K edge.
    const shapes: [number, number, number][] = [
      [1, 1, 3],
      [1, 3, 1],
      [1, 2, 2],
      [1, 1, 5],
      [3, 3, 3],
      [1, 3, 3],
      [2, 3, 3],
      [3, 7, 7],
      [192, 3, 3],
      [64, 3, 3],
    ];
    for (const [kh, kw] of [
      [1, 7],
      [7, 1],
      [2, 2],
      [3, 3],
      [5, 5],
      [7, 7],
    ]) {
      for (const blocks of [1, 2]) {
        const cin = Math.floor((blocks * kb) / (kh * kw));
        shapes.push([cin, kh, kw], [cin + 1, kh, kw]);
      }
    }
    for (const K of gemmEdgeKs(k)) shapes.push([K, 1, 1]);
    for (const [cin, kh, kw] of shapes) {
      const stride = pick(rng, [1, 2]);
      const pad = randomPad(rng, Math.min(kh, kw));
      const h = randomInt(rng, Math.max(1, kh - 2 * pad), kh + 9),
        w = randomInt(rng, Math.max(1, kw - 2 * pad), kw + 12);
      const c = makeConv(
        rng,
        { cin, h, w, m: randomInt(rng, 1, 11), kh, kw, stride, pad, bias: rng() < 0.5, relu: rng() < 0.5 },
        L,
        { ranges: rng() < 0.5, concat: rng() < 0.3, im2col: kh === 1 && kw === 1 },
      );
      checkConv(k, arena, c, ctx(name, L));
    }
  });

  test(`${L.build}: GEMM partial tiles of every tile MR x NR: M around multiples of MR, N of NR and the 64-column block`, () => {
    const name = "GEMM partial tiles";
    const rng = rngFor(seed, `${L.build} ${name}`);
    let cases = 0;
    for (const tile of tileIds(k)) {
      const { rows: mr, cols: nr } = { rows: k.gemmTileRows(tile), cols: k.gemmTileCols(tile) };
      for (const m of edgesAround([mr, 2 * mr, 4 * mr, 8 * mr])) {
        for (const n of edgesAround([nr, 2 * nr, 8 * nr, 16 * nr, 64])) {
          const K = pick(rng, [1, 3, 4, 37, 64]);
          const c = makeConv(
            rng,
            { cin: K, h: 1, w: n, m, kh: 1, kw: 1, stride: 1, pad: 0, bias: rng() < 0.5, relu: rng() < 0.5 },
            L,
            { ranges: rng() < 0.5, concat: rng() < 0.3, im2col: rng() < 0.3, tile },
          );
          checkConv(k, arena, c, ctx(name, L, `tile ${mr}x${nr}`));
          cases++;
        }
      }
    }
    console.log(`  ${L.build}: ${cases} partial-tile cases`);
  });

  test(`${L.build}: convolution grid (kernels 1x1..7x7, 1xN, Nx1; strides 1, 2; pads 0..3; odd channels)`, () => {
    const name = "conv grid";
    const rng = rngFor(seed, `${L.build} ${name}`);
    const kernels: [number, number][] = [
      [1, 1],
      [3, 3],
      [5, 5],
      [7, 7],
      [1, 3],
      [3, 1],
      [1, 5],
      [5, 1],
      [1, 7],
      [7, 1],
      [2, 2],
    ];
    let cases = 0;
    for (const [kh, kw] of kernels) {
      for (const stride of [1, 2]) {
        for (let pad = 0; pad <= 3; pad++) {
          const h = randomInt(rng, Math.max(1, kh - 2 * pad), 19),
            w = randomInt(rng, Math.max(1, kw - 2 * pad), 21);
          const p: ConvParams = {
            cin: pick(rng, [1, 3, 5, 7, 13]),
            h,
            w,
            m: randomInt(rng, 1, 19),
            kh,
            kw,
            stride,
            pad,
            bias: rng() < 0.5,
            relu: rng() < 0.5,
          };
          checkConv(
            k,
            arena,
            makeConv(rng, p, L, {
              ranges: rng() < 0.4,
              concat: rng() < 0.4,
              im2col: rng() < 0.5,
              misalign: rng() < 0.3,
            }),
            ctx(name, L),
          );
          cases++;
        }
      }
    }
    console.log(`  ${L.build}: ${cases} grid cases`);
  });

  test(`${L.build}: convolution random sweep (bigger images: several column blocks and K blocks)`, () => {
    const name = "conv random";
    const rng = rngFor(seed, `${L.build} ${name}`);
    let checked = 0;
    for (let i = 0; i < CONV_RANDOM_CASES; i++) {
      const kh = pick(rng, [1, 1, 3, 3, 5, 7, 1, 3]);
      const kw = rng() < 0.8 ? kh : pick(rng, [1, 3, 5, 7]);
      const pad = randomPad(rng, Math.min(kh, kw));
      const stride = pick(rng, [1, 1, 2, 3]);
      const p: ConvParams = {
        cin: randomInt(rng, 1, kh * kw > 9 ? 30 : 90),
        h: randomInt(rng, Math.max(1, kh - 2 * pad), 40),
        w: randomInt(rng, Math.max(1, kw - 2 * pad), 40),
        m: randomInt(rng, 1, 40),
        kh,
        kw,
        stride,
        pad,
        bias: rng() < 0.5,
        relu: rng() < 0.5,
      };
      checked += checkConv(
        k,
        arena,
        makeConv(rng, p, L, { ranges: rng() < 0.5, concat: rng() < 0.5, im2col: rng() < 0.3, misalign: rng() < 0.3 }),
        ctx(name, L, `case ${i}`),
      ).checked;
    }
    console.log(`  ${L.build}: ${CONV_RANDOM_CASES} random convolutions, ${checked} outputs checked`);
  });

  test(`${L.build}: gemm never reads C when it overwrites it (C prefilled with NaN and 1e30)`, () => {
    const name = "gemm no C read";
    const rng = rngFor(seed, `${L.build} ${name}`);
    const shapes: [number, number, number, number][] = [
      [37, 1, 1, 0],
      [700, 1, 1, 0],
      [5, 3, 3, 1],
      [64, 3, 3, 1],
      [41, 5, 5, 2],
    ];
    for (const [cin, kh, kw, pad] of shapes) {
      for (const bias of [false, true]) {
        for (const relu of [false, true]) {
          for (const prefill of [NaN, 1e30, -1e30]) {
            const c = makeConv(rng, { cin, h: 9, w: 13, m: 7, kh, kw, stride: 1, pad, bias, relu }, L, {
              ranges: rng() < 0.5,
            });
            c.prefill = prefill;
            const run = runConv(k, arena, c);
            const nan = run.out.findIndex((v) => Number.isNaN(v) || Math.abs(v) > 1e20);
            assert.ok(
              nan < 0,
              `${ctx(name, L)}: prefill ${prefill}, ${run.kernel} K ${cin * kh * kw} bias ${bias} relu ${relu}: output ${nan} = ${run.out[nan]} (C was read)`,
            );
            checkConv(k, arena, c, ctx(name, L, `prefill ${prefill}`));
          }
        }
      }
    }
  });
}

// ---------------------------------------------------------------- pooling

interface PoolCase {
  kind: "max" | "avg";
  shape: Shape;
  kernel: number;
  stride: number;
  pad: number;
  c0: number;
  c1: number;
}

function checkPool(L: Loaded, input: Float32Array, p: PoolCase, context: string): number {
  const run = runPool(L.k, L.arena, p.kind, input, p.shape, p.kernel, p.stride, p.pad, p.c0, p.c1);
  const where = `${context}: ${p.kind} pool ${fmtShape(p.shape)} kernel ${p.kernel} stride ${p.stride} pad ${p.pad} channels [${p.c0}, ${p.c1}) -> ${fmtShape(run.shape)}`;
  assertUntouched(run.outside, where);
  const plane = run.shape.h * run.shape.w;
  const lo = p.c0 * plane,
    hi = p.c1 * plane;
  const got = run.out.subarray(lo, hi);
  if (p.kind === "max") {
    const want = maxPoolRef(input, p.shape, p.kernel, p.stride, p.pad).data.subarray(lo, hi);
    return assertClose(
      got,
      want,
      () => MAX_POOL_TOLERANCE,
      where,
      (i) => chw(run.shape)(i + lo),
    ).checked;
  }
  const want = avgPoolRef(input, p.shape, p.kernel, p.stride, p.pad).data.subarray(lo, hi);
  const meanAbs = avgPoolRef(abs(input), p.shape, p.kernel, p.stride, p.pad).data.subarray(lo, hi);
  return assertClose(
    got,
    want,
    (i) => avgPoolTolerance(p.kernel, meanAbs[i], want[i]),
    where,
    (i) => chw(run.shape)(i + lo),
  ).checked;
}

/** [h, w, kernel, stride, pad]: windows hanging over the edge in ceil mode, global, padded. */
const POOL_SHAPES: [number, number, number, number, number][] = [
  [8, 8, 3, 2, 0],
  [57, 57, 3, 2, 0],
  [56, 56, 3, 2, 0],
  [112, 112, 3, 2, 0],
  [14, 14, 3, 2, 0],
  [7, 7, 3, 2, 0],
  [13, 11, 3, 1, 1],
  [28, 28, 3, 1, 1],
  [1, 1, 3, 1, 1],
  [2, 5, 3, 1, 1],
  [7, 7, 7, 1, 0],
  [9, 9, 7, 1, 0],
  [1, 1, 1, 1, 0],
  [9, 9, 3, 2, 1],
  [10, 10, 3, 2, 1],
  [11, 11, 5, 3, 2],
  [10, 13, 4, 2, 2],
  [7, 7, 2, 2, 0],
  [10, 10, 3, 3, 0],
  [6, 9, 5, 2, 1],
  [5, 5, 3, 2, 2],
  [4, 4, 3, 3, 2],
  [3, 8, 2, 1, 1],
];

/**
 * Whether every window of a Caffe ceil-mode pooling starts inside the image. Not so when
 * stride > kernel without padding (e.g. 12 wide, kernel 1, stride 2: a 7th window at x = 12):
 * Caffe then gives -FLT_MAX (max) or 0/0 (ave); such shapes are outside the sweep.
 */
function windowsMeetImage(h: number, w: number, kernel: number, stride: number, pad: number): boolean {
  return (
    (poolOutSize(h, kernel, stride, pad) - 1) * stride - pad < h &&
    (poolOutSize(w, kernel, stride, pad) - 1) * stride - pad < w
  );
}

for (const L of builds) {
  for (const kind of ["max", "avg"] as const) {
    test(`${L.build}: ${kind} pooling (ceil-mode edges, global, pads up to 2, channel ranges)`, () => {
      const name = `${kind} pool`;
      const rng = rngFor(seed, `${L.build} ${name}`);
      let checked = 0;
      const cases: [number, number, number, number, number][] = [...POOL_SHAPES];
      while (cases.length < POOL_SHAPES.length + 40) {
        const kernel = randomInt(rng, 1, 7),
          pad = randomInt(rng, 0, Math.min(2, kernel - 1));
        const c: [number, number, number, number, number] = [
          randomInt(rng, Math.max(1, kernel - 2 * pad), 20),
          randomInt(rng, Math.max(1, kernel - 2 * pad), 20),
          kernel,
          randomInt(rng, 1, 3),
          pad,
        ];
        if (windowsMeetImage(...c)) cases.push(c);
      }
      for (const [h, w, kernel, stride, pad] of cases) {
        const C = pick(rng, [1, 2, 5, 7]);
        const c0 = rng() < 0.5 ? 0 : randomInt(rng, 0, C - 1);
        const c1 = rng() < 0.5 ? C : randomInt(rng, c0 + 1, C);
        const shape = { c: C, h, w };
        checked += checkPool(
          L,
          randomArray(rng, C * h * w, -2, 2),
          { kind, shape, kernel, stride, pad, c0, c1 },
          ctx(name, L),
        );
      }
      console.log(`  ${L.build}: ${cases.length} ${kind}-pool cases, ${checked} outputs checked`);
    });
  }
}

// ---------------------------------------------------------------- LRN

function checkLrn(
  L: Loaded,
  input: Float32Array,
  shape: Shape,
  size: number,
  alpha: number,
  beta: number,
  kk: number,
  c0: number,
  c1: number,
  context: string,
  misalign = 0,
): number {
  const run = runLrn(L.k, L.arena, input, shape, size, alpha, beta, kk, c0, c1, misalign);
  const where = `${context}: lrn ${fmtShape(shape)} size ${size} alpha ${alpha} beta ${beta} k ${kk} channels [${c0}, ${c1}), buffers +${misalign} bytes`;
  assertUntouched(run.outside, where);
  const HW = shape.h * shape.w;
  const want = lrnRef(input, shape, size, alpha, beta, kk).data.subarray(c0 * HW, c1 * HW);
  return assertClose(
    run.out.subarray(c0 * HW, c1 * HW),
    want,
    (i) => lrnTolerance(size, beta, want[i]),
    where,
    (i) => chw(shape)(i + c0 * HW),
  ).checked;
}

for (const L of builds) {
  test(`${L.build}: LRN (C < size, odd C, beta 0.75 fast path and 0.5 / 1 pow path, HW % 4 != 0, channel ranges)`, () => {
    const name = "lrn";
    const rng = rngFor(seed, `${L.build} ${name}`);
    let cases = 0,
      checked = 0;
    for (const C of [1, 2, 3, 4, 5, 7, 13, 64]) {
      for (const size of [1, 3, 5, 7]) {
        for (const beta of [0.75, 0.5, 1]) {
          const HW = pick(rng, [1, 3, 4, 5, 8, 17, 30, 49]);
          const h = HW % 7 === 0 ? 7 : 1;
          const shape = { c: C, h, w: HW / h };
          // alpha 1e-4 is GoogLeNet's (a nearly unit scale); larger alphas make the window visible
          const alpha = pick(rng, [1e-4, 0.5, 2]),
            kk = pick(rng, [1, 2]);
          const c0 = rng() < 0.5 ? 0 : randomInt(rng, 0, C - 1);
          const c1 = rng() < 0.5 ? C : randomInt(rng, c0 + 1, C);
          checked += checkLrn(
            L,
            randomArray(rng, C * HW, -3, 3),
            shape,
            size,
            alpha,
            beta,
            kk,
            c0,
            c1,
            ctx(name, L),
            pick(rng, [0, 0, 4, 8, 12]),
          );
          cases++;
        }
      }
    }
    console.log(`  ${L.build}: ${cases} LRN cases, ${checked} outputs checked`);
  });
}

// ---------------------------------------------------------------- fully connected

for (const L of builds) {
  test(`${L.build}: fully connected (inF % 16 != 0, output ranges, bias present and absent)`, () => {
    const name = "fc";
    const rng = rngFor(seed, `${L.build} ${name}`);
    let checked = 0;
    for (const inF of [1, 3, 15, 16, 17, 31, 32, 33, 47, 100, 1023, 1024, 1025]) {
      for (const outF of [1, 7, 33]) {
        const bias = rng() < 0.5 ? randomArray(rng, outF, -1, 1) : undefined;
        const x = randomArray(rng, inF, -1, 1),
          w = randomArray(rng, outF * inF, -1, 1);
        const o0 = rng() < 0.5 ? 0 : randomInt(rng, 0, outF - 1);
        const o1 = rng() < 0.5 ? outF : randomInt(rng, o0 + 1, outF);
        const misalign = pick(rng, [0, 0, 4, 8, 12]);
        const where = `${ctx(name, L)}: fc ${inF} -> ${outF}, bias ${bias ? "yes" : "no"}, outputs [${o0}, ${o1}), buffers +${misalign} bytes`;
        const run = runFc(L.k, L.arena, x, w, bias, outF, o0, o1, misalign);
        assertUntouched(run.outside, where);
        const want = fcRef(x, w, bias, outF).data.subarray(o0, o1);
        const sumAbs = fcRef(abs(x), abs(w), bias ? abs(bias) : undefined, outF).data.subarray(o0, o1);
        checked += assertClose(
          run.out.subarray(o0, o1),
          want,
          (i) => dotTolerance(inF, sumAbs[i], want[i]),
          where,
          (i) => `output ${i + o0}`,
        ).checked;
      }
    }
    console.log(`  ${L.build}: ${checked} FC outputs checked`);
  });
}

// ---------------------------------------------------------------- softmax

function checkSoftmax(L: Loaded, x: Float32Array, inPlace: boolean, context: string): void {
  const got = runSoftmax(L.k, L.arena, x, inPlace);
  const want = softmaxRef(x).data;
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  let zMax = 0;
  for (const v of x) zMax = Math.max(zMax, m - v);
  const tol = (i: number): number => softmaxTolerance(x.length, m - x[i], zMax, want[i]);
  const where = `${context}: softmax n ${x.length}, inputs in [${m - zMax}, ${m}]${inPlace ? ", in place" : ""}`;
  const bad = got.findIndex((v) => !Number.isFinite(v));
  assert.ok(bad < 0, `${where}: output ${bad} is ${got[bad]}`);
  assertClose(got, want, tol, where);
  let sum = 0;
  for (const v of got) sum += v;
  const tolerances: number[] = [];
  for (let i = 0; i < x.length; i++) tolerances.push(tol(i));
  const sumTol = softmaxSumTolerance(tolerances);
  assert.ok(
    Math.abs(sum - 1) <= sumTol,
    `${where}: outputs sum to ${sum}, |sum - 1| = ${Math.abs(sum - 1)} > ${sumTol}`,
  );
}

for (const L of builds) {
  test(`${L.build}: softmax (logits around +-1000 stay finite and sum to 1, wide ranges, in place)`, () => {
    const name = "softmax";
    const rng = rngFor(seed, `${L.build} ${name}`);
    for (const n of [1, 2, 7, 1000]) {
      for (const [lo, hi] of [
        [-1, 1],
        [990, 1010],
        [-1010, -990],
        [-50, 50],
        [-1e4, 1e4],
        [1000, 1000],
      ]) {
        for (const inPlace of [false, true])
          checkSoftmax(L, randomArray(rng, n, lo, hi), inPlace, ctx(name, L, `range [${lo}, ${hi}]`));
      }
    }
  });
}

// ---------------------------------------------------------------- debug build: asserts on

test("debug: a short sweep of every kernel runs without an assertion firing", () => {
  const name = "debug sweep";
  const rng = rngFor(seed, name);
  const L = debug;
  for (let i = 0; i < 25; i++) {
    const kh = pick(rng, [1, 3, 5, 7]),
      kw = rng() < 0.7 ? kh : pick(rng, [1, 3]);
    const pad = randomPad(rng, Math.min(kh, kw));
    const p: ConvParams = {
      cin: pick(rng, [1, 3, 60, 130]),
      h: randomInt(rng, Math.max(1, kh - 2 * pad), 17),
      w: randomInt(rng, Math.max(1, kw - 2 * pad), 17),
      m: randomInt(rng, 1, 13),
      kh,
      kw,
      stride: pick(rng, [1, 2]),
      pad,
      bias: rng() < 0.5,
      relu: rng() < 0.5,
    };
    checkConv(
      L.k,
      L.arena,
      makeConv(rng, p, L, { ranges: true, concat: rng() < 0.5, im2col: rng() < 0.3 }),
      ctx(name, L, `case ${i}`),
    );
  }
  for (const [h, w, kernel, stride, pad] of POOL_SHAPES.slice(0, 12)) {
    for (const kind of ["max", "avg"] as const) {
      const shape = { c: 3, h, w };
      checkPool(
        L,
        randomArray(rng, 3 * h * w, -1, 1),
        { kind, shape, kernel, stride, pad, c0: 1, c1: 3 },
        ctx(name, L),
      );
    }
  }
  for (const beta of [0.75, 0.5])
    checkLrn(L, randomArray(rng, 7 * 13, -2, 2), { c: 7, h: 1, w: 13 }, 5, 0.5, beta, 1, 2, 6, ctx(name, L));
  const x = randomArray(rng, 37, -1, 1),
    w = randomArray(rng, 5 * 37, -1, 1);
  const run = runFc(L.k, L.arena, x, w, undefined, 5, 1, 4);
  assertUntouched(run.outside, ctx(name, L, "fc"));
  const want = fcRef(x, w, undefined, 5).data.subarray(1, 4),
    sumAbs = fcRef(abs(x), abs(w), undefined, 5).data.subarray(1, 4);
  assertClose(run.out.subarray(1, 4), want, (i) => dotTolerance(37, sumAbs[i], want[i]), ctx(name, L, "fc 37 -> 5"));
  checkSoftmax(L, randomArray(rng, 100, 995, 1005), false, ctx(name, L));
});

test("debug: the GEMM range asserts are live (a misaligned m0 or n0 aborts)", () => {
  const { k, arena } = debug;
  const rng = rngFor(seed, "debug asserts live");
  const c = makeConv(rng, { cin: 3, h: 4, w: 5, m: 6, kh: 1, kw: 1, stride: 1, pad: 0, bias: false, relu: false });
  for (const ranges of [
    [{ m0: 1, m1: 6, n0: 0, n1: 20 }],
    [{ m0: 0, m1: 6, n0: 3, n1: 20 }],
    [{ m0: 0, m1: 6, n0: 0, n1: 21 }],
  ]) {
    assert.throws(
      () => runConv(k, arena, { ...c, ranges }),
      /kernel assertion failed/,
      `ranges ${JSON.stringify(ranges)} should abort`,
    );
  }
});

// A sanity check of the grid above: every output size it uses is one Caffe admits.
test("a released memory is reused by the next of its size, all zero; other sizes and grown ones are not", () => {
  const a = createSharedMemory(3 << 16, 5 << 16);
  new Uint8Array(a.buffer).fill(0xab);
  releaseSharedMemory(a);
  const b = createSharedMemory(3 << 16, 5 << 16);
  assert.ok(b === a, "the released memory (still referenced here, so not collected) is reused");
  assert.ok(
    new Uint8Array(b.buffer).every((x) => x === 0),
    "zeroed",
  );
  assert.ok(createSharedMemory(3 << 16, 5 << 16) !== a, "taken once: the next one is fresh");
  releaseSharedMemory(b);
  assert.ok(createSharedMemory(4 << 16, 5 << 16) !== a, "another initial size: fresh");
  assert.ok(createSharedMemory(3 << 16, 5 << 16) === a, "the other size left it there");
  a.grow(1);
  releaseSharedMemory(a);
  assert.ok(createSharedMemory(3 << 16, 5 << 16) !== a, "grown beyond the size asked: fresh");
});

test("pool shapes used above are valid Caffe shapes", () => {
  for (const [h, w, kernel, stride, pad] of POOL_SHAPES) {
    assert.ok(pad < kernel, `pad ${pad} < kernel ${kernel}`);
    assert.ok(
      windowsMeetImage(h, w, kernel, stride, pad),
      `${h}x${w} k${kernel} s${stride} p${pad}: every window meets the image`,
    );
    assert.ok(
      poolOutSize(h, kernel, stride, pad) >= 1 && poolOutSize(w, kernel, stride, pad) >= 1,
      `${h}x${w} k${kernel}`,
    );
  }
});

test.run();
