import { madd } from "./simd";

/**
 * Peak probe: `iterations` rounds of 10 independent accumulators, each acc += x * m with x
 * loaded from the 160-byte buffer at `src` (L1-resident: the loads are not the limit), so
 * only the multiply-add throughput bounds it. Uses the build's `madd` (mul then add in the
 * baseline build, relaxed_madd in the relaxed build). Performs iterations * 40
 * multiply-adds. Returns a lane sum so the work cannot be optimised away.
 */
export function probePeak(src: usize, iterations: i32): f32 {
  const m = f32x4.splat(0.5);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  let a8 = f32x4.splat(0), a9 = f32x4.splat(0);
  for (let i = 0; i < iterations; i++) {
    a0 = madd(v128.load(src), m, a0);
    a1 = madd(v128.load(src, 16), m, a1);
    a2 = madd(v128.load(src, 32), m, a2);
    a3 = madd(v128.load(src, 48), m, a3);
    a4 = madd(v128.load(src, 64), m, a4);
    a5 = madd(v128.load(src, 80), m, a5);
    a6 = madd(v128.load(src, 96), m, a6);
    a7 = madd(v128.load(src, 112), m, a7);
    a8 = madd(v128.load(src, 128), m, a8);
    a9 = madd(v128.load(src, 144), m, a9);
  }
  let s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  s = f32x4.add(s, f32x4.add(a8, a9));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
