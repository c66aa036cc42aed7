// Planning a graph onto one shared memory: where weights, activations and scratch live,
// and the list of kernel steps that run the network.
//
// Memory layout (byte addresses):
//   [0, heapBase)            the kernel module's static data (read-only tables)
//   weights x models         conv weights packed into GEMM panels, or in fast mode Winograd-
//                            transformed (plan/winogradLayers.ts) (+ bias), FC weights as is; an
//                            ensemble's weight sets side by side, the same layout and size each
//                            (a plan's set: [weightBase, weightBase + weightBytes))
//   activations              tensors placed by liveness (first-fit); a concat's inputs are
//                            channel ranges of its output, so concat costs nothing
//   scratch x lanes          one GEMM scratch area per thread
// At load the activation region doubles as the staging area for unpacked weights.

import { ArgumentError, WeightsError } from "../errors.js";
import { nodeInputs, type ConvNode, type Graph, type GraphNode, type Shape } from "../ir/graph.js";
import { callSplit, type KernelCall, type SplitDim } from "../wasm/calls.js";
import type { KernelExports } from "../wasm/kernels.js";
import type { TileInfo } from "../wasm/tiles.js";
import { inferShapes, multiplyAdds } from "../ir/shapes.js";
import type { TensorMap } from "../ir/tensors.js";
import { convWindow, poolWindow } from "../ir/window.js";
import {
  checkWinogradModule,
  winogradCall,
  winogradFilterSide,
  winogradLayers,
  type Precision,
} from "./winogradLayers.js";

/**
 * One kernel call of the network over its whole output. Tasks narrow its output ranges
 * (`split`, derived from the kernel's declaration in wasm/calls.ts) and give it a scratch area.
 */
export interface Step {
  node: string;
  op: GraphNode["op"];
  /** The call over the whole output; its scratch argument (if any) is 0 until a thread sets its own. */
  call: KernelCall;
  /** The output dimensions tasks may narrow, with the alignment of a narrowed start. */
  split: { rows?: SplitDim; cols?: SplitDim };
  /** Multiply-adds (convolutions and FC) of the whole step (every image of the batch). */
  multiplyAdds: number;
}

/** Where a tensor lives: byte address and shape. */
export interface TensorPlace {
  ptr: number;
  shape: Shape;
}

/** A graph planned for one input size and batch. */
export interface Plan {
  /** Images per run; every tensor is [C][batch][H][W] (TensorPlace.shape is one image's). */
  batch: number;
  shapes: Map<string, Shape>;
  tensors: Map<string, TensorPlace>;
  steps: Step[];
  /** Bytes of the whole memory the plan needs. */
  memoryBytes: number;
  /**
   * This plan's weight set (model `model`): [weightBase, weightBase + weightBytes), every weight and
   * bias at its weightPlaces address. Every set has the same size and layout relative to its base;
   * the sets of all models take [first set's base, + models x weightBytes), below the activations.
   */
  weightBase: number;
  /** Bytes of one weight set (packed panels or Winograd filters, biases, alignment). */
  weightBytes: number;
  /** Weight sets side by side (PlanOptions.models) and the one this plan's steps read. */
  models: number;
  model: number;
  activationBytes: number;
  /** Strict or fast (Winograd for the convolutions listed in `winograd`). */
  precision: Precision;
  /** The convolutions that run Winograd (fast mode: F(4x4, 3x3) or F(2x2, 5x5)), in graph order. */
  winograd: string[];
  /** One scratch area per lane (thread): gemmScratchBytes() bytes, or a Winograd layer's need if larger. */
  scratch: number[];
  /**
   * The GEMM register tile every conv runs with (aligns task ranges); its packLayout is the layout
   * of the packed conv weights (a cache of packed weights must match it).
   */
  tile: TileInfo;
  /** Per conv/FC node: addresses of its (packed) weights and its bias in this plan's weight set. */
  weightPlaces: Map<string, { w: number; b: number }>;
  /** Where writeWeights stages unpacked weights (the activation region, unused at load). */
  staging: number;
  input: TensorPlace;
  logits: TensorPlace;
  probabilities: TensorPlace;
}

