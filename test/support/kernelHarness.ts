// A tiny harness over the raw kernel exports: load a build over a fresh shared memory, run
// one kernel on Float32Arrays (copy in with arena.put, run, copy out, release).
// Outputs are prefilled (NaN inside the range a kernel must write, a sentinel bit pattern
// outside it) so that reads of C and writes outside the contract are visible.

import { pathToFileURL } from "node:url";
import { Arena } from "../../src/host/wasm/arena.js";
import type { Graph, Shape } from "../../src/host/ir/graph.js";
import { nodeRuntime } from "../../src/node/runtime.js";
import { encodeCall, type KernelCall } from "../../src/host/wasm/calls.js";
import {
  compileKernels,
  createSharedMemory,
  instantiateKernels,
  type BuildName,
  type KernelExports,
} from "../../src/host/wasm/kernels.js";
import { convRef } from "../../src/host/reference/ops.js";
import { convOutSize, poolOutSize } from "../../src/host/ir/window.js";
import * as assert from "uvu/assert";
import { shuffled, type Rng } from "./rng.js";
import { assertClose, dotTolerance, type CloseReport } from "./tolerance.js";

/** For each tensor that is a concat input: its first channel and the concat's channel count. */
export function concatSlots(
  graph: Graph,
  shapes: Map<string, Shape>,
): Map<string, { c0: number; totalChannels: number }> {
  const slots = new Map<string, { c0: number; totalChannels: number }>();
  for (const node of graph.nodes) {
    if (node.op !== "concat") continue;
    const total = shapes.get(node.output)!.c;
    let c0 = 0;
    for (const name of node.inputs) {
      slots.set(name, { c0, totalChannels: total });
      c0 += shapes.get(name)!.c;
    }
  }
  return slots;
}

/** A loaded build: its exports and an arena over its own shared memory. */
export interface Loaded {
  build: BuildName;
  k: KernelExports;
  arena: Arena;
}

/** Largest memory one test build may use. */
const MAX_BYTES = 256 << 20;

/**
 * Compiles `build` (from build/, or the folder in env TEST_WASM_DIR, e.g. a deliberately
 * broken build to check that the tests catch it) and instantiates it over a fresh shared
 * memory (256 MiB maximum).
 */
export async function loadBuild(build: BuildName): Promise<Loaded> {
  const dir = process.env.TEST_WASM_DIR;
  const compiled = dir
    ? await compileKernels(build, nodeRuntime, {
        [build]: new URL(build === "baseline" ? "kernels.wasm" : `kernels-${build}.wasm`, pathToFileURL(`${dir}/`)),
      })
    : await compileKernels(build, nodeRuntime);
  const memory = createSharedMemory(16 << 20, MAX_BYTES);
  const k = instantiateKernels(compiled.module, memory);
  const arena = new Arena(memory, k.heapBase());
  return { build, k, arena };
}

/** Runs one kernel call (arguments by name, as wasm/calls.ts declares them) on an instance's exports. */
export function invoke(k: KernelExports, call: KernelCall): void {
  k[call.kernel](...encodeCall(call));
}

/** 1, 2, 3 and every multiple in `multiples` with its neighbours (m - 1, m, m + 1), sorted and distinct. */
export function edgesAround(multiples: readonly number[]): number[] {
  const out = new Set([1, 2, 3]);
  for (const m of multiples) for (const v of [m - 1, m, m + 1]) if (v >= 1) out.add(v);
  return [...out].sort((a, b) => a - b);
}

/**
 * GEMM reduction lengths that exercise the blocking, derived from the kernels' own constants (the
 * way XNNPACK's generated tests sweep k): around the tile sizes and around 1, 2 and 3 K blocks
 * (one K block, two near-equal blocks, a short last block), plus GoogLeNet's longest K (1728).
 */
export function gemmEdgeKs(k: KernelExports): number[] {
  const kb = k.gemmKBlock();
  const tiles = tileIds(k).flatMap((t) => [k.gemmTileRows(t), k.gemmTileCols(t)]);
  return [
    ...new Set([...edgesAround([...tiles, ...tiles.map((x) => 2 * x), kb / 2, kb, kb + kb / 2, 2 * kb, 3 * kb]), 1728]),
  ].sort((a, b) => a - b);
}

