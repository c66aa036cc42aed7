// One declaration per kernel that the planner schedules: its arguments by name, in the order of the
// wasm export's parameters (assembly/*.ts), which argument pairs are output ranges a task may narrow,
// which argument is the per-thread scratch, the bytes a call reads and writes, its cost and the op it
// is profiled as. Everything else derives from these records: the wasm call (callKernel), stage
// building (callAccesses), task costs (callCost), the positional form sent to workers (encodeCall),
// profile slots (PROFILE_OPS). No other module knows an argument's position: changing a kernel's
// signature means changing its AssemblyScript export and its record here; instantiateKernels checks
// that every export takes exactly as many parameters as its record names, and
// test/kernelsSignatures.test.ts that the names and their order are the export's (parsed from assembly/).

import type { GraphNode } from "../ir/graph.js";

/** Ops a scheduled kernel is profiled as (the graph ops that run a kernel). */
export type ProfileOp = Exclude<GraphNode["op"], "concat">;

/** Half-open byte range [start, end) of the shared memory. */
export interface ByteRange {
  start: number;
  end: number;
}

/** `count` f32 values at byte address `ptr`. */
const f32 = (ptr: number, count: number): ByteRange => ({ start: ptr, end: ptr + count * 4 });

/**
 * An output range a task may narrow: the pair of arguments [first, end) and the alignment of a
 * narrowed range's start ("tileRows"/"tileCols": the GEMM register tile, read from the module;
 * a number: a kernel's fixed panel size, checked against the module by the planner).
 */
interface RangeSpec<A extends string> {
  fields: readonly [A, A];
  align: "tileRows" | "tileCols" | number;
}

/** The declaration of one kernel export. */
interface KernelSpec<A extends string> {
  /** Argument names in the order of the export's parameters. */
  args: readonly A[];
  /** The output rows a task may narrow (channels, output features), if any. */
  rows?: RangeSpec<A>;
  /** The output columns a task may narrow (GEMM pixels), if any. */
  cols?: RangeSpec<A>;
  /** The argument that takes the calling thread's scratch area (gemmScratchBytes() bytes), if any. */
  scratch?: A;
  /** The op a call's time is profiled as. */
  op: ProfileOp;
  /** Activation bytes a call reads (weights are read-only while running and not listed). */
  reads(a: Readonly<Record<A, number>>): ByteRange[];
  /** Bytes a call writes. */
  writes(a: Readonly<Record<A, number>>): ByteRange[];
  /** Estimated work of a call, in multiply-add equivalents (scalar kernels weigh more per op). */
  cost(a: Readonly<Record<A, number>>): number;
}

const declare = <const A extends string>(spec: KernelSpec<A>): KernelSpec<A> => spec;

/** GEMM output rows [m0, m1) of C (row stride ldc floats): what a gemmDense/gemmConv call writes. */
const gemmWrites = (a: { dst: number; ldc: number; N: number; m0: number; m1: number }): ByteRange[] =>
  a.m1 > a.m0 ? [{ start: a.dst + a.m0 * a.ldc * 4, end: a.dst + ((a.m1 - 1) * a.ldc + a.N) * 4 }] : [];

/** Planes (channels x images) [c0, c1) of H x W in, outH x outW out: what a pooling call touches and costs. */
type PoolArgs = Readonly<Record<"src" | "dst" | "H" | "W" | "outH" | "outW" | "kh" | "kw" | "c0" | "c1", number>>;
const poolAccess = {
  reads: (a: PoolArgs): ByteRange[] => [f32(a.src + a.c0 * a.H * a.W * 4, (a.c1 - a.c0) * a.H * a.W)],
  writes: (a: PoolArgs): ByteRange[] => [f32(a.dst + a.c0 * a.outH * a.outW * 4, (a.c1 - a.c0) * a.outH * a.outW)],
  cost: (a: PoolArgs): number => 4 * (a.c1 - a.c0) * a.outH * a.outW * a.kh * a.kw,
};

/** Output channels per winogradConv panel: equals the module's winogradTileRows() (checked when planning). */
export const WINOGRAD_ROWS = 8;
/** Tiles per winogradConv panel: equals the module's winogradTileBlock() (checked when planning). */
export const WINOGRAD_TILES = 4;