export interface PlanOptions {
  height: number;
  width: number;
  /** Threads that run steps at once (one scratch area each). */
  lanes: number;
  /**
   * Images run together (default 1). Every tensor holds them channel by channel: [C][batch][H][W], so
   * a GEMM's pixel dimension spans the batch and pooling and LRN see batch x C planes.
   */
  batch?: number;
  /** Keep every tensor alive to the end (no memory reuse), so all activations can be read. */
  keepAll: boolean;
  /** The GEMM register tile (wasm/tiles.ts): conv weights are packed for it and every conv runs it. */
  tile: TileInfo;
  /** "strict" (default) or "fast" (see plan/winogradLayers.ts); every model of an ensemble alike. */
  precision?: Precision;
  /**
   * Fast mode: the convolutions that run Winograd, each a candidate (winogradCandidates); default
   * every candidate. Ignored in strict mode. Plans of one network must all get the same list.
   */
  winograd?: readonly string[];
  /**
   * Weight sets of an ensemble laid side by side below the activations (default 1); plans of every
   * model share the activation, scratch and input/output addresses and differ only in their weights.
   */
  models?: number;
  /** The weight set (0..models-1) the plan's steps read (default 0). */
  model?: number;
}

const ALIGN = 64;
const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

interface Buffer {
  name: string;
  bytes: number;
  start: number;
  end: number;
  offset: number;
}

/**
 * Places activation buffers by liveness: a buffer occupies its bytes from the level that
 * first writes it to the last level that reads it; first-fit by start. Returns the region size.
 */
function placeByLiveness(buffers: Buffer[]): number {
  const placed: Buffer[] = [];
  let size = 0;
  for (const b of [...buffers].sort((x, y) => x.start - y.start || y.bytes - x.bytes)) {
    const busy = placed.filter((p) => p.end >= b.start && p.start <= b.end).sort((x, y) => x.offset - y.offset);
    let offset = 0;
    for (const p of busy) {
      if (offset + b.bytes <= p.offset) break;
      offset = Math.max(offset, align(p.offset + p.bytes));
    }
    b.offset = offset;
    placed.push(b);
    size = Math.max(size, align(offset + b.bytes));
  }
  return size;
}

/** The data of weight tensor `name` (`t`), checked to exist and have `shape`; else a WeightsError naming it. */
function weight(t: { shape: number[]; data: Float32Array } | undefined, name: string, shape: number[]): Float32Array {
  if (!t) throw new WeightsError("weights", name, `missing tensor, expected shape [${shape.join(", ")}]`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new WeightsError("weights", name, `expected shape [${shape.join(", ")}], found [${t.shape.join(", ")}]`);
  }
  return t.data;
}

/**
 * Plans `graph` for one input size: addresses of weights, tensors and scratch, and the
 * steps. Uses only the kernels' pure size queries (any instance will do).
 */