/** The ids of every GEMM register tile of a build (0 .. gemmTileCount() - 1). */
export function tileIds(k: KernelExports): number[] {
  return Array.from({ length: k.gemmTileCount() }, (_, t) => t);
}

/** The bit pattern written outside the range a kernel may write (a NaN no kernel produces). */
export const SENTINEL_BITS = 0x7fc0dead;

/**
 * Copies `data` to an address `misalign` bytes (0, 4, 8 or 12) past a 64-byte boundary:
 * kernels promise to work on any 4-byte-aligned f32 buffer.
 */
function putAt(arena: Arena, data: Float32Array, misalign: number): number {
  const ptr = arena.alloc(data.byteLength + misalign) + misalign;
  arena.f32(ptr, data.length).set(data);
  return ptr;
}

/** Copies `data` to the last bytes of the memory (growing it to a page boundary past the arena's top). */
function putAtMemoryEnd(arena: Arena, data: Float32Array): number {
  const page = 65536;
  const top = Math.ceil(arena.used / 4) * 4;
  const end = Math.max(arena.memory.buffer.byteLength, Math.ceil((top + data.byteLength) / page) * page);
  const ptr = arena.alloc(end - top, 4) + (end - top - data.byteLength);
  if (ptr + data.byteLength !== arena.memory.buffer.byteLength)
    throw new Error(
      `putAtMemoryEnd: input ends at ${ptr + data.byteLength}, memory at ${arena.memory.buffer.byteLength}`,
    );
  arena.f32(ptr, data.length).set(data);
  return ptr;
}

function allocAt(arena: Arena, bytes: number, misalign: number): number {
  return arena.alloc(bytes + misalign) + misalign;
}

function fill(view: Float32Array, from: number, to: number, value: number): void {
  view.fill(value, from, to);
}

/** Fills view[from, to) with the sentinel bit pattern (SENTINEL_BITS). */
export function fillSentinel(view: Float32Array, from: number, to: number): void {
  new Uint32Array(view.buffer, view.byteOffset, view.length).fill(SENTINEL_BITS, from, to);
}

/** Describes the first element of `data[from, to)` that is not the sentinel, or undefined. */
export function sentinelViolation(data: Float32Array, from: number, to: number, what: string): string | undefined {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let i = from; i < to; i++) {
    if (bits[i] !== SENTINEL_BITS)
      return `${what}: element ${i} outside the written range was overwritten with ${data[i]}`;
  }
  return undefined;
}

/** An output tile of a GEMM: rows (output channels) [m0, m1), columns (pixels) [n0, n1). */
export interface GemmRange {
  m0: number;
  m1: number;
  n0: number;
  n1: number;
}

/**
 * Cuts an M x N output into a random grid of tiles obeying the range contract (starts at
 * multiples of the tile rows/cols, ends at multiples or at M/N), in a random order.
 */
export function splitRanges(
  rng: Rng,
  M: number,
  N: number,
  tileRows: number,
  tileCols: number,
  maxCuts = 3,
): GemmRange[] {
  const cuts = (size: number, step: number): number[] => {
    const points = new Set<number>([0, size]);
    const slots = Math.ceil(size / step);
    const want = Math.floor(rng() * (maxCuts + 1));
    for (let i = 0; i < want && slots > 1; i++) points.add(step * (1 + Math.floor(rng() * (slots - 1))));
    return [...points].sort((a, b) => a - b);
  };
  const ms = cuts(M, tileRows),
    ns = cuts(N, tileCols);
  const out: GemmRange[] = [];
  for (let i = 0; i + 1 < ms.length; i++) {
    for (let j = 0; j + 1 < ns.length; j++) out.push({ m0: ms[i], m1: ms[i + 1], n0: ns[j], n1: ns[j + 1] });
  }
  return shuffled(rng, out);
}

/** One convolution for runConv. */
export interface ConvCase {
  input: Float32Array;
  shape: Shape;
  /** OIHW. */
  weight: Float32Array;
  /** One per output channel, or undefined: the kernel gets bias pointer 0. */
  bias: Float32Array | undefined;
  outChannels: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
  relu: boolean;
  /** Output tiles to compute, one call each, in this order (default: one call over everything). */
  ranges?: GemmRange[];
  /** Write channels [c0, c0 + outChannels) of a totalChannels-channel buffer (Inception's concat). */
  concat?: { c0: number; totalChannels: number };
  /** "im2col" forces gemmConv for a 1x1 stride-1 pad-0 convolution (default: gemmDense there). */
  path?: "auto" | "im2col";
  /** Written into the output range before the call (default NaN: a kernel that reads C shows it). */
  prefill?: number;
  /** The GEMM register tile id (default 0); ranges must align to it. */
  tile?: number;
  /** Bytes (0, 4, 8 or 12) past 16-byte alignment for input, weights, bias and output (scratch stays aligned). */
  misalign?: number;
  /**
   * Place the input so that it ends where the memory ends: gemmConv's masked im2col, whose vector
   * reads reach a window past the input, then must take its per-pixel path (default false).
   */
  inputAtMemoryEnd?: boolean;
}

