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

/** Independent accumulator chains of probeRegisterPeak (see there). */
const REGISTER_CHAINS: i32 = 12;

/** The chains of probeRegisterPeak: every step does this many f32x4 multiply-adds. */
export function probeRegisterChains(): i32 {
  return REGISTER_CHAINS;
}

/**
 * Register-only peak: the engine's ceiling for the build's `madd` on 128-bit SIMD, with no memory
 * operand in the loop. Twelve independent f32x4 chains, chain j starting at splat(j), each step
 * c_j = madd(c_j, x, y) (mul then add in the baseline build, relaxed_madd in the relaxed build):
 * iterations * 12 * 4 multiply-adds. Twelve chains hide the latency of an unfused mul+add (about
 * 6 cycles at 2 per cycle: 12 in flight) and of an FMA, and with x and y take 14 of x86's 16
 * vector registers (measured on Zen 3: 8 or 10 chains leave unfused mul+add short of its peak,
 * 13 lose to 12 in V8 12+ and JavaScriptCore, 14 spill in Node 20's V8). Returns the lane sum of all chains so the work cannot be optimised away;
 * with |x| < 1 the chains converge to y / (1 - x), never overflow or go subnormal.
 */
export function probeRegisterPeak(x: f32, y: f32, iterations: i32): f32 {
  const vx = f32x4.splat(x),
    vy = f32x4.splat(y);
  let c0 = f32x4.splat(0),
    c1 = f32x4.splat(1),
    c2 = f32x4.splat(2),
    c3 = f32x4.splat(3),
    c4 = f32x4.splat(4),
    c5 = f32x4.splat(5);
  let c6 = f32x4.splat(6),
    c7 = f32x4.splat(7),
    c8 = f32x4.splat(8),
    c9 = f32x4.splat(9),
    c10 = f32x4.splat(10),
    c11 = f32x4.splat(11);
  for (let i = 0; i < iterations; i++) {
    c0 = madd(c0, vx, vy);
    c1 = madd(c1, vx, vy);
    c2 = madd(c2, vx, vy);
    c3 = madd(c3, vx, vy);
    c4 = madd(c4, vx, vy);
    c5 = madd(c5, vx, vy);
    c6 = madd(c6, vx, vy);
    c7 = madd(c7, vx, vy);
    c8 = madd(c8, vx, vy);
    c9 = madd(c9, vx, vy);
    c10 = madd(c10, vx, vy);
    c11 = madd(c11, vx, vy);
  }
  const s = f32x4.add(
    f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7))),
    f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11)),
  );
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