export function planGraph(graph: Graph, k: KernelExports, options: PlanOptions): Plan {
  const { height, width, lanes, keepAll, tile } = options;
  const { batch = 1, models = 1, model = 0 } = options;
  if (!(Number.isInteger(batch) && batch >= 1))
    throw new ArgumentError("planGraph", "batch", "a positive integer", batch);
  if (!(Number.isInteger(models) && models >= 1))
    throw new ArgumentError("planGraph", "models", "a positive integer", models);
  if (!(Number.isInteger(model) && model >= 0 && model < models))
    throw new ArgumentError("planGraph", "model", `an integer in 0..${models - 1}`, model);
  const bytesOf = (s: Shape): number => s.c * batch * s.h * s.w * 4;
  if (!(Number.isInteger(lanes) && lanes >= 1))
    throw new ArgumentError("planGraph", "lanes", "a positive integer", lanes);
  const shapes = inferShapes(graph, height, width);
  const precision = options.precision ?? "strict";
  if (precision !== "strict" && precision !== "fast")
    throw new ArgumentError("planGraph", "precision", '"strict" or "fast"', String(precision));
  if (precision === "fast") checkWinogradModule(k);
  const winograd = winogradLayers(graph, precision, options.winograd);
  let scratchNeed = k.gemmScratchBytes();

  // Weights: one set's offsets first, then `models` sets side by side; this plan reads set `model`.
  let setBytes = 0;
  let staging = 0;
  const weightPtr = new Map<string, { w: number; b: number }>();
  const base = align(k.heapBase());
  for (const node of graph.nodes) {
    if (node.op !== "conv" && node.op !== "fc") continue;
    const inS = shapes.get(node.input)!;
    const out = node.op === "conv" ? node.outChannels : node.outFeatures;
    const K =
      node.op === "conv" ? inS.c * convWindow(node).kernel[0] * convWindow(node).kernel[1] : inS.c * inS.h * inS.w;
    const winogradNode = winograd.includes(node.name);
    if (winogradNode) scratchNeed = Math.max(scratchNeed, k.winogradScratchBytes(inS.c));
    const wBytes = winogradNode
      ? k.winogradFilterBytes(out, inS.c)
      : node.op === "conv"
        ? k.packedWeightsBytes(out, K, tile.id)
        : out * K * 4;
    const w = setBytes;
    setBytes += align(wBytes);
    const b = setBytes;
    setBytes += align(out * 4);
    weightPtr.set(node.name, { w, b });
    if (node.op === "conv") staging = Math.max(staging, out * K * 4);
  }
  const setBase = base + model * setBytes;
  for (const p of weightPtr.values()) {
    p.w += setBase;
    p.b += setBase;
  }

  // Activations: one buffer per tensor, except concat inputs, which alias their concat.
  // Steps by level: a step's level is one more than the highest level among the producers
  // of its inputs (a concat's output counts as produced by all its inputs' producers), so
  // steps of one level are independent (an Inception module's four branch heads share a
  // level, its 3x3, 5x5 and pool projection the next). Liveness is counted in levels,
  // so steps of a level never overwrite each other's inputs or outputs: an executor may
  // run a whole level at once.
  const levelOf = new Map<string, number>([[graph.input, -1]]);
  const stepLevel = new Map<GraphNode, number>();
  for (const node of graph.nodes) {
    const inputsLevel = Math.max(...nodeInputs(node).map((t) => levelOf.get(t) ?? -1));
    if (node.op === "concat") {
      levelOf.set(node.output, inputsLevel);
      continue;
    }
    stepLevel.set(node, inputsLevel + 1);
    levelOf.set(node.output, inputsLevel + 1);
  }
  const steps = [...stepLevel.keys()].sort((a, b) => stepLevel.get(a)! - stepLevel.get(b)!);
  const alias = new Map<string, { of: string; channel: number }>();
  for (const node of graph.nodes) {
    if (node.op !== "concat") continue;
    let channel = 0;
    for (const input of node.inputs) {
      if (alias.has(input)) throw new ArgumentError(node.name, "inputs", "tensors that feed no other concat", input);
      alias.set(input, { of: node.output, channel });
      channel += shapes.get(input)!.c;
    }
  }
  const root = (t: string): { buffer: string; channel: number } => {
    let channel = 0;
    for (let a = alias.get(t); a; a = alias.get(t)) {
      channel += a.channel;
      t = a.of;
    }
    return { buffer: t, channel };
  };
  const last = Math.max(...stepLevel.values()) + 1;
  const buffers = new Map<string, Buffer>();
  const touch = (tensor: string, step: number): void => {
    const { buffer } = root(tensor);
    const b = buffers.get(buffer);
    if (b) {
      b.start = Math.min(b.start, step);
      b.end = Math.max(b.end, step);
      return;
    }
    buffers.set(buffer, { name: buffer, bytes: bytesOf(shapes.get(buffer)!), start: step, end: step, offset: 0 });
  };
  touch(graph.input, -1);
  for (const extra of graph.extraInputs ?? []) touch(extra.name, -1);
  for (const node of steps) {
    const level = stepLevel.get(node)!;
    for (const input of nodeInputs(node)) touch(input, level);
    touch(node.output, level);
  }
  for (const t of [graph.logits, graph.probabilities]) touch(t, last);
  if (keepAll) for (const b of buffers.values()) b.end = last;
  const activationBytes = Math.max(placeByLiveness([...buffers.values()]), align(staging));
  const activationBase = base + models * setBytes;
  const scratchBytes = align(scratchNeed);
  const scratchBase = activationBase + activationBytes;
  const scratch = Array.from({ length: lanes }, (_, i) => scratchBase + i * scratchBytes);
  const memoryBytes = scratchBase + lanes * scratchBytes;

  const tensors = new Map<string, TensorPlace>();
  for (const t of shapes.keys()) {
    const { buffer, channel } = root(t);
    const s = shapes.get(t)!;
    const b = buffers.get(buffer);
    if (!b) continue; // a tensor nobody reads or writes
    tensors.set(t, { ptr: activationBase + b.offset + channel * batch * s.h * s.w * 4, shape: s });
  }

  const place = (t: string): TensorPlace => {
    const p = tensors.get(t);
    if (!p) throw new ArgumentError("planGraph", "tensor", "a tensor of the graph", t);
    return p;
  };
  const planned: Step[] = steps.map((node) => {
    const call =
      node.op === "conv" && winograd.includes(node.name)
        ? winogradCall(node, place(node.input), place(node.output), weightPtr.get(node.name)!, batch, tile.id)
        : kernelCall(node, place, weightPtr, batch, tile.id);
    return {
      node: node.name,
      op: node.op,
      call,
      split: callSplit(call, tile),
      multiplyAdds: batch * multiplyAdds(node, shapes),
    };
  });
  return {
    batch,
    shapes,
    tensors,
    steps: planned,
    memoryBytes,
    weightBase: setBase,
    weightBytes: setBytes,
    models,
    model,
    precision,
    winograd,
    activationBytes,
    scratch,
    tile,
    weightPlaces: weightPtr,
    staging: activationBase,
    input: place(graph.input),
    logits: place(graph.logits),
    probabilities: place(graph.probabilities),
  };
}

