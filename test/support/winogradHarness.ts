// Running the Winograd kernel (assembly/winograd.ts) on Float32Arrays: filters transformed by
// winogradFilters, then winogradConv over each requested range, with outputs prefilled (NaN
// inside the written channel range, the sentinel outside it) as the GEMM harness does.

import type { Shape } from "../../src/host/ir/graph.js";
import type { KernelExports } from "../../src/host/wasm/kernels.js";
import type { Arena } from "../../src/host/wasm/arena.js";
import { fillSentinel, invoke, sentinelViolation } from "./kernelHarness.js";

/** An r x r stride-1 convolution with padding (r-1)/2 (r = 3 or 5) over `images` images. */
export interface WinogradCase {
  /** The filter side r: 3 (F(4x4, 3x3)) or 5 (F(2x2, 5x5)). */
  r: number;
  /** [C][images][H][W]. */
  input: Float32Array;
  /** One image's shape. */
  shape: Shape;
  images: number;
  /** OIHW, M x C x r x r. */
  weight: Float32Array;
  bias: Float32Array | undefined;
  outChannels: number;
  relu: boolean;
  /** Write channels [c0, c0 + outChannels) of a totalChannels-channel buffer (a concat). */
  concat?: { c0: number; totalChannels: number };
  /** Output channel and tile ranges, one call each in this order (default: everything in one call). */
  ranges?: WinogradRange[];
  /** The GEMM tile id the products run with (default 0; the kernel takes 6x8 for a tile without 8 columns). */
  tile?: number;
}

/** Output channels [m0, m1) of tiles [t0, t1). */
export interface WinogradRange {
  m0: number;
  m1: number;
  t0: number;
  t1: number;
}

/** Output tiles of a case (m x m tiles over every image, m = 4 for r = 3, 2 for r = 5). */
export function winogradTileCount(r: number, shape: Shape, images: number): number {
  const m = 7 - r;
  return images * Math.ceil(shape.h / m) * Math.ceil(shape.w / m);
}

/** Runs a case; returns the convolution's own output ([M][images][H][W]) and any write outside its channels. */
export function runWinograd(
  k: KernelExports,
  arena: Arena,
  c: WinogradCase,
): { out: Float32Array; outside: string | undefined } {
  const { shape, images, outChannels: M } = c;
  const C = shape.c;
  const plane = images * shape.h * shape.w;
  const c0 = c.concat?.c0 ?? 0;
  const total = c.concat?.totalChannels ?? M;
  const mark = arena.mark();
  try {
    const src = arena.put(c.input);
    const w = arena.put(c.weight);
    const u = arena.alloc(k.winogradFilterBytes(M, C));
    const bias = c.bias ? arena.put(c.bias) : 0;
    const dstAll = arena.alloc(total * plane * 4);
    const scratch = arena.alloc(k.winogradScratchBytes(C));
    const all = arena.f32(dstAll, total * plane);
    fillSentinel(all, 0, total * plane);
    all.fill(NaN, c0 * plane, (c0 + M) * plane);
    k.winogradFilters(w, u, M, C, c.r);
    const dst = dstAll + c0 * plane * 4;
    const H = shape.h,
      W = shape.w;
    const relu = c.relu ? 1 : 0;
    const r = c.r;
    for (const range of c.ranges ?? [{ m0: 0, m1: M, t0: 0, t1: winogradTileCount(r, shape, images) }]) {
      invoke(k, {
        kernel: "winogradConv",
        args: { tile: c.tile ?? 0, u, bias, M, C, r, src, images, H, W, dst, ...range, relu, scratch },
      });
    }
    const whole = arena.f32(dstAll, total * plane).slice();
    const what = `winograd output (channels [${c0}, ${c0 + M}) of ${total})`;
    const outside =
      sentinelViolation(whole, 0, c0 * plane, what) ?? sentinelViolation(whole, (c0 + M) * plane, total * plane, what);
    return { out: whole.slice(c0 * plane, (c0 + M) * plane), outside };
  } finally {
    arena.release(mark);
  }
}
