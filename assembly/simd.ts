// Shared SIMD helpers for the kernels.

/**
 * a * b + c on four f32 lanes.
 * Baseline build: a multiply rounded to f32, then an add rounded to f32 (the same bits on
 * every machine). Relaxed build (`--enable relaxed-simd`): `f32x4.relaxed_madd`, which the
 * engine may fuse (one rounding), so results may differ from the baseline by about one ulp
 * per step and between host CPUs.
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}
