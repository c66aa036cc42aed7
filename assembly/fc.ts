// Fully connected layer (GEMV per image).

/**
 * y[o][b] = bias[o] + sum_i W[o][i] * x[i][b] for o in [o0, o1) and each of `images` images b,
 * with x and y holding the images of an element side by side (x[i][b] at x + (i * images + b) * 4;
 * one contiguous vector when images = 1). W: row-major (outputs x inF) f32; bias: one per output,
 * or 0 for none. Each dot product is summed in a fixed order whatever `images` is: four f32x4
 * partial sums over i in steps of 16, combined lane-wise, then the lanes, then the scalar tail.
 */
export function fullyConnected(
  w: usize,
  bias: usize,
  x: usize,
  y: usize,
  inF: i32,
  images: i32,
  o0: i32,
  o1: i32,
): void {
  const vecEnd = inF & ~15;
  const step = <usize>images * 4;
  for (let o = o0; o < o1; o++) {
    const row = w + <usize>o * inF * 4;
    for (let b = 0; b < images; b++) {
      const xb = x + <usize>b * 4;
      let s0 = f32x4.splat(0),
        s1 = f32x4.splat(0),
        s2 = f32x4.splat(0),
        s3 = f32x4.splat(0);
      for (let i = 0; i < vecEnd; i += 16) {
        const r = row + <usize>i * 4;
        const v = xb + <usize>i * step;
        s0 = f32x4.add(s0, f32x4.mul(v128.load(r), gather(v, step, images)));
        s1 = f32x4.add(s1, f32x4.mul(v128.load(r, 16), gather(v + 4 * step, step, images)));
        s2 = f32x4.add(s2, f32x4.mul(v128.load(r, 32), gather(v + 8 * step, step, images)));
        s3 = f32x4.add(s3, f32x4.mul(v128.load(r, 48), gather(v + 12 * step, step, images)));
      }
      const s = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
      let acc =
        f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
      for (let i = vecEnd; i < inF; i++) acc += load<f32>(row + <usize>i * 4) * load<f32>(xb + <usize>i * step);
      if (bias != 0) acc += load<f32>(bias + <usize>o * 4);
      store<f32>(y + (<usize>o * images + b) * 4, acc);
    }
  }
}

/** Four floats `step` bytes apart from `at` (one v128 load when they are contiguous). */
// @ts-ignore: decorator
@inline function gather(at: usize, step: usize, images: i32): v128 {
  if (images == 1) return v128.load(at);
  let v = f32x4.splat(load<f32>(at));
  v = f32x4.replace_lane(v, 1, load<f32>(at + step));
  v = f32x4.replace_lane(v, 2, load<f32>(at + 2 * step));
  return f32x4.replace_lane(v, 3, load<f32>(at + 3 * step));
}
