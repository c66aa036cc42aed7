// Max and average pooling over NCHW planes, with Caffe's window rules.
// The output size is the caller's (Caffe's ceil mode: see src/host/shapes.ts); windows
// that hang over the bottom/right edge are clipped.

/**
 * Max pooling of channels [c0, c1): src planes H x W, dst planes outH x outW (both
 * contiguous per channel, channel c at plane index c). Window k x k, `stride`, `pad`;
 * padded taps are ignored (Caffe: window clipped to the image). GoogLeNet's two shapes,
 * 3x3 stride 1 pad 1 and 3x3 stride 2 pad 0, take a SIMD path (maxPool3x3); any other
 * shape a scalar one. Both take the max of the same taps, so they give the same values.
 */
export function maxPool(
  src: usize, dst: usize, H: i32, W: i32, outH: i32, outW: i32,
  k: i32, stride: i32, pad: i32, c0: i32, c1: i32,
): void {
  if (k == 3 && ((stride == 1 && pad == 1) || (stride == 2 && pad == 0))) {
    maxPool3x3(src, dst, H, W, outH, outW, stride, c0, c1);
    return;
  }
  const inPlane = <usize>H * W * 4;
  const outPlane = <usize>outH * outW * 4;
  for (let c = c0; c < c1; c++) {
    const inp = src + <usize>c * inPlane;
    let out = dst + <usize>c * outPlane;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = max(oy * stride - pad, 0);
      const y1 = min(oy * stride - pad + k, H);
      for (let ox = 0; ox < outW; ox++) {
        store<f32>(out, maxWindow(inp, W, y0, y1, ox * stride - pad, k));
        out += 4;
      }
    }
  }
}

/**
 * 3x3 max pooling, stride 1 pad 1 or stride 2 pad 0, four outputs at a time: the max over
 * the window's rows of four adjacent input columns (lanes past the row end = -inf), then
 * the horizontal max of neighbouring lanes by shuffles. Reads up to 12 bytes past a row's
 * end (masked off), so the plane must not end the memory.
 */
function maxPool3x3(src: usize, dst: usize, H: i32, W: i32, outH: i32, outW: i32, stride: i32, c0: i32, c1: i32): void {
  const inPlane = <usize>H * W * 4;
  const outPlane = <usize>outH * outW * 4;
  const pad = stride == 1 ? 1 : 0;
  for (let c = c0; c < c1; c++) {
    const inp = src + <usize>c * inPlane;
    const out = dst + <usize>c * outPlane;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = max(oy * stride - pad, 0);
      const y1 = min(oy * stride - pad + 3, H);
      const row = out + <usize>oy * outW * 4;
      if (stride == 1) {
        // Outputs 4g..4g+3 need columns 4g-1..4g+4: the previous, this and the next group.
        let prev = f32x4.splat(-Infinity);
        let cur = columnMax(inp, W, y0, y1, 0);
        for (let x = 0; x < outW; x += 4) {
          const next = columnMax(inp, W, y0, y1, x + 4);
          const left = v128.shuffle<f32>(prev, cur, 3, 4, 5, 6);
          const right = v128.shuffle<f32>(cur, next, 1, 2, 3, 4);
          storeLanes(row + <usize>x * 4, f32x4.pmax(f32x4.pmax(left, cur), right), outW - x);
          prev = cur;
          cur = next;
        }
      } else {
        // Outputs 4g..4g+3 need columns 8g..8g+8: two groups and the first lane of a third,
        // which is the next step's first group.
        let a = columnMax(inp, W, y0, y1, 0);
        for (let x = 0; x < outW; x += 4) {
          const b = columnMax(inp, W, y0, y1, 2 * x + 4);
          const e = columnMax(inp, W, y0, y1, 2 * x + 8);
          const evens = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
          const odds = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
          const shifted = v128.shuffle<f32>(evens, e, 1, 2, 3, 4);
          storeLanes(row + <usize>x * 4, f32x4.pmax(f32x4.pmax(evens, odds), shifted), outW - x);
          a = e;
        }
      }
    }
  }
}

/** Max over rows [y0, y1) of columns x..x+3 of a plane W wide; columns at or past W are -inf. */
// @ts-ignore: decorator
@inline function columnMax(plane: usize, W: i32, y0: i32, y1: i32, x: i32): v128 {
  const inside = W - x;
  if (inside <= 0) return f32x4.splat(-Infinity);
  let m = f32x4.splat(-Infinity);
  for (let y = y0; y < y1; y++) m = f32x4.pmax(m, v128.load(plane + (<usize>y * W + x) * 4));
  if (inside >= 4) return m;
  return v128.bitselect(m, f32x4.splat(-Infinity), i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(inside)));
}

/** Stores the first min(n, 4) lanes of v at p. */
// @ts-ignore: decorator
@inline function storeLanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(p, v); return; }
  if (n >= 2) {
    v128.store64_lane(p, v, 0);
    if (n == 3) v128.store32_lane(p, v, 2, 8);
  } else {
    v128.store32_lane(p, v, 0);
  }
}

/** Max over rows [y0, y1) and columns [xs, xs + k) clipped to [0, W) of one plane. */
// @ts-ignore: decorator
@inline function maxWindow(plane: usize, W: i32, y0: i32, y1: i32, xs: i32, k: i32): f32 {
  const x0 = max(xs, 0);
  const x1 = min(xs + k, W);
  let m = -Infinity as f32;
  for (let y = y0; y < y1; y++) {
    const line = plane + <usize>y * W * 4;
    for (let x = x0; x < x1; x++) {
      const v = load<f32>(line + <usize>x * 4);
      if (v > m) m = v;
    }
  }
  return m;
}

/**
 * Average pooling of channels [c0, c1), layouts as maxPool. Caffe's divisor: the window
 * clipped to the padded image (H + pad, W + pad) before clipping to the image, so padded
 * taps count as zeros; taps past the padded edge do not count.
 */
export function avgPool(
  src: usize, dst: usize, H: i32, W: i32, outH: i32, outW: i32,
  k: i32, stride: i32, pad: i32, c0: i32, c1: i32,
): void {
  const inPlane = <usize>H * W * 4;
  const outPlane = <usize>outH * outW * 4;
  for (let c = c0; c < c1; c++) {
    const inp = src + <usize>c * inPlane;
    let out = dst + <usize>c * outPlane;
    for (let oy = 0; oy < outH; oy++) {
      const ys = oy * stride - pad;
      const ye = min(ys + k, H + pad);
      const y0 = max(ys, 0);
      const y1 = min(ye, H);
      for (let ox = 0; ox < outW; ox++) {
        const xs = ox * stride - pad;
        const xe = min(xs + k, W + pad);
        const count = <f32>((ye - ys) * (xe - xs));
        const x0 = max(xs, 0);
        const x1 = min(xe, W);
        let s: f32 = 0;
        for (let y = y0; y < y1; y++) {
          const row = inp + <usize>y * W * 4;
          for (let x = x0; x < x1; x++) s += load<f32>(row + <usize>x * 4);
        }
        store<f32>(out, s / count);
        out += 4;
      }
    }
  }
}
