// Fast mode's part of the plan: which convolutions run Winograd F(4x4, 3x3)
// (assembly/winograd.ts, declared as winogradConv in wasm/calls.ts), the size and writing of
// their transformed filters, and their kernel calls. Strict mode never reaches this file.

import { WasmLoadError } from "../errors.js";
import type { ConvNode, GraphNode, Shape } from "../ir/graph.js";
import { convWindow } from "../ir/window.js";
import { WINOGRAD_ROWS, WINOGRAD_TILES, type KernelCall } from "../wasm/calls.js";
import type { KernelExports } from "../wasm/kernels.js";

/**
 * "strict" (default): every convolution as a GEMM, the same bits as the float64-checked
 * kernels' contract. "fast": 3x3 stride-1 pad-1 convolutions as Winograd F(4x4, 3x3): about
 * 2-4x fewer multiply-adds, with a larger (bounded, test/support/tolerance.ts) rounding error.
 */
export type Precision = "strict" | "fast";

/**
 * Whether fast mode runs `node` (output shape `out`, one image) with Winograd: a 3x3
 * convolution, stride 1, zero padding 1 on every side, whose output is at least 8x8 (two
 * tiles each way). Smaller maps stay strict: at 7x7 (inception_5a/5b) a map is 4 tiles, so
 * the transformed filters (4x the 3x3 filters' bytes) serve 4 tiles each and half of each
 * 8-tile panel is empty; measured 0.86-0.91x of strict there (bench/winograd.ts). The rule
 * depends on the graph alone, never on the batch, so an image's bits do not depend on its batch.
 */
export function usesWinograd(node: GraphNode, precision: Precision, out: Shape): node is ConvNode {
  if (precision !== "fast" || node.op !== "conv") return false;
  const { kernel, stride, pads } = convWindow(node);
  const window = kernel.every((k) => k === 3) && stride.every((s) => s === 1) && pads.every((p) => p === 1);
  return window && Math.min(out.h, out.w) >= 2 * WINOGRAD_OUTPUT_TILE;
}

/** Side of Winograd's output tile (F(4x4, 3x3)): equals the module's winogradOutputTile(). */
export const WINOGRAD_OUTPUT_TILE = 4;
/** Elements of a transformed tile: (4 + 2)^2. */
const WINOGRAD_ELEMENTS = (WINOGRAD_OUTPUT_TILE + 2) ** 2;

/** Throws WasmLoadError when the module's Winograd tile or panels differ from the declarations here and in calls.ts. */
export function checkWinogradModule(k: KernelExports): void {
  const found = [k.winogradOutputTile(), k.winogradTileRows(), k.winogradTileBlock()];
  const want = [WINOGRAD_OUTPUT_TILE, WINOGRAD_ROWS, WINOGRAD_TILES];
  if (found.some((v, i) => v !== want[i])) {
    throw new WasmLoadError(
      "kernel module",
      `Winograd output tile, channel and tile panels ${want.join(", ")} declared, the module has ${found.join(", ")}`,
    );
  }
}

/** Output tiles of a Winograd convolution over `batch` images of an h x w output. */
export function winogradTiles(out: Shape, batch: number): number {
  return batch * Math.ceil(out.h / WINOGRAD_OUTPUT_TILE) * Math.ceil(out.w / WINOGRAD_OUTPUT_TILE);
}

/** Multiply-adds of the transformed-domain products of one image (36 per tile, input and output channel). */
export function winogradMultiplyAdds(node: ConvNode, input: Shape, output: Shape): number {
  return WINOGRAD_ELEMENTS * winogradTiles(output, 1) * node.outChannels * input.c;
}

/** The winogradConv call over the whole output of `node` (input x: C x H x W, output channels at y). */
export function winogradCall(
  node: ConvNode,
  x: { ptr: number; shape: Shape },
  y: { ptr: number; shape: Shape },
  weights: { w: number; b: number },
  batch: number,
): KernelCall {
  const M = node.outChannels;
  const t1 = winogradTiles(y.shape, batch);
  return {
    kernel: "winogradConv",
    args: {
      u: weights.w,
      bias: weights.b,
      M,
      C: x.shape.c,
      src: x.ptr,
      images: batch,
      H: x.shape.h,
      W: x.shape.w,
      dst: y.ptr,
      m0: 0,
      m1: M,
      t0: 0,
      t1,
      relu: node.relu ? 1 : 0,
      scratch: 0,
    },
  };
}