/** What runConv returns: the convolution's own output, and any write outside its channel range. */
export interface ConvRun {
  out: Float32Array;
  shape: Shape;
  /** A description of the first overwritten sentinel outside [c0, c0 + outChannels), or undefined. */
  outside: string | undefined;
  /** Which kernel ran. */
  kernel: "gemmDense" | "gemmConv";
}

/**
 * Runs a convolution with tile c.tile: packs the weights with packWeights, then gemmDense (1x1, stride 1,
 * pad 0) or gemmConv, over each range; writes channels [c0, c0 + outChannels) of a
 * larger buffer when `concat` is given (row stride outH*outW), the rest holding a sentinel.
 */
export function runConv(k: KernelExports, arena: Arena, c: ConvCase): ConvRun {
  const { shape, outChannels: M, kh, kw, stride, pad } = c;
  const outH = convOutSize(shape.h, kh, stride, pad);
  const outW = convOutSize(shape.w, kw, stride, pad);
  const N = outH * outW;
  const K = shape.c * kh * kw;
  const c0 = c.concat?.c0 ?? 0;
  const total = c.concat?.totalChannels ?? M;
  if (c.input.length !== shape.c * shape.h * shape.w)
    throw new Error(`runConv: input has ${c.input.length} elements, shape ${shape.c}x${shape.h}x${shape.w}`);
  if (c.weight.length !== M * K) throw new Error(`runConv: weight has ${c.weight.length} elements, want ${M * K}`);
  if (c0 < 0 || c0 + M > total) throw new Error(`runConv: channel range [${c0}, ${c0 + M}) outside ${total} channels`);
  const mark = arena.mark();
  try {
    const mis = c.misalign ?? 0;
    const w = putAt(arena, c.weight, mis);
    const tile = c.tile ?? 0;
    const packed = allocAt(arena, k.packedWeightsBytes(M, K, tile), mis);
    const bias = c.bias ? putAt(arena, c.bias, mis) : 0;
    const dstAll = allocAt(arena, total * N * 4, mis);
    const scratch = arena.alloc(k.gemmScratchBytes());
    const src = c.inputAtMemoryEnd ? putAtMemoryEnd(arena, c.input) : putAt(arena, c.input, mis);
    const all = arena.f32(dstAll, total * N);
    fillSentinel(all, 0, total * N);
    fill(all, c0 * N, (c0 + M) * N, c.prefill ?? NaN);
    k.packWeights(w, packed, M, K, tile);
    const dst = dstAll + c0 * N * 4;
    const dense = kh === 1 && kw === 1 && stride === 1 && pad === 0 && (c.path ?? "auto") === "auto";
    const relu = c.relu ? 1 : 0;
    for (const r of c.ranges ?? [{ m0: 0, m1: M, n0: 0, n1: N }]) {
      const args = { tile, a: packed, bias, M, K, N, src, dst, ldc: N, ...r, relu, scratch };
      invoke(
        k,
        dense
          ? { kernel: "gemmDense", args }
          : {
              kernel: "gemmConv",
              args: {
                ...args,
                images: 1,
                H: shape.h,
                W: shape.w,
                kh,
                kw,
                strideY: stride,
                strideX: stride,
                padTop: pad,
                padLeft: pad,
                outW,
              },
            },
      );
    }
    const whole = arena.f32(dstAll, total * N).slice();
    const what = `conv output (channels [${c0}, ${c0 + M}) of ${total})`;
    const outside =
      sentinelViolation(whole, 0, c0 * N, what) ?? sentinelViolation(whole, (c0 + M) * N, total * N, what);
    return {
      out: whole.slice(c0 * N, (c0 + M) * N),
      shape: { c: M, h: outH, w: outW },
      outside,
      kernel: dense ? "gemmDense" : "gemmConv",
    };
  } finally {
    arena.release(mark);
  }
}

