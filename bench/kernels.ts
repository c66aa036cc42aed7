// Kernel benchmark: every GEMM register tile of the family (assembly/tiles.ts) on the running
// engine, on one thread. Per tile: its micro-kernel on L1-resident panels (the tile's ceiling
// here), and every GoogLeNet convolution (its real M, N, K and geometry, im2col included) as
// GFLOP/s, flop-weighted over the network; the register-only peak (src/host/wasm/peak.ts: f32x4
// multiply-adds in 12 independent chains, no memory operand: a ceiling that is not ours) that every
// efficiency is a fraction of; the 4x8 tile probe with loads (probePeak); and the tile the load-time
// probe (wasm/tiles.ts) picks in this process.
//
//   npm run bench:kernels [-- --json] [-- --builds baseline,relaxed] [-- --rounds N] [-- --ms MS] [-- --layers]
//                         [-- --clock wall|cpu]
//
// Builds: default the one "auto" picks here. Layers: the median over rounds of each round's median
// time (samples for at least --ms ms after two warm-up calls), rounds alternating the tiles, and
// (column "fastest") each layer's fastest sample; L1 figures and the peaks: the fastest sample of
// all rounds (a ceiling, not a typical run). On a machine shared with other work, compare the
// L1 figure with the "fastest" column: medians of ms-long calls include time the core was taken.

import { parseArgs } from "node:util";
import { Arena } from "../src/host/wasm/arena.js";
import { invoke } from "../test/support/kernelHarness.js";
import type { KernelCall } from "../src/host/wasm/calls.js";
import {
  compileKernels,
  createSharedMemory,
  instantiateKernels,
  type BuildName,
  type CompiledKernels,
  type KernelExports,
} from "../src/host/wasm/kernels.js";
import { chooseTile, tileFamily, type TileInfo } from "../src/host/wasm/tiles.js";
import { measureRegisterPeak } from "../src/host/wasm/peak.js";
import { runtimeLabel } from "../src/host/runtimeName.js";
import { inferShapes } from "../src/host/ir/shapes.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import type { KernelReport } from "./report.js";
import { clockKind, clockNow } from "./clock.js";
import { nodeRuntime } from "../src/node/runtime.js";
import { fill, sampler, tileL1Gflops } from "./kernelTiming.js";

const { values: opts } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    builds: { type: "string" },
    rounds: { type: "string", default: "3" },
    ms: { type: "string", default: "20" },
    layers: { type: "boolean", default: false },
    clock: { type: "string", default: "wall" },
  },
});
const now = clockNow(clockKind(opts.clock));
const sampleMs = Number(opts.ms);
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

const measure = sampler(now, sampleMs);

/** The 4x8 tile probe with loads (8 independent multiply-add chains on one L1 buffer), GFLOP/s of its fastest sample. */
function peakGflops(k: KernelExports, arena: Arena): number {
  const src = arena.put(fill(new Float32Array(12), 7));
  const iterations = 200_000;
  return (iterations * 32 * 2) / (measure(() => k.probePeak(src, iterations)).min * 1e6);
}

interface BuildContext {
  build: BuildName;
  bytes: number;
  compiled: CompiledKernels;
  k: KernelExports;
  arena: Arena;
  tiles: TileInfo[];
}

async function setUp(build: BuildName | "auto"): Promise<BuildContext> {
  const compiled = await compileKernels(build, nodeRuntime);
  const memory = createSharedMemory(64 << 20, 512 << 20);
  const k = instantiateKernels(compiled.module, memory);
  const arena = new Arena(memory, k.heapBase());
  return { build: compiled.build, bytes: compiled.bytes, compiled, k, arena, tiles: tileFamily(k) };
}

