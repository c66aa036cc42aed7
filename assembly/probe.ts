import { microKernel, tileColsOf, tileRowsOf } from "./tiles";
import { madd } from "./simd";

/**
 * Peak probe: the 4x8 GEMM register tile on L1-resident operands, the ceiling a 4x8
 * micro-kernel can reach. Each of `iterations` steps loads two v128 (8 B values) and four
 * f32 splats (A values) from the fixed 48-byte buffer at `src` and does 8 independent
 * multiply-adds into 8 accumulators, with the build's `madd` (mul then add in the baseline
 * build, relaxed_madd in the relaxed build): iterations * 32 multiply-adds. Returns a lane
 * sum so the work cannot be optimised away.
 */
export function probePeak(src: usize, iterations: i32): f32 {
  let c00 = f32x4.splat(0),
    c01 = f32x4.splat(0),
    c10 = f32x4.splat(0),
    c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0),
    c21 = f32x4.splat(0),
    c30 = f32x4.splat(0),
    c31 = f32x4.splat(0);
  for (let i = 0; i < iterations; i++) {
    const b0 = v128.load(src);
    const b1 = v128.load(src, 16);
    let a = v128.load32_splat(src, 32);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(src, 36);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(src, 40);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(src, 44);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
  }
  const s = f32x4.add(
    f32x4.add(f32x4.add(c00, c01), f32x4.add(c10, c11)),
    f32x4.add(f32x4.add(c20, c21), f32x4.add(c30, c31)),
  );
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

/**
 * Tile probe: `iterations` calls of tile `tile`'s micro-kernel (full width, first K block, no
 * bias or ReLU) over one A panel (kc x rows floats at `a`) and one B panel (kc x cols floats at
 * `b`), writing the tile to `c` (row stride cols floats). With kc small enough for L1 this is the
 * ceiling of that tile in the running engine: iterations * kc * rows * cols multiply-adds.
 */
export function probeTile(tile: i32, a: usize, b: usize, c: usize, kc: i32, iterations: i32, tmp: usize): void {
  const rows = tileRowsOf(tile);
  const cols = tileColsOf(tile);
  for (let i = 0; i < iterations; i++) microKernel(tile, kc, a, b, c, <usize>cols * 4, rows, cols, 0, true, false, tmp);
}