/** What a channel-ranged kernel run returns: the whole output and any write outside [c0, c1). */
export interface RangedRun {
  out: Float32Array;
  shape: Shape;
  outside: string | undefined;
}

/**
 * Max or average pooling of channels [c0, c1) (default all) into a Caffe ceil-mode output;
 * the other channels of the output must keep their sentinel.
 */
export function runPool(
  k: KernelExports,
  arena: Arena,
  kind: "max" | "avg",
  input: Float32Array,
  shape: Shape,
  kernel: number,
  stride: number,
  pad: number,
  c0 = 0,
  c1 = shape.c,
): RangedRun {
  const outH = poolOutSize(shape.h, kernel, stride, pad);
  const outW = poolOutSize(shape.w, kernel, stride, pad);
  const plane = outH * outW;
  const mark = arena.mark();
  try {
    const src = arena.put(input);
    const dst = arena.alloc(shape.c * plane * 4);
    fillSentinel(arena.f32(dst, shape.c * plane), 0, shape.c * plane);
    const window = { kh: kernel, kw: kernel, strideY: stride, strideX: stride, padTop: pad, padLeft: pad };
    const args = { src, dst, H: shape.h, W: shape.w, outH, outW, ...window, c0, c1 };
    invoke(
      k,
      kind === "max"
        ? { kernel: "maxPool", args }
        : { kernel: "avgPool", args: { ...args, padBottom: pad, padRight: pad, countPad: 1 } },
    );
    const out = arena.f32(dst, shape.c * plane).slice();
    const what = `${kind} pool output (channels [${c0}, ${c1}) of ${shape.c})`;
    const outside =
      sentinelViolation(out, 0, c0 * plane, what) ?? sentinelViolation(out, c1 * plane, shape.c * plane, what);
    return { out, shape: { c: shape.c, h: outH, w: outW }, outside };
  } finally {
    arena.release(mark);
  }
}

/** LRN across channels for channels [c0, c1) (default all); the others must keep their sentinel. `misalign`: as ConvCase's. */
export function runLrn(
  k: KernelExports,
  arena: Arena,
  input: Float32Array,
  shape: Shape,
  size: number,
  alpha: number,
  beta: number,
  kk: number,
  c0 = 0,
  c1 = shape.c,
  misalign = 0,
): RangedRun {
  const HW = shape.h * shape.w;
  const n = shape.c * HW;
  const mark = arena.mark();
  try {
    const src = putAt(arena, input, misalign);
    const dst = allocAt(arena, n * 4, misalign);
    fillSentinel(arena.f32(dst, n), 0, n);
    invoke(k, { kernel: "lrn", args: { src, dst, C: shape.c, HW, size, alpha, beta, k: kk, c0, c1 } });
    const out = arena.f32(dst, n).slice();
    const what = `lrn output (channels [${c0}, ${c1}) of ${shape.c})`;
    const outside = sentinelViolation(out, 0, c0 * HW, what) ?? sentinelViolation(out, c1 * HW, n, what);
    return { out, shape: { ...shape }, outside };
  } finally {
    arena.release(mark);
  }
}

/** Fully connected outputs [o0, o1) (default all) of outF; the others must keep their sentinel. `misalign`: as ConvCase's. */
export function runFc(
  k: KernelExports,
  arena: Arena,
  input: Float32Array,
  weight: Float32Array,
  bias: Float32Array | undefined,
  outF: number,
  o0 = 0,
  o1 = outF,
  misalign = 0,
): RangedRun {
  const mark = arena.mark();
  try {
    const x = putAt(arena, input, misalign);
    const w = putAt(arena, weight, (misalign * 2) % 16);
    const b = bias ? putAt(arena, bias, misalign) : 0;
    const y = allocAt(arena, outF * 4, misalign);
    fillSentinel(arena.f32(y, outF), 0, outF);
    invoke(k, { kernel: "fullyConnected", args: { w, bias: b, x, y, inF: input.length, images: 1, o0, o1 } });
    const out = arena.f32(y, outF).slice();
    const what = `fc output (outputs [${o0}, ${o1}) of ${outF})`;
    const outside = sentinelViolation(out, 0, o0, what) ?? sentinelViolation(out, o1, outF, what);
    return { out, shape: { c: outF, h: 1, w: 1 }, outside };
  } finally {
    arena.release(mark);
  }
}

