// Fast mode's Winograd kernels F(4x4, 3x3) and F(2x2, 5x5) (assembly/winograd.ts) against the
// float64 direct convolution (src/host/reference), with the error bound derived in
// test/support/tolerance.ts: every 3x3 and 5x5 stride-1 convolution of GoogLeNet with its real
// shape (writing its concat channel range), edge shapes whose tiles are clipped, and
// determinism: the same bits whatever ranges a caller splits the output into, whatever GEMM tile
// the products run on and whatever position an image has in a batch.

import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Shape } from "../src/host/ir/graph.js";
import { inferShapes } from "../src/host/ir/shapes.js";
import { winogradCandidates, winogradLayers } from "../src/host/plan/winogradLayers.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { floatsSha } from "./support/data.js";
import {
  assertUntouched,
  chw,
  concatSlots,
  convExpect,
  fmtShape,
  loadBuild,
  splitRanges,
  type Loaded,
} from "./support/kernelHarness.js";
import { announceSeed, randomArray, rngFor } from "./support/rng.js";
import { assertClose, winogradGrowth, winogradMagnitude, winogradTolerance } from "./support/tolerance.js";
import { runWinograd, winogradTileCount, type WinogradCase, type WinogradRange } from "./support/winogradHarness.js";

const seed = announceSeed("kernels-winograd");
const builds: Loaded[] = [await loadBuild("baseline"), await loadBuild("relaxed")];
const graph = googlenetGraph();
const SIZE = 224;
const shapes = inferShapes(graph, SIZE, SIZE);

const slots = concatSlots(graph, shapes);

/** A single-image case with random post-ReLU inputs in [0, 4), weights of scale 1/sqrt(r*r*C) and biases in [-0.5, 0.5). */
function randomCase(name: string, r: number, shape: Shape, M: number, relu: boolean): WinogradCase {
  const rng = rngFor(seed, name);
  const K = r * r * shape.c;
  return {
    r,
    input: randomArray(rng, shape.c * shape.h * shape.w, 0, 4),
    shape,
    images: 1,
    weight: randomArray(rng, M * K, -1 / Math.sqrt(K), 1 / Math.sqrt(K)),
    bias: randomArray(rng, M, -0.5, 0.5),
    outChannels: M,
    relu,
  };
}

/** Random ranges obeying the contract (channels from multiples of winogradTileRows(), tiles from multiples of winogradTileBlock()), in random order. */
function randomRanges(L: Loaded, name: string, c: WinogradCase): WinogradRange[] {
  const tiles = winogradTileCount(c.r, c.shape, c.images);
  const rows = L.k.winogradTileRows(),
    block = L.k.winogradTileBlock();
  return splitRanges(rngFor(seed, `${name} ranges`), c.outChannels, tiles, rows, block).map((r) => ({
    m0: r.m0,
    m1: r.m1,
    t0: r.n0,
    t1: r.n1,
  }));
}

/** Checks a single-image case against the reference with winogradTolerance; returns the worst ratio and the largest S_W / S. */
function check(L: Loaded, c: WinogradCase, context: string): { worst: number; growth: number } {
  const expect = convExpect({ ...c, ranges: undefined, kh: c.r, kw: c.r, stride: 1, pad: (c.r - 1) / 2 });
  const magnitude = winogradMagnitude(c.input, c.shape, c.weight, c.outChannels, c.r);
  const plane = c.shape.h * c.shape.w;
  const absBias = (i: number): number => (c.bias ? Math.abs(c.bias[Math.floor(i / plane)]) : 0);
  const run = runWinograd(L.k, L.arena, c);
  const where = `${context} [${L.build}] winograd ${c.r}x${c.r} ${fmtShape(c.shape)} -> ${c.outChannels}${c.ranges ? `, ${c.ranges.length} ranges` : ""} (seed ${seed})`;
  assertUntouched(run.outside, where);
  const r = assertClose(
    run.out,
    expect.want,
    (i) => winogradTolerance(c.shape.c, c.r, magnitude[i], absBias(i), expect.sumAbs[i], expect.want[i]),
    where,
    chw({ c: c.outChannels, h: c.shape.h, w: c.shape.w }),
  );
  let growth = 0;
  for (let i = 0; i < magnitude.length; i++)
    if (expect.sumAbs[i] > 0) growth = Math.max(growth, (magnitude[i] + absBias(i)) / expect.sumAbs[i]);
  return { worst: r.worstRatio, growth };
}

// By hand, per axis (the growth is the square of it): |G| 1 times |B^T| 1 (row sums 10, 10, 10,
// 6, 6, 10), weighted by the last row of |A^T|, over r. r = 3: |G| row sums 1/4, 1/2, 1/2, 7/24,
// 7/24, 1 give (5 + 5 + 8 * 1.75 * 2 + 10) / 3 = 16; r = 5: 1/4, 5/6, 5/6, 31/24, 31/24, 1 give
// (2 * 25/3 + 2 * 2 * 7.75 + 10) / 5 = 173/15.
test("the transforms' growth constants: 256 = 16^2 for F(4x4, 3x3) (output (3,3) of a tile), (173/15)^2 for F(2x2, 5x5)", () => {
  assert.ok(Math.abs(winogradGrowth(3) - 256) < 1e-9, `winogradGrowth(3) = ${winogradGrowth(3)}`);
  assert.ok(Math.abs(winogradGrowth(5) - (173 / 15) ** 2) < 1e-9, `winogradGrowth(5) = ${winogradGrowth(5)}`);
});

