// Fast mode's part of the plan: which convolutions may run Winograd (assembly/winograd.ts,
// declared as winogradConv in wasm/calls.ts: F(4x4, 3x3) and F(2x2, 5x5)), the size and
// writing of their transformed filters, and their kernel calls. Which candidates do run
// Winograd is the engine's choice (a load-time measurement, engine/winogradChoice.ts), given to
// the planner as a list. Strict mode never reaches this file.

import { ArgumentError, WasmLoadError } from "../errors.js";
import type { ConvNode, Graph, GraphNode, Shape } from "../ir/graph.js";
import { convWindow } from "../ir/window.js";
import { WINOGRAD_ROWS, WINOGRAD_TILES, type KernelCall } from "../wasm/calls.js";
import type { KernelExports } from "../wasm/kernels.js";

/**
 * "strict" (default): every convolution as a GEMM, the same bits as the float64-checked
 * kernels' contract. "fast": the 3x3 and 5x5 stride-1 "same" convolutions that measure faster
 * that way run as Winograd F(4x4, 3x3) or F(2x2, 5x5): 2-4x fewer multiply-adds on them, with
 * a larger (bounded, test/support/tolerance.ts) rounding error.
 */
export type Precision = "strict" | "fast";

/** Filter sides the Winograd kernel takes, with their output tiles: F(4x4, 3x3) and F(2x2, 5x5). */
export const WINOGRAD_OUTPUT_TILES: Readonly<Record<number, number>> = { 3: 4, 5: 2 };

/** Elements of a transformed tile: (m + r - 1)^2 = 36 for both. */
const WINOGRAD_ELEMENTS = 36;

/**
 * The filter side r when `node` can run Winograd: a convolution with an r x r window, r = 3 or
 * 5, stride 1 and zero padding (r-1)/2 on every side (the output has the input's size);
 * otherwise undefined.
 */
export function winogradFilterSide(node: GraphNode): number | undefined {
  if (node.op !== "conv") return undefined;
  const { kernel, stride, pads } = convWindow(node);
  const r = kernel[0];
  if (WINOGRAD_OUTPUT_TILES[r] === undefined || kernel[1] !== r) return undefined;
  const same = stride.every((s) => s === 1) && pads.every((p) => p === (r - 1) / 2);
  return same ? r : undefined;
}

/** The convolutions of `graph` that can run Winograd (winogradFilterSide), in graph order. */
export function winogradCandidates(graph: Graph): ConvNode[] {
  return graph.nodes.filter((n): n is ConvNode => winogradFilterSide(n) !== undefined);
}

/**
 * The Winograd layers of a plan: none in strict mode; in fast mode `chosen` (default: every
 * candidate), each checked to be a candidate of `graph` (ArgumentError naming it otherwise).
 * The list depends on the graph and the choice alone, never on the batch, so an image's bits do
 * not depend on its batch.
 */
export function winogradLayers(graph: Graph, precision: Precision, chosen?: readonly string[]): string[] {
  if (precision !== "fast") return [];
  const candidates = winogradCandidates(graph).map((n) => n.name);
  if (chosen === undefined) return candidates;
  for (const name of chosen) {
    if (!candidates.includes(name)) {
      throw new ArgumentError(
        "planGraph",
        "winograd",
        `names of 3x3 pad-1 or 5x5 pad-2 stride-1 convolutions (${candidates.length} in this graph)`,
        name,
      );
    }
  }
  return candidates.filter((n) => chosen.includes(n));
}

/** Throws WasmLoadError when the module's Winograd tiles or panels differ from the declarations here and in calls.ts. */
export function checkWinogradModule(k: KernelExports): void {
  const sides = Object.keys(WINOGRAD_OUTPUT_TILES).map(Number);
  const found = [...sides.map((r) => k.winogradOutputTile(r)), k.winogradTileRows(), k.winogradTileBlock()];
  const want = [...sides.map((r) => WINOGRAD_OUTPUT_TILES[r]), WINOGRAD_ROWS, WINOGRAD_TILES];
  if (found.some((v, i) => v !== want[i])) {
    throw new WasmLoadError(
      "kernel module",
      `Winograd output tiles (filter sides ${sides.join(", ")}), channel and tile panels ${want.join(", ")} declared, the module has ${found.join(", ")}`,
    );
  }
}

/** Output tiles of a Winograd convolution with filter side r over `batch` images of an h x w output. */
export function winogradTiles(r: number, out: Shape, batch: number): number {
  const m = WINOGRAD_OUTPUT_TILES[r];
  return batch * Math.ceil(out.h / m) * Math.ceil(out.w / m);
}

/** Multiply-adds of the transformed-domain products of one image (36 per tile, input and output channel). */
export function winogradMultiplyAdds(node: ConvNode, input: Shape, output: Shape): number {
  return WINOGRAD_ELEMENTS * winogradTiles(winogradFilterSide(node)!, output, 1) * node.outChannels * input.c;
}

/**
 * The winogradConv call over the whole output of `node` (a candidate; input x: C x H x W, output
 * channels at y), its products on the GEMM tile `tile` (an id; the kernel takes it when it has 8
 * columns, else 6x8: the bits are the same).
 */
export function winogradCall(
  node: ConvNode,
  x: { ptr: number; shape: Shape },
  y: { ptr: number; shape: Shape },
  weights: { w: number; b: number },
  batch: number,
  tile: number,
): KernelCall {
  const M = node.outChannels;
  const r = winogradFilterSide(node)!;
  return {
    kernel: "winogradConv",
    args: {
      tile,
      u: weights.w,
      bias: weights.b,
      M,
      C: x.shape.c,
      r,
      src: x.ptr,
      images: batch,
      H: x.shape.h,
      W: x.shape.w,
      dst: y.ptr,
      m0: 0,
      m1: M,
      t0: 0,
      t1: winogradTiles(r, y.shape, batch),
      relu: node.relu ? 1 : 0,
      scratch: 0,
    },
  };
}