/** Writes one weight tensor (by its file name, e.g. "conv1/7x7_s2.weight") into a planned memory. */
export type WeightWrite = (name: string, tensor: { shape: number[]; data: Float32Array }) => void;

/**
 * A writer of weight tensors into `memory` as they arrive, in any order, into the plan's weight set
 * (an ensemble writes each model with that model's plan): biases and FC weights are copied to their
 * places, conv weights staged in the activation region (unused at load) and packed into GEMM panels
 * for plan.tile by the kernels' packWeights (or transformed by winogradFilters for the plan's Winograd layers).
 * Each tensor's shape is checked (WeightsError naming it); names the graph does not use are
 * ignored. `finish()` throws WeightsError for the first tensor the graph needs that was not
 * written. Every tensor is read only while write() runs.
 */
function weightWriter(
  graph: Graph,
  plan: Plan,
  k: KernelExports,
  memory: WebAssembly.Memory,
): { write: WeightWrite; finish(): void } {
  if (memory.buffer.byteLength < plan.memoryBytes) {
    throw new ArgumentError("writeWeights", "memory", `at least ${plan.memoryBytes} bytes`, memory.buffer.byteLength);
  }
  const places = new Map<string, { shape: number[]; write(data: Float32Array): void }>();
  for (const node of graph.nodes) {
    if (node.op !== "conv" && node.op !== "fc") continue;
    const inS = plan.shapes.get(node.input)!;
    const { w, b } = plan.weightPlaces.get(node.name)!;
    const out = node.op === "conv" ? node.outChannels : node.outFeatures;
    const shape = node.op === "conv" ? [out, inS.c, ...convWindow(node).kernel] : [out, inS.c * inS.h * inS.w];
    places.set(`${node.weights}.weight`, {
      shape,
      write: (data) => {
        if (node.op === "fc") return floatsAt(memory, w, data);
        floatsAt(memory, plan.staging, data);
        if (plan.winograd.includes(node.name))
          k.winogradFilters(plan.staging, w, out, inS.c, winogradFilterSide(node)!);
        else k.packWeights(plan.staging, w, out, data.length / out, plan.tile.id);
      },
    });
    places.set(`${node.weights}.bias`, { shape: [out], write: (data) => floatsAt(memory, b, data) });
  }
  const written = new Set<string>();
  return {
    write(name, tensor) {
      const place = places.get(name);
      if (!place) return;
      place.write(weight(tensor, name, place.shape));
      written.add(name);
    },
    finish() {
      for (const [name, { shape }] of places) {
        if (!written.has(name)) weight(undefined, name, shape); // throws: missing tensor
      }
    },
  };
}

/** Copies `data` into `memory` at byte address `ptr`. */
function floatsAt(memory: WebAssembly.Memory, ptr: number, data: Float32Array): void {
  new Float32Array(memory.buffer, ptr, data.length).set(data);
}

/**
 * Weights delivered while they are read (a stream): calls `write` once per tensor, as each
 * arrives, and resolves when every tensor was delivered (rejects for a bad file). Each tensor is
 * copied into the network's memory during its write() call, so the whole file never needs to be
 * held beside the memory.
 */
export type WeightFeed = (write: WeightWrite) => Promise<void>;

/** Writes every weight of `weights` (checked as weightWriter does) into a planned memory. */
export function writeWeights(
  graph: Graph,
  plan: Plan,
  weights: TensorMap,
  k: KernelExports,
  memory: WebAssembly.Memory,
): void {
  const writer = weightWriter(graph, plan, k, memory);
  for (const [name, tensor] of weights) writer.write(name, tensor);
  writer.finish();
}

/** Writes the weights a feed delivers (checked as weightWriter does) into a planned memory as they arrive. */
export async function writeWeightFeed(
  graph: Graph,
  plan: Plan,
  feed: WeightFeed,
  k: KernelExports,
  memory: WebAssembly.Memory,
): Promise<void> {
  const writer = weightWriter(graph, plan, k, memory);
  await feed(writer.write);
  writer.finish();
}

/**
 * FC and softmax read one value per channel of each image when images are batched ([C][batch] with
 * 1x1 maps): their input must be 1x1 when batch > 1 (GoogLeNet's pool5 and logits are).
 */