const candidates = winogradCandidates(graph);
test("the Winograd candidates of GoogLeNet: every 3x3 and 5x5 convolution of conv2 and the inception modules", () => {
  const modules = ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"];
  assert.equal(
    candidates.map((n) => n.name),
    ["conv2/3x3", ...modules.flatMap((m) => [`inception_${m}/3x3`, `inception_${m}/5x5`])],
  );
  assert.equal(winogradLayers(graph, "strict"), [], "strict mode runs no Winograd");
  assert.equal(winogradLayers(graph, "fast", ["inception_3a/5x5"]), ["inception_3a/5x5"]);
  assert.throws(() => winogradLayers(graph, "fast", ["conv1/7x7_s2"]), /conv1\/7x7_s2/);
});

// Every candidate with its real shape: the kernel takes any size (the load-time choice decides which run Winograd).
for (const node of candidates) {
  const inShape = shapes.get(node.input)!;
  test(`${node.name}: ${fmtShape(inShape)} -> ${node.outChannels} against the float64 reference`, () => {
    const c = {
      ...randomCase(node.name, node.kernel, inShape, node.outChannels, node.relu),
      concat: slots.get(node.output),
    };
    for (const L of builds) {
      // the relaxed build computes the layer in random ranges, in a random order, as a scheduler would
      const ranges = L.build === "relaxed" ? randomRanges(L, node.name, c) : undefined;
      const r = check(L, { ...c, ranges }, node.name);
      console.log(
        `  ${L.build}: ${c.outChannels * inShape.h * inShape.w} outputs, worst error/tolerance ${r.worst.toFixed(4)}, largest S_W/S ${r.growth.toFixed(1)}`,
      );
    }
  });
}

test("edge shapes: clipped tiles, channel counts off the panel sizes, no bias, no ReLU", () => {
  const sizes: [number, number][] = [
    [1, 1],
    [1, 9],
    [2, 3],
    [4, 4],
    [5, 7],
    [7, 7],
    [8, 13],
    [15, 15],
    [17, 6],
  ];
  for (const [h, w] of sizes) {
    for (const [C, M] of [
      [1, 1],
      [3, 5],
      [9, 12],
    ]) {
      for (const r of [3, 5]) {
        const name = `edge ${r}x${r} ${h}x${w} ${C} ${M}`;
        const c = randomCase(name, r, { c: C, h, w }, M, (h + w) % 2 === 0);
        for (const L of builds) {
          // the products on every tile of the family (4- and 6-row panels, each variant's loads)
          for (let tile = 0; tile < L.k.gemmTileCount(); tile++) check(L, { ...c, tile }, `${name} tile ${tile}`);
          check(L, { ...c, bias: undefined, ranges: randomRanges(L, name, c) }, name);
        }
      }
    }
  }
});

for (const name of ["inception_4a/3x3", "inception_3b/5x5"])
  test(`determinism (${name}): the same bits for any split into ranges, any product tile and any position in a batch`, () => {
    const node = candidates.find((n) => n.name === name)!;
    const inShape = shapes.get(node.input)!;
    const one = randomCase(`determinism ${name}`, node.kernel, inShape, node.outChannels, true);
    const plane = inShape.h * inShape.w;
    const images = 3;
    const others = randomArray(rngFor(seed, "determinism batch"), inShape.c * images * plane, 0, 4);
    for (const L of builds) {
      const whole = runWinograd(L.k, L.arena, one).out;
      const want = floatsSha(whole);
      for (let s = 0; s < 3; s++) {
        const ranges = randomRanges(L, `determinism ${s}`, one);
        assert.is(floatsSha(runWinograd(L.k, L.arena, { ...one, ranges }).out), want, `[${L.build}] split ${s}`);
      }
      for (let tile = 1; tile < L.k.gemmTileCount(); tile++) {
        const ranges = randomRanges(L, `determinism tile ${tile}`, one);
        const out = runWinograd(L.k, L.arena, { ...one, ranges, tile }).out;
        assert.is(
          floatsSha(out),
          want,
          `[${L.build}] tile ${tile} (${L.k.gemmTileRows(tile)}x${L.k.gemmTileCols(tile)})`,
        );
      }
      for (let at = 0; at < images; at++) {
        // [C][images][H][W] with this image at position `at`
        const input = others.slice();
        for (let ch = 0; ch < inShape.c; ch++)
          input.set(one.input.subarray(ch * plane, (ch + 1) * plane), (ch * images + at) * plane);
        const batch = { ...one, input, images };
        const out = runWinograd(L.k, L.arena, { ...batch, ranges: randomRanges(L, `batch ${at}`, batch) }).out;
        const mine = new Float32Array(node.outChannels * plane);
        for (let m = 0; m < node.outChannels; m++)
          mine.set(out.subarray((m * images + at) * plane, (m * images + at + 1) * plane), m * plane);
        assert.is(floatsSha(mine), want, `[${L.build}] batch position ${at} of ${images}`);
      }
      console.log(
        `  ${L.build}: ${want.slice(0, 16)} whole, split 3 ways, on each of ${L.k.gemmTileCount()} tiles and at each of ${images} batch positions`,
      );
    }
  });

test.run();