/** Every kernel the planner schedules. Contracts: the doc comments of the exports in assembly/. */
export const KERNELS = {
  /** C = act(bias + A * B), B the dense K x N matrix at src (a 1x1 stride-1 convolution over NCHW); A packed for `tile`. */
  gemmDense: declare({
    args: ["tile", "a", "bias", "M", "K", "N", "src", "dst", "ldc", "m0", "m1", "n0", "n1", "relu", "scratch"],
    rows: { fields: ["m0", "m1"], align: "tileRows" },
    cols: { fields: ["n0", "n1"], align: "tileCols" },
    scratch: "scratch",
    op: "conv",
    reads: (a) => [f32(a.src, a.K * a.N)],
    writes: gemmWrites,
    cost: (a) => (a.m1 - a.m0) * a.K * (a.n1 - a.n0),
  }),
  /** The same product with B = im2col of the C x H x W image at src (kh x kw window, per-axis strides, begin pads). */
  gemmConv: declare({
    args: [
      "tile",
      "a",
      "bias",
      "M",
      "K",
      "N",
      "src",
      "images",
      "H",
      "W",
      "kh",
      "kw",
      "strideY",
      "strideX",
      "padTop",
      "padLeft",
      "outW",
      "dst",
      "ldc",
      "m0",
      "m1",
      "n0",
      "n1",
      "relu",
      "scratch",
    ],
    rows: { fields: ["m0", "m1"], align: "tileRows" },
    cols: { fields: ["n0", "n1"], align: "tileCols" },
    scratch: "scratch",
    op: "conv",
    reads: (a) => [f32(a.src, (a.K / (a.kh * a.kw)) * a.images * a.H * a.W)],
    writes: gemmWrites,
    cost: (a) => (a.m1 - a.m0) * a.K * (a.n1 - a.n0),
  }),
  /**
   * Fast mode's r x r stride-1 convolution with padding (r-1)/2 as Winograd (assembly/winograd.ts):
   * F(4x4, 3x3) for r = 3, F(2x2, 5x5) for r = 5; output channels [m0, m1) (panels of
   * WINOGRAD_ROWS) of tiles [t0, t1) (m x m output tiles over every image, panels of
   * WINOGRAD_TILES); u: winogradFilters() of the M x C x r x r filters; tile: the plan's GEMM tile
   * (the products run with it when it has 8 columns, else with 6x8: the same bits).
   */
  winogradConv: declare({
    args: [
      "tile",
      "u",
      "bias",
      "M",
      "C",
      "r",
      "src",
      "images",
      "H",
      "W",
      "dst",
      "m0",
      "m1",
      "t0",
      "t1",
      "relu",
      "scratch",
    ],
    rows: { fields: ["m0", "m1"], align: WINOGRAD_ROWS },
    cols: { fields: ["t0", "t1"], align: WINOGRAD_TILES },
    scratch: "scratch",
    op: "conv",
    reads: (a) => [f32(a.src, a.C * a.images * a.H * a.W)],
    writes: (a) => {
      const plane = a.images * a.H * a.W;
      return a.m1 > a.m0 ? [f32(a.dst + a.m0 * plane * 4, (a.m1 - a.m0) * plane)] : [];
    },
    // 36 products per tile, input channel and output channel; the transforms about 64 flops
    // per tile and input (or output) channel, four lanes at a time.
    cost: (a) => (a.t1 - a.t0) * (36 * (a.m1 - a.m0) * a.C + 16 * (a.C + a.m1 - a.m0)),
  }),
  /** kh x kw max pooling of channels [c0, c1) (per-axis strides, begin pads), output outH x outW. */
  maxPool: declare({
    args: ["src", "dst", "H", "W", "outH", "outW", "kh", "kw", "strideY", "strideX", "padTop", "padLeft", "c0", "c1"],
    rows: { fields: ["c0", "c1"], align: 1 },
    op: "maxPool",
    ...poolAccess,
  }),
  /** kh x kw average pooling, as maxPool; the divisor counts padded taps when countPad (Caffe's rule). */
  avgPool: declare({
    args: [
      "src",
      "dst",
      "H",
      "W",
      "outH",
      "outW",
      "kh",
      "kw",
      "strideY",
      "strideX",
      "padTop",
      "padLeft",
      "padBottom",
      "padRight",
      "countPad",
      "c0",
      "c1",
    ],
    rows: { fields: ["c0", "c1"], align: 1 },
    op: "avgPool",
    ...poolAccess,
  }),
  /** Local response normalisation across channels of output channels [c0, c1) (reads a window around them). */
  lrn: declare({
    args: ["src", "dst", "C", "HW", "size", "alpha", "beta", "k", "c0", "c1"],
    rows: { fields: ["c0", "c1"], align: 1 },
    op: "lrn",
    reads: (a) => [f32(a.src, a.C * a.HW)],
    writes: (a) => [f32(a.dst + a.c0 * a.HW * 4, (a.c1 - a.c0) * a.HW)],
    cost: (a) => 8 * (a.c1 - a.c0) * a.HW * a.size,
  }),
  /** y[o] = bias[o] + w[o] . x for outputs [o0, o1) of each of `images` images (interleaved per element). */
  fullyConnected: declare({
    args: ["w", "bias", "x", "y", "inF", "images", "o0", "o1"],
    rows: { fields: ["o0", "o1"], align: 1 },
    op: "fc",
    reads: (a) => [f32(a.x, a.inF * a.images)],
    writes: (a) => [f32(a.y + a.o0 * a.images * 4, (a.o1 - a.o0) * a.images)],
    cost: (a) => (a.o1 - a.o0) * a.inF * a.images,
  }),
  /** Softmax over n values of each of `images` images (interleaved per element; not split). */
  softmax: declare({
    args: ["src", "dst", "n", "images"],
    op: "softmax",
    reads: (a) => [f32(a.src, a.n * a.images)],
    writes: (a) => [f32(a.dst, a.n * a.images)],
    cost: (a) => 8 * a.n * a.images,
  }),
};