function checkBatchedVector(node: GraphNode, shape: Shape, batch: number): void {
  if (batch > 1 && shape.h * shape.w > 1) {
    throw new ArgumentError(node.name, "input", "a 1x1 map when batch > 1", `${shape.h}x${shape.w}`);
  }
}

/**
 * The GEMM call (gemmDense or gemmConv, weights packed for `tile`) that runs convolution `node`
 * over its whole output: input x, output y, packed weights and bias at `weights` (what strict
 * mode plans; fast mode's load-time choice times it against winogradCall).
 */
export function gemmConvCall(
  node: ConvNode,
  x: TensorPlace,
  y: TensorPlace,
  weights: { w: number; b: number },
  batch: number,
  tile: number,
): KernelCall {
  const places = new Map([
    [node.input, x],
    [node.output, y],
  ]);
  return kernelCall(node, (t) => places.get(t)!, new Map([[node.name, weights]]), batch, tile);
}

/** The kernel call that runs `node` over its whole output. */
function kernelCall(
  node: GraphNode,
  place: (t: string) => TensorPlace,
  weightPtr: Map<string, { w: number; b: number }>,
  batch: number,
  tile: number,
): KernelCall {
  switch (node.op) {
    case "conv": {
      const x = place(node.input),
        y = place(node.output);
      const { w: a, b: bias } = weightPtr.get(node.name)!;
      const { kernel, stride, pads } = convWindow(node);
      const M = node.outChannels,
        K = x.shape.c * kernel[0] * kernel[1],
        N = batch * y.shape.h * y.shape.w;
      const common = {
        tile,
        a,
        bias,
        M,
        K,
        N,
        src: x.ptr,
        dst: y.ptr,
        ldc: N,
        m0: 0,
        m1: M,
        n0: 0,
        n1: N,
        relu: node.relu ? 1 : 0,
        scratch: 0,
      };
      const pointwise = kernel.every((k) => k === 1) && stride.every((s) => s === 1) && pads.every((p) => p === 0);
      if (pointwise) return { kernel: "gemmDense", args: common };
      return {
        kernel: "gemmConv",
        args: {
          ...common,
          images: batch,
          H: x.shape.h,
          W: x.shape.w,
          kh: kernel[0],
          kw: kernel[1],
          strideY: stride[0],
          strideX: stride[1],
          padTop: pads[0],
          padLeft: pads[1],
          outW: y.shape.w,
        },
      };
    }
    case "maxPool":
    case "avgPool": {
      const x = place(node.input),
        y = place(node.output);
      const { kernel, stride, pads } = poolWindow(node, x.shape);
      const args = {
        src: x.ptr,
        dst: y.ptr,
        H: x.shape.h,
        W: x.shape.w,
        outH: y.shape.h,
        outW: y.shape.w,
        kh: kernel[0],
        kw: kernel[1],
        strideY: stride[0],
        strideX: stride[1],
        padTop: pads[0],
        padLeft: pads[1],
        c0: 0,
        c1: x.shape.c * batch,
      };
      if (node.op === "maxPool") return { kernel: "maxPool", args };
      const countPad = node.countPad === false ? 0 : 1;
      return { kernel: "avgPool", args: { ...args, padBottom: pads[2], padRight: pads[3], countPad } };
    }
    case "lrn": {
      const x = place(node.input),
        y = place(node.output);
      return {
        kernel: "lrn",
        args: {
          src: x.ptr,
          dst: y.ptr,
          C: x.shape.c,
          HW: batch * x.shape.h * x.shape.w,
          size: node.size,
          alpha: node.alpha,
          beta: node.beta,
          k: node.k,
          c0: 0,
          c1: x.shape.c,
        },
      };
    }
    case "fc": {
      const x = place(node.input),
        y = place(node.output);
      const { w, b: bias } = weightPtr.get(node.name)!;
      const inF = x.shape.c * x.shape.h * x.shape.w;
      checkBatchedVector(node, x.shape, batch);
      const args = { w, bias, x: x.ptr, y: y.ptr, inF, images: batch, o0: 0, o1: node.outFeatures };
      return { kernel: "fullyConnected", args };
    }
    case "softmax": {
      const x = place(node.input),
        y = place(node.output);
      const n = x.shape.c * x.shape.h * x.shape.w;
      checkBatchedVector(node, x.shape, batch);
      return { kernel: "softmax", args: { src: x.ptr, dst: y.ptr, n, images: batch } };
    }
    case "concat":
      throw new ArgumentError(node.name, "op", "a node that runs a kernel (concat is planned away)", node.op);
  }
}
