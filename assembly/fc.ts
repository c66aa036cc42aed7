// Fully connected layer for one input vector (GEMV).

/**
 * y[o] = bias[o] + sum_i W[o][i] * x[i] for o in [o0, o1). W: row-major (outputs x inF)
 * f32; bias: one per output, or 0 for none. Each dot product is summed in a fixed order:
 * four f32x4 partial sums over i in steps of 16, combined lane-wise, then the lanes,
 * then the scalar tail.
 */
export function fullyConnected(w: usize, bias: usize, x: usize, y: usize, inF: i32, o0: i32, o1: i32): void {
  const vecEnd = inF & ~15;
  for (let o = o0; o < o1; o++) {
    const row = w + <usize>o * inF * 4;
    let s0 = f32x4.splat(0),
      s1 = f32x4.splat(0),
      s2 = f32x4.splat(0),
      s3 = f32x4.splat(0);
    for (let i = 0; i < vecEnd; i += 16) {
      const r = row + <usize>i * 4;
      const v = x + <usize>i * 4;
      s0 = f32x4.add(s0, f32x4.mul(v128.load(r), v128.load(v)));
      s1 = f32x4.add(s1, f32x4.mul(v128.load(r, 16), v128.load(v, 16)));
      s2 = f32x4.add(s2, f32x4.mul(v128.load(r, 32), v128.load(v, 32)));
      s3 = f32x4.add(s3, f32x4.mul(v128.load(r, 48), v128.load(v, 48)));
    }
    const s = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
    let acc =
      f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    for (let i = vecEnd; i < inF; i++) acc += load<f32>(row + <usize>i * 4) * load<f32>(x + <usize>i * 4);
    if (bias != 0) acc += load<f32>(bias + <usize>o * 4);
    store<f32>(y + <usize>o * 4, acc);
  }
}
