// Kernel benchmark: the SIMD multiply-add peak of this machine measured in the same run,
// then every GoogLeNet convolution (its real M, N, K and geometry, im2col included) on one
// thread, as GFLOP/s and as a fraction of the peak, for the baseline and relaxed builds.
//
//   npm run bench:kernels [-- --json] [-- --time MS] [-- --rounds N]
//
// JSON: { peak: { mulAdd, relaxed }, builds: [{ build, wasmBytes, peakGflops, weightedFraction,
// weightedGflops }], shapes: [{ build, layer, M, N, K, gflops, fractionOfPeak }], weightedFraction }
// (top-level weightedFraction: per build). Layers: the median over rounds of the median of
// tinybench samples after warm-up; the peak: the fastest sample of all rounds.

import { parseArgs } from "node:util";
import { Bench } from "tinybench";
import { Arena } from "../test/support/arena.js";
import { invoke } from "../test/support/kernels.js";
import type { KernelCall } from "../src/host/wasm/calls.js";
import {
  compileKernels,
  createSharedMemory,
  instantiateKernels,
  type BuildName,
  type KernelExports,
} from "../src/host/wasm/kernels.js";
import { runtimeLabel } from "../src/host/runtime.js";
import { inferShapes } from "../src/host/ir/shapes.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";

const { values: opts } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    time: { type: "string", default: "150" },
    rounds: { type: "string", default: "3" },
  },
});
const timeMs = Number(opts.time);
const rounds = Number(opts.rounds);

interface ConvShape {
  layer: string;
  M: number;
  N: number;
  K: number;
  H: number;
  W: number;
  kernel: number;
  stride: number;
  pad: number;
  outW: number;
}

function convShapes(): ConvShape[] {
  const graph = googlenetGraph();
  const shapes = inferShapes(graph, 224, 224);
  const out: ConvShape[] = [];
  for (const node of graph.nodes) {
    if (node.op !== "conv") continue;
    const x = shapes.get(node.input)!,
      y = shapes.get(node.output)!;
    out.push({
      layer: node.name,
      M: node.outChannels,
      N: y.h * y.w,
      K: x.c * node.kernel * node.kernel,
      H: x.h,
      W: x.w,
      kernel: node.kernel,
      stride: node.stride,
      pad: node.pad,
      outW: y.w,
    });
  }
  return out;
}

/** Latency statistics (ms) of `fn` from tinybench after warm-up. */
async function measure(name: string, fn: () => void): Promise<{ p50: number; min: number }> {
  const bench = new Bench({ time: timeMs, warmupTime: 100, warmupIterations: 5 });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== "completed") throw new Error(`${name}: benchmark ${r.state}`);
  return { p50: r.latency.p50, min: r.latency.min };
}