/** A scheduled kernel's export name. */
export type KernelName = keyof typeof KERNELS;
/** The named arguments of kernel N. */
export type KernelArgs<N extends KernelName> = Record<(typeof KERNELS)[N]["args"][number], number>;
/** One kernel call with its arguments by name. */
export type KernelCall = { [N in KernelName]: { kernel: N; args: KernelArgs<N> } }[KernelName];
/** A scheduled kernel as the wasm module exports it: numbers in, nothing out. */
export type KernelFunction = (...args: number[]) => void;

/** Kernel ids (index = id) for the positional form sent to workers. */
export const KERNEL_NAMES = Object.keys(KERNELS) as KernelName[];
/** The ops calls are profiled as; a call's profile slot is the index of its op here. */
export const PROFILE_OPS: readonly ProfileOp[] = [...new Set(KERNEL_NAMES.map((n) => KERNELS[n].op))];
/** Profile slot of each kernel id. */
export const PROFILE_SLOT_OF: readonly number[] = KERNEL_NAMES.map((n) => PROFILE_OPS.indexOf(KERNELS[n].op));

/** The declaration of a call's kernel, with its argument names widened for generic use. */
function specOf(kernel: KernelName): KernelSpec<string> {
  return KERNELS[kernel] as KernelSpec<string>;
}

/** Bytes a call reads and writes. */
export function callAccesses(call: KernelCall): { reads: ByteRange[]; writes: ByteRange[] } {
  const spec = specOf(call.kernel);
  return { reads: spec.reads(call.args), writes: spec.writes(call.args) };
}

/** Estimated work of a call in multiply-add equivalents. */
export function callCost(call: KernelCall): number {
  return specOf(call.kernel).cost(call.args);
}

/** The op a call is profiled as. */
export function callOp(call: KernelCall): ProfileOp {
  return specOf(call.kernel).op;
}

/** The GEMM register tile (its `tile` argument id), which aligns narrowed GEMM ranges. */
export interface Tile {
  id: number;
  rows: number;
  cols: number;
}

/** A splittable output dimension of a call: its current [first, end) and the alignment of a narrowed start. */
export interface SplitDim {
  first: number;
  end: number;
  align: number;
}

/** The dimensions a task may narrow: output rows and, for GEMMs, output columns. */
export function callSplit(call: KernelCall, tile: Tile): { rows?: SplitDim; cols?: SplitDim } {
  const spec = specOf(call.kernel);
  const a = call.args as Record<string, number>;
  const dim = (r: RangeSpec<string> | undefined): SplitDim | undefined => {
    if (!r) return undefined;
    const align = r.align === "tileRows" ? tile.rows : r.align === "tileCols" ? tile.cols : r.align;
    return { first: a[r.fields[0]], end: a[r.fields[1]], align };
  };
  return { rows: dim(spec.rows), cols: dim(spec.cols) };
}

/** Output ranges of a task: rows [r0, r1) and columns [c0, c1) (ignored where the kernel has none). */
export interface TaskRange {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

/** The call narrowed to a task's ranges and given a scratch address (arguments the kernel lacks are ignored). */
export function narrowCall(call: KernelCall, range: TaskRange, scratch: number): KernelCall {
  const spec = specOf(call.kernel);
  const args: Record<string, number> = { ...call.args };
  if (spec.rows) [args[spec.rows.fields[0]], args[spec.rows.fields[1]]] = [range.r0, range.r1];
  if (spec.cols) [args[spec.cols.fields[0]], args[spec.cols.fields[1]]] = [range.c0, range.c1];
  return withScratch({ kernel: call.kernel, args } as KernelCall, scratch);
}

/** The call with `scratch` as its scratch argument (unchanged when the kernel takes none). */
export function withScratch(call: KernelCall, scratch: number): KernelCall {
  const spec = specOf(call.kernel);
  return spec.scratch === undefined
    ? call
    : ({ kernel: call.kernel, args: { ...call.args, [spec.scratch]: scratch } } as KernelCall);
}

/** A call's arguments in the export's parameter order: the form it is invoked with and sent to workers. */
export function encodeCall(call: KernelCall): number[] {
  const a = call.args as Record<string, number>;
  return specOf(call.kernel).args.map((name) => a[name]);
}

/** Puts `scratch` into a call's encoded arguments (in place; no change when the kernel takes none). */
export function setEncodedScratch(kernel: KernelName, encoded: number[], scratch: number): void {
  const spec = specOf(kernel);
  if (spec.scratch !== undefined) encoded[spec.args.indexOf(spec.scratch)] = scratch;
}

/** The range a task of an encoded call covers, read back for error messages: "[r0, r1)" per dimension. */
export function describeEncodedRanges(kernel: KernelName, encoded: ArrayLike<number>): string {
  const spec = specOf(kernel);
  const range = (r: RangeSpec<string> | undefined): string => {
    if (!r) return "all";
    return `[${encoded[spec.args.indexOf(r.fields[0])]}, ${encoded[spec.args.indexOf(r.fields[1])]})`;
  };
  return `rows ${range(spec.rows)}, columns ${range(spec.cols)}`;
}
