// Max and average pooling over NCHW planes: Caffe's window rules, and ONNX's per-axis
// windows, asymmetric padding and divisors. The output size is the caller's (Caffe's ceil
// mode, ONNX's floor or ceil mode: see src/host/ir/window.ts); windows are clipped to the
// image, so padded taps never take part in a max and add nothing to a sum.

/**
 * Max pooling of channels [c0, c1): src planes H x W, dst planes outH x outW (both
 * contiguous per channel, channel c at plane index c). Window kh x kw, strides strideY and
 * strideX, padTop rows and padLeft columns of padding before the image: output (oy, ox) is
 * the max over input rows [oy * strideY - padTop, + kh) and columns [ox * strideX - padLeft,
 * + kw) clipped to the image (Caffe's clipped windows; ONNX's -inf padding). A window with
 * no tap in the image gives -inf. GoogLeNet's two shapes, 3x3 stride 1 pad 1 and 3x3
 * stride 2 pad 0, take a SIMD path (maxPool3x3); any other shape a scalar one. Both take
 * the max of the same taps, so they give the same values.
 */
export function maxPool(
  src: usize, dst: usize, H: i32, W: i32, outH: i32, outW: i32,
  kh: i32, kw: i32, strideY: i32, strideX: i32, padTop: i32, padLeft: i32, c0: i32, c1: i32,
): void {
  const square = kh == 3 && kw == 3 && strideY == strideX && padTop == padLeft;
  if (square && ((strideY == 1 && padTop == 1) || (strideY == 2 && padTop == 0))) {
    maxPool3x3(src, dst, H, W, outH, outW, strideY, c0, c1);
    return;
  }
  const inPlane = <usize>H * W * 4;
  const outPlane = <usize>outH * outW * 4;
  for (let c = c0; c < c1; c++) {
    const inp = src + <usize>c * inPlane;
    let out = dst + <usize>c * outPlane;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = max(oy * strideY - padTop, 0);
      const y1 = min(oy * strideY - padTop + kh, H);
      for (let ox = 0; ox < outW; ox++) {
        store<f32>(out, maxWindow(inp, W, y0, y1, ox * strideX - padLeft, kw));
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
 * Average pooling of channels [c0, c1), layouts and windows as maxPool: the sum over the
 * window clipped to the image, divided by the number of the window's taps that lie inside
 * the divisor's extent. countPad 0: the extent is the image (ONNX count_include_pad 0).
 * countPad 1: the padded image, rows [-padTop, H + padBottom) and columns [-padLeft,
 * W + padRight), so padded taps count as zeros while taps past the padded edge (ceil-mode
 * overflow) do not: Caffe's divisor when padBottom = padTop and padRight = padLeft, ONNX's
 * count_include_pad 1 otherwise.
 */
export function avgPool(
  src: usize, dst: usize, H: i32, W: i32, outH: i32, outW: i32,
  kh: i32, kw: i32, strideY: i32, strideX: i32, padTop: i32, padLeft: i32, padBottom: i32, padRight: i32,
  countPad: i32, c0: i32, c1: i32,
): void {
  const inPlane = <usize>H * W * 4;
  const outPlane = <usize>outH * outW * 4;
  const top = countPad != 0 ? -padTop : 0;
  const left = countPad != 0 ? -padLeft : 0;
  const bottom = countPad != 0 ? H + padBottom : H;
  const right = countPad != 0 ? W + padRight : W;
  for (let c = c0; c < c1; c++) {
    const inp = src + <usize>c * inPlane;
    let out = dst + <usize>c * outPlane;
    for (let oy = 0; oy < outH; oy++) {
      const ys = oy * strideY - padTop;
      const y0 = max(ys, 0);
      const y1 = min(ys + kh, H);
      const rows = min(ys + kh, bottom) - max(ys, top);
      for (let ox = 0; ox < outW; ox++) {
        const xs = ox * strideX - padLeft;
        const count = <f32>(rows * (min(xs + kw, right) - max(xs, left)));
        const x0 = max(xs, 0);
        const x1 = min(xs + kw, W);
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