/** Median and fastest milliseconds of one convolution (im2col included) with `tile` on one thread. */
function timeConv({ k, arena }: BuildContext, s: ConvShape, tile: TileInfo): { median: number; min: number } {
  const mark = arena.mark();
  const inC = s.K / (s.kernel * s.kernel);
  const a = arena.put(fill(new Float32Array(s.M * s.K), 1));
  const packed = arena.alloc(k.packedWeightsBytes(s.M, s.K, tile.id));
  k.packWeights(a, packed, s.M, s.K, tile.id);
  const bias = arena.put(fill(new Float32Array(s.M), 2));
  const x = arena.put(fill(new Float32Array(inC * s.H * s.W), 3));
  const y = arena.alloc(s.M * s.N * 4);
  const scratch = arena.alloc(k.gemmScratchBytes());
  const dense = s.kernel === 1 && s.stride === 1 && s.pad === 0;
  const args = {
    tile: tile.id,
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
  const time = measure(() => invoke(k, call));
  arena.release(mark);
  return time;
}

const middle = (xs: number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];

const shapes = convShapes();
const contexts = await Promise.all((opts.builds?.split(",") ?? ["auto"]).map((b) => setUp(b as BuildName | "auto")));
const measured = contexts.map((ctx) => {
  // The load-time probe first, in a fresh process state, as load() runs it.
  const chosen = chooseTile(ctx.compiled, "auto", "bench:kernels");
  const peaks: number[] = [];
  const registerPeaks: number[] = [];
  const l1 = ctx.tiles.map(() => [] as number[]);
  const times = ctx.tiles.map(() => shapes.map(() => [] as number[]));
  const fastest = ctx.tiles.map(() => shapes.map(() => Infinity));
  for (let round = 0; round < rounds; round++) {
    peaks.push(peakGflops(ctx.k, ctx.arena));
    registerPeaks.push(measureRegisterPeak(ctx.k, now).gflops);
    for (let i = 0; i < ctx.tiles.length; i++) {
      const t = (i + round) % ctx.tiles.length; // rotate which tile goes first
      l1[t].push(tileL1Gflops(ctx.k, ctx.arena, ctx.tiles[t], measure));
      shapes.forEach((s, j) => {
        const { median, min } = timeConv(ctx, s, ctx.tiles[t]);
        times[t][j].push(median);
        fastest[t][j] = Math.min(fastest[t][j], min);
      });
    }
  }
  const tiles = ctx.tiles.map((tile, t) => {
    let flops = 0,
      seconds = 0,
      bestSeconds = 0;
    const layers = shapes.map((s, j) => {
      const ms = middle(times[t][j]);
      const f = 2 * s.M * s.N * s.K;
      flops += f;
      seconds += ms / 1000;
      bestSeconds += fastest[t][j] / 1000;
      return {
        layer: s.layer,
        M: s.M,
        N: s.N,
        K: s.K,
        ms,
        gflops: f / (ms * 1e6),
        bestGflops: f / (fastest[t][j] * 1e6),
      };
    });
    return {
      tile: tile.name,
      packLayout: tile.packLayout,
      l1Gflops: Math.max(...l1[t]),
      weightedGflops: flops / seconds / 1e9,
      /** The same from each layer's fastest sample: comparable with the L1 figure (also a fastest sample) on a loaded machine. */
      weightedBestGflops: flops / bestSeconds / 1e9,
      convMs: seconds * 1000,
      layers,
    };
  });
  const bestL1 = Math.max(...tiles.map((t) => t.l1Gflops));
  const picked = tiles.find((t) => t.tile === chosen.tile.name)!;
  return { ctx, chosen, peak: Math.max(...peaks), registerPeak: Math.max(...registerPeaks), tiles, bestL1, picked };
});
/**
 * The report: KernelReport (what the comparison suite's chart reads) for the tile the probe picked,
 * with "peak" = the best tile's L1 figure (the "engine's best tile probe") and
 * "registerPeak" = the register-only peak (fractions "OfPeak" are of it), plus every tile.
 */
const report: KernelReport & Record<string, unknown> = {
  runtime: runtimeLabel(),
  clock: opts.clock,
  peak: {
    mulAdd: measured.find((m) => m.ctx.build === "baseline")?.bestL1 ?? 0,
    relaxed: measured.find((m) => m.ctx.build === "relaxed")?.bestL1 ?? 0,
  },
  registerPeak: {
    mulAdd: measured.find((m) => m.ctx.build === "baseline")?.registerPeak ?? 0,
    relaxed: measured.find((m) => m.ctx.build === "relaxed")?.registerPeak ?? 0,
  },
  builds: measured.map((m) => ({
    build: m.ctx.build,
    wasmBytes: m.ctx.bytes,
    registerPeakGflops: m.registerPeak,
    weightedOfPeak: m.picked.weightedGflops / m.registerPeak,
    peakGflops: m.bestL1,
    weightedGflops: m.picked.weightedGflops,
    // The target: the picked tile's flop-weighted GoogLeNet GFLOP/s over the best tile's L1 figure.
    weightedFraction: m.picked.weightedGflops / m.bestL1,
    weightedBestFraction: m.picked.weightedBestGflops / m.bestL1,
    convMs: m.picked.convMs,
    chainsPeakGflops: m.peak,
    probe: { tile: m.chosen.tile.name, reason: m.chosen.reason, perTile: m.chosen.probe },
    fastestOnNetwork: m.tiles.reduce((a, b) => (b.convMs < a.convMs ? b : a)).tile,
    tiles: m.tiles.map(({ layers: _layers, ...t }) => ({ ...t, l1OfPeak: t.l1Gflops / m.registerPeak })),
  })),
  shapes: measured.flatMap((m) =>
    m.picked.layers.map((l) => ({
      build: m.ctx.build,
      ...l,
      fractionOfPeak: l.gflops / m.registerPeak,
      fractionOfBestL1: l.gflops / m.bestL1,
    })),
  ),
  tileShapes: measured.flatMap((m) =>
    m.tiles.flatMap((t) => t.layers.map((l) => ({ build: m.ctx.build, tile: t.tile, ...l }))),
  ),
};
if (opts.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(`${report.runtime}, 1 thread, ${rounds} rounds, ${opts.clock} clock`);
  for (const m of measured) {
    console.log(
      `\n${m.ctx.build} build (${m.ctx.bytes} bytes): register-only peak (12 f32x4 chains, no loads) ${m.registerPeak.toFixed(1)} GFLOP/s; ` +
        `4x8 tile probe with loads ${m.peak.toFixed(1)} (${(m.peak / m.registerPeak).toFixed(3)} of peak)`,
    );
    console.log(
      `${"tile".padEnd(6)} ${"L1 GF/s".padStart(8)} ${"/peak".padStart(6)} ${"GoogLeNet GF/s".padStart(15)} ${"/peak".padStart(6)} ${"conv ms".padStart(8)} ${"/best L1".padStart(9)} ${"fastest GF/s".padStart(13)} ${"/best L1".padStart(9)}  pack layout`,
    );
    for (const t of m.tiles) {
      console.log(
        `${t.tile.padEnd(6)} ${t.l1Gflops.toFixed(1).padStart(8)} ${(t.l1Gflops / m.registerPeak).toFixed(3).padStart(6)} ${t.weightedGflops.toFixed(1).padStart(15)} ${(t.weightedGflops / m.registerPeak).toFixed(3).padStart(6)} ${t.convMs.toFixed(1).padStart(8)} ${(t.weightedGflops / m.bestL1).toFixed(3).padStart(9)} ${t.weightedBestGflops.toFixed(1).padStart(13)} ${(t.weightedBestGflops / m.bestL1).toFixed(3).padStart(9)}  ${t.packLayout}`,
      );
    }
    const fastest = m.tiles.reduce((a, b) => (b.convMs < a.convMs ? b : a));
    console.log(`load-time probe picks ${m.chosen.tile.name}: ${m.chosen.reason}`);
    console.log(
      `fastest over GoogLeNet's convolutions here: ${fastest.tile}; the picked tile's flop-weighted GFLOP/s = ${(m.picked.weightedGflops / m.bestL1).toFixed(3)} of the best tile's L1 figure, ${(m.picked.weightedGflops / m.registerPeak).toFixed(3)} of the register-only peak`,
    );
    if (opts.layers) {
      console.log(
        `\n${"layer".padEnd(26)} ${"M".padStart(4)} ${"N".padStart(6)} ${"K".padStart(5)}  ${m.tiles.map((t) => t.tile.padStart(11)).join(" ")}  ${"/peak".padStart(6)}  (GFLOP/s: median, fastest sample; /peak: the picked tile's median over the register-only peak)`,
      );
      shapes.forEach((s, j) => {
        const cells = m.tiles
          .map((t) => `${t.layers[j].gflops.toFixed(1)} ${t.layers[j].bestGflops.toFixed(1)}`.padStart(11))
          .join(" ");
        console.log(
          `${s.layer.padEnd(26)} ${String(s.M).padStart(4)} ${String(s.N).padStart(6)} ${String(s.K).padStart(5)}  ${cells}  ${(m.picked.layers[j].gflops / m.registerPeak).toFixed(3).padStart(6)}`,
        );
      });
    }
  }
}
