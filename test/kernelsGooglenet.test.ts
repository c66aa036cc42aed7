// Every GoogLeNet layer (googlenetGraph() at 224x224, shapes from inferShapes) on random
// data with its real shape, baseline and relaxed builds, against the float64 reference.
// Convolutions whose output feeds a concat write their channel range of the module's
// output buffer, as the network does. Every output element is compared (the reference
// costs about 8 s for the whole network); the count is printed per layer.

import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ConvNode, GraphNode, Shape } from "../src/host/ir/graph.js";
import { avgPoolRef, fcRef, lrnRef, maxPoolRef, softmaxRef } from "../src/host/reference/ops.js";
import { inferShapes } from "../src/host/ir/shapes.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import {
  abs,
  assertUntouched,
  checkConv,
  chw,
  concatSlots,
  convExpect,
  fmtShape,
  loadBuild,
  runFc,
  runLrn,
  runPool,
  runSoftmax,
  splitRanges,
  type ConvCase,
  type Loaded,
} from "./support/kernelHarness.js";
import { announceSeed, randomArray, rngFor } from "./support/rng.js";
import {
  assertClose,
  avgPoolTolerance,
  dotTolerance,
  lrnTolerance,
  MAX_POOL_TOLERANCE,
  softmaxSumTolerance,
  softmaxTolerance,
} from "./support/tolerance.js";

const seed = announceSeed("kernels-googlenet");
const builds: Loaded[] = [await loadBuild("baseline"), await loadBuild("relaxed")];
const graph = googlenetGraph();
const SIZE = 224;
const shapes = inferShapes(graph, SIZE, SIZE);

const slots = concatSlots(graph, shapes);

let totalChecked = 0;
const started = Date.now();
const ctx = (L: Loaded, node: GraphNode): string =>
  `[${L.build}] GoogLeNet ${node.name} at ${SIZE}x${SIZE} (seed ${seed})`;

/** Random data in the layer's real range: pixels (mean-subtracted) for the network input, post-ReLU activations elsewhere. */
function inputFor(node: GraphNode, shape: Shape): Float32Array {
  const rng = rngFor(seed, `${node.name} input`);
  const n = shape.c * shape.h * shape.w;
  return node.op === "conv" && node.input === graph.input ? randomArray(rng, n, -128, 128) : randomArray(rng, n, 0, 4);
}

function testConv(node: ConvNode, convIndex: number): void {
  const inShape = shapes.get(node.input)!;
  const outShape = shapes.get(node.output)!;
  const K = inShape.c * node.kernel * node.kernel;
  test(`${node.name}: conv ${fmtShape(inShape)} -> ${fmtShape(outShape)}, ${node.kernel}x${node.kernel} s${node.stride} p${node.pad}, K ${K}`, () => {
    const rng = rngFor(seed, `${node.name} weights`);
    const scale = 1 / Math.sqrt(K);
    const c: ConvCase = {
      input: inputFor(node, inShape),
      shape: inShape,
      weight: randomArray(rng, node.outChannels * K, -scale, scale),
      bias: randomArray(rng, node.outChannels, -0.5, 0.5),
      outChannels: node.outChannels,
      kh: node.kernel,
      kw: node.kernel,
      stride: node.stride,
      pad: node.pad,
      relu: node.relu,
      concat: slots.get(node.output),
    };
    const expect = convExpect(c);
    assert.equal(expect.shape, outShape, `${node.name}: reference shape`);
    for (const L of builds) {
      // each layer with the next register tile in turn; the relaxed build computes the layer in
      // tile-aligned ranges, in a random order, as a scheduler would
      const tile = convIndex % L.k.gemmTileCount();
      const ranges =
        L.build === "relaxed"
          ? splitRanges(
              rngFor(seed, `${node.name} ranges`),
              outShape.c,
              outShape.h * outShape.w,
              L.k.gemmTileRows(tile),
              L.k.gemmTileCols(tile),
            )
          : undefined;
      const r = checkConv(L.k, L.arena, { ...c, ranges, tile }, ctx(L, node), expect);
      totalChecked += r.checked;
      console.log(
        `  ${L.build}: ${r.checked} of ${expect.want.length} outputs checked, worst error/tolerance ${r.worstRatio.toFixed(4)}`,
      );
    }
  });
}

function testPool(node: GraphNode & { op: "maxPool" | "avgPool" }): void {
  const inShape = shapes.get(node.input)!;
  const outShape = shapes.get(node.output)!;
  test(`${node.name}: ${node.op} ${fmtShape(inShape)} -> ${fmtShape(outShape)}, ${node.kernel}x${node.kernel} s${node.stride} p${node.pad}`, () => {
    const input = inputFor(node, inShape);
    const max = node.op === "maxPool";
    const want = (max ? maxPoolRef : avgPoolRef)(input, inShape, node.kernel, node.stride, node.pad);
    assert.equal(want.shape, outShape, `${node.name}: reference shape`);
    const meanAbs = max ? undefined : avgPoolRef(abs(input), inShape, node.kernel, node.stride, node.pad).data;
    for (const L of builds) {
      const run = runPool(L.k, L.arena, max ? "max" : "avg", input, inShape, node.kernel, node.stride, node.pad);
      assertUntouched(run.outside, ctx(L, node));
      const tol = meanAbs
        ? (i: number) => avgPoolTolerance(node.kernel, meanAbs[i], want.data[i])
        : () => MAX_POOL_TOLERANCE;
      const r = assertClose(run.out, want.data, tol, `${ctx(L, node)}: ${node.op} ${fmtShape(inShape)}`, chw(outShape));
      totalChecked += r.checked;
      console.log(`  ${L.build}: ${r.checked} outputs checked`);
    }
  });
}