/** Softmax of `input` (into a separate buffer, or in place when `inPlace`). */
export function runSoftmax(k: KernelExports, arena: Arena, input: Float32Array, inPlace = false): Float32Array {
  const mark = arena.mark();
  try {
    const src = arena.put(input);
    const dst = inPlace ? src : arena.alloc(input.length * 4);
    if (!inPlace) fill(arena.f32(dst, input.length), 0, input.length, NaN);
    invoke(k, { kernel: "softmax", args: { src, dst, n: input.length, images: 1 } });
    return arena.f32(dst, input.length).slice();
  } finally {
    arena.release(mark);
  }
}

/** Elementwise |x| in f64 (for the reference's sum of absolute terms). */
export function abs(x: Float32Array | Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.abs(x[i]);
  return out;
}

/** "c 3 y 0 x 7" for flat index i of a CHW tensor. */
export function chw(shape: Shape): (i: number) => string {
  return (i) => {
    const plane = shape.h * shape.w;
    const c = Math.floor(i / plane),
      r = i - c * plane;
    return `c ${c} y ${Math.floor(r / shape.w)} x ${r % shape.w}`;
  };
}

/** "3x17x17" */
export function fmtShape(s: Shape): string {
  return `${s.c}x${s.h}x${s.w}`;
}

/** The float64 expectation of a convolution: reference output, sum of |terms| per output, K. */
export interface ConvExpect {
  want: Float64Array;
  sumAbs: Float64Array;
  shape: Shape;
  K: number;
}

/** Computes the reference output and, by convolving |x| with |w| and |bias|, each output's sum of |terms|. */
export function convExpect(c: ConvCase): ConvExpect {
  const ref = convRef(c.input, c.shape, c.weight, c.bias, c.outChannels, c.kh, c.kw, c.stride, c.pad, c.relu);
  const sumAbs = convRef(
    abs(c.input),
    c.shape,
    abs(c.weight),
    c.bias ? abs(c.bias) : undefined,
    c.outChannels,
    c.kh,
    c.kw,
    c.stride,
    c.pad,
    false,
  ).data;
  return { want: ref.data, sumAbs, shape: ref.shape, K: c.shape.c * c.kh * c.kw };
}

/** One line naming a convolution case, for failure messages. */
export function describeConv(c: ConvCase): string {
  const parts = [
    `in ${fmtShape(c.shape)}`,
    `out ${c.outChannels}`,
    `kernel ${c.kh}x${c.kw}`,
    `stride ${c.stride}`,
    `pad ${c.pad}`,
    `bias ${c.bias ? "yes" : "no"}`,
    `relu ${c.relu ? "on" : "off"}`,
  ];
  if (c.concat) parts.push(`concat c0 ${c.concat.c0} of ${c.concat.totalChannels}`);
  if (c.ranges) parts.push(`${c.ranges.length} ranges`);
  if (c.path === "im2col") parts.push("forced im2col");
  if (c.misalign) parts.push(`buffers ${c.misalign} bytes past 16-byte alignment`);
  return parts.join(", ");
}

/**
 * Runs a convolution and checks it against the reference (computed here unless given):
 * every output within dotTolerance(K, ...), and nothing written outside its channel range.
 */
export function checkConv(
  k: KernelExports,
  arena: Arena,
  c: ConvCase,
  context: string,
  expect: ConvExpect = convExpect(c),
): CloseReport {
  const run = runConv(k, arena, c);
  const where = `${context}: ${run.kernel} ${describeConv(c)} (K ${expect.K}, output ${fmtShape(expect.shape)})`;
  if (run.outside !== undefined)
    throw new assert.Assertion({
      message: `${where}: ${run.outside}`,
      operator: "untouched",
      expects: "sentinel",
      actual: run.outside,
    });
  return assertClose(
    run.out,
    expect.want,
    (i) => dotTolerance(expect.K, expect.sumAbs[i], expect.want[i]),
    where,
    chw(expect.shape),
  );
}

/** Throws an assertion naming `context` when a ranged kernel wrote outside its range. */
export function assertUntouched(outside: string | undefined, context: string): void {
  if (outside !== undefined)
    throw new assert.Assertion({
      message: `${context}: ${outside}`,
      operator: "untouched",
      expects: "sentinel",
      actual: outside,
    });
}