function fill(a: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

async function peakGflops(k: KernelExports, arena: Arena): Promise<number> {
  const src = arena.put(fill(new Float32Array(12), 7));
  const iterations = 200_000;
  // A peak is the best the machine can do: the fastest sample, not the median (a short
  // probe that loses its core to another process for a moment would halve a median).
  const { min: ms } = await measure("peak", () => {
    k.probePeak(src, iterations);
  });
  return (iterations * 32 * 2) / (ms * 1e6);
}

interface BuildContext {
  build: BuildName;
  bytes: number;
  k: KernelExports;
  arena: Arena;
}

async function setUp(build: BuildName): Promise<BuildContext> {
  const compiled = await compileKernels(build);
  const memory = createSharedMemory(64 << 20, 512 << 20);
  const k = instantiateKernels(compiled.module, memory);
  return { build, bytes: compiled.bytes, k, arena: new Arena(memory, k.heapBase()) };
}

/** Median milliseconds of one convolution (im2col included) on one thread. */
async function timeConv({ k, arena }: BuildContext, s: ConvShape): Promise<number> {
  const mark = arena.mark();
  const inC = s.K / (s.kernel * s.kernel);
  const a = arena.put(fill(new Float32Array(s.M * s.K), 1));
  const packed = arena.alloc(k.packedWeightsBytes(s.M, s.K));
  k.packWeights(a, packed, s.M, s.K);
  const bias = arena.put(fill(new Float32Array(s.M), 2));
  const x = arena.put(fill(new Float32Array(inC * s.H * s.W), 3));
  const y = arena.alloc(s.M * s.N * 4);
  const scratch = arena.alloc(k.gemmScratchBytes());
  const dense = s.kernel === 1 && s.stride === 1 && s.pad === 0;
  const args = {
    a: packed,
    bias,
    M: s.M,
    K: s.K,
    N: s.N,
    src: x,
    dst: y,
    ldc: s.N,
    m0: 0,
    m1: s.M,
    n0: 0,
    n1: s.N,
    relu: 1,
    scratch,
  };
  const call: KernelCall = dense
    ? { kernel: "gemmDense", args }
    : {
        kernel: "gemmConv",
        args: {
          ...args,
          images: 1,
          H: s.H,
          W: s.W,
          kh: s.kernel,
          kw: s.kernel,
          strideY: s.stride,
          strideX: s.stride,
          padTop: s.pad,
          padLeft: s.pad,
          outW: s.outW,
        },
      };
  const { p50 } = await measure(s.layer, () => invoke(k, call));
  arena.release(mark);
  return p50;
}

const middle = (xs: number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];

// Rounds alternate the builds; a layer's figure is the median of its per-round medians, so a
// round disturbed by another process (this machine's vCPUs are shared) does not decide it.
const shapes = convShapes();
const contexts = [await setUp("baseline"), await setUp("relaxed")];
const peaks = contexts.map(() => [] as number[]);
const times = contexts.map(() => shapes.map(() => [] as number[]));
for (let round = 0; round < rounds; round++) {
  for (const [b, ctx] of contexts.entries()) {
    peaks[b].push(await peakGflops(ctx.k, ctx.arena));
    for (const [i, s] of shapes.entries()) times[b][i].push(await timeConv(ctx, s));
  }
}
const builds = contexts.map((ctx, b) => {
  const peak = Math.max(...peaks[b]);
  let flops = 0,
    seconds = 0;
  const rows = shapes.map((s, i) => {
    const ms = middle(times[b][i]);
    const f = 2 * s.M * s.N * s.K;
    flops += f;
    seconds += ms / 1000;
    const gflops = f / (ms * 1e6);
    return { build: ctx.build, layer: s.layer, M: s.M, N: s.N, K: s.K, ms, gflops, fractionOfPeak: gflops / peak };
  });
  const weightedGflops = flops / seconds / 1e9;
  return {
    build: ctx.build,
    wasmBytes: ctx.bytes,
    peakGflops: peak,
    weightedGflops,
    weightedFraction: weightedGflops / peak,
    rows,
    convMs: seconds * 1000,
  };
});
const report = {
  runtime: runtimeLabel(),
  peak: { mulAdd: builds[0].peakGflops, relaxed: builds[1].peakGflops },
  builds: builds.map(({ rows: _rows, ...b }) => b),
  shapes: builds.flatMap((b) => b.rows),
  weightedFraction: Object.fromEntries(builds.map((b) => [b.build, b.weightedFraction])),
};
if (opts.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(
    `peak (same run): mul+add ${report.peak.mulAdd.toFixed(1)} GFLOP/s, relaxed_madd ${report.peak.relaxed.toFixed(1)} GFLOP/s\n`,
  );
  console.log(
    `${"layer".padEnd(26)} ${"M".padStart(4)} ${"N".padStart(6)} ${"K".padStart(5)}   ${builds.map((b) => `${b.build.padStart(8)} GF/s  frac`).join("   ")}`,
  );
  shapes.forEach((s, i) => {
    const cells = builds.map(
      (b) => `${b.rows[i].gflops.toFixed(1).padStart(13)} ${b.rows[i].fractionOfPeak.toFixed(2).padStart(5)}`,
    );
    console.log(
      `${s.layer.padEnd(26)} ${String(s.M).padStart(4)} ${String(s.N).padStart(6)} ${String(s.K).padStart(5)}   ${cells.join("   ")}`,
    );
  });
  for (const b of builds) {
    console.log(
      `\n${b.build}: ${b.wasmBytes} bytes of wasm; all convolutions ${b.convMs.toFixed(1)} ms; flop-weighted ${b.weightedGflops.toFixed(1)} GFLOP/s = ${b.weightedFraction.toFixed(3)} of its peak`,
    );
  }
}