let convs = 0;
for (const node of graph.nodes) {
  switch (node.op) {
    case "conv":
      testConv(node, convs++);
      break;
    case "maxPool":
    case "avgPool":
      testPool(node);
      break;
    case "lrn": {
      const shape = shapes.get(node.input)!;
      test(`${node.name}: lrn ${fmtShape(shape)} size ${node.size} alpha ${node.alpha} beta ${node.beta} k ${node.k}`, () => {
        const input = inputFor(node, shape);
        const want = lrnRef(input, shape, node.size, node.alpha, node.beta, node.k).data;
        for (const L of builds) {
          const run = runLrn(L.k, L.arena, input, shape, node.size, node.alpha, node.beta, node.k);
          assertUntouched(run.outside, ctx(L, node));
          const r = assertClose(
            run.out,
            want,
            (i) => lrnTolerance(node.size, node.beta, want[i]),
            `${ctx(L, node)}: lrn ${fmtShape(shape)}`,
            chw(shape),
          );
          totalChecked += r.checked;
          console.log(`  ${L.build}: ${r.checked} outputs checked`);
        }
      });
      break;
    }
    case "fc": {
      const shape = shapes.get(node.input)!;
      const inF = shape.c * shape.h * shape.w;
      test(`${node.name}: fc ${inF} -> ${node.outFeatures}`, () => {
        const rng = rngFor(seed, `${node.name} weights`);
        const x = inputFor(node, shape);
        const w = randomArray(rng, node.outFeatures * inF, -0.05, 0.05),
          b = randomArray(rng, node.outFeatures, -0.5, 0.5);
        const want = fcRef(x, w, b, node.outFeatures).data;
        const sumAbs = fcRef(abs(x), abs(w), abs(b), node.outFeatures).data;
        for (const L of builds) {
          // two halves, as two threads would split it
          const half = node.outFeatures >> 1;
          const lo = runFc(L.k, L.arena, x, w, b, node.outFeatures, 0, half);
          const hi = runFc(L.k, L.arena, x, w, b, node.outFeatures, half, node.outFeatures);
          assertUntouched(lo.outside, ctx(L, node));
          assertUntouched(hi.outside, ctx(L, node));
          const got = new Float32Array(node.outFeatures);
          got.set(lo.out.subarray(0, half));
          got.set(hi.out.subarray(half), half);
          const r = assertClose(
            got,
            want,
            (i) => dotTolerance(inF, sumAbs[i], want[i]),
            `${ctx(L, node)}: fc ${inF} -> ${node.outFeatures}`,
            (i) => `output ${i}`,
          );
          totalChecked += r.checked;
          console.log(`  ${L.build}: ${r.checked} outputs checked, worst error/tolerance ${r.worstRatio.toFixed(4)}`);
        }
      });
      break;
    }
    case "softmax": {
      const shape = shapes.get(node.input)!;
      const n = shape.c * shape.h * shape.w;
      test(`${node.name}: softmax over ${n}`, () => {
        const x = randomArray(rngFor(seed, `${node.name} input`), n, -10, 30);
        const want = softmaxRef(x).data;
        let m = -Infinity,
          lo = Infinity;
        for (const v of x) {
          m = Math.max(m, v);
          lo = Math.min(lo, v);
        }
        const tol = (i: number): number => softmaxTolerance(n, m - x[i], m - lo, want[i]);
        for (const L of builds) {
          const got = runSoftmax(L.k, L.arena, x);
          const r = assertClose(got, want, tol, `${ctx(L, node)}: softmax ${n}`);
          let sum = 0;
          for (const v of got) sum += v;
          const sumTol = softmaxSumTolerance(Array.from({ length: n }, (_, i) => tol(i)));
          assert.ok(Math.abs(sum - 1) <= sumTol, `${ctx(L, node)}: outputs sum to ${sum}, tolerance ${sumTol}`);
          totalChecked += r.checked;
          console.log(`  ${L.build}: ${r.checked} outputs checked`);
        }
      });
      break;
    }
    case "concat":
      break; // free: its inputs were written as channel ranges above
  }
}

test("every layer kind of the graph was covered", () => {
  const kinds = new Set(graph.nodes.map((n) => n.op));
  assert.equal([...kinds].sort(), ["avgPool", "concat", "conv", "fc", "lrn", "maxPool", "softmax"]);
  console.log(
    `GoogLeNet layers: ${totalChecked} output elements checked over ${builds.length} builds in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
});

test.run();
