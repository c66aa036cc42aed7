// Max and average pooling over NCHW planes, with Caffe's window rules.
// The output size is the caller's (Caffe's ceil mode: see src/host/shapes.ts); windows
// that hang over the bottom/right edge are clipped.

/**
 * Max pooling of channels [c0, c1): src planes H x W, dst planes outH x outW (both
 * contiguous per channel, channel c at plane index c). Window k x k, `stride`, `pad`;
 * padded taps are ignored (Caffe: window clipped to the image). Columns whose window lies
 * inside the image take a SIMD path (strides 1 and 2), four outputs at a time; the max of
 * the same taps either way, so both paths give the same values.
 */
export function maxPool(
  src: usize, dst: usize, H: i32, W: i32, outH: i32, outW: i32,
  k: i32, stride: i32, pad: i32, c0: i32, c1: i32,
): void {
  const inPlane = <usize>H * W * 4;
  const outPlane = <usize>outH * outW * 4;
  // Output columns [vx0, vx1) have windows inside the row; for stride 2 the vector loads
  // also read one float past the window, which must stay inside the row too.
  const vx0 = (pad + stride - 1) / stride;
  let vx1 = stride == 1 || stride == 2 ? (W + pad - k - (stride == 2 ? 1 : 0)) / stride + 1 : 0;
  vx1 = min(max(vx1, vx0), outW);
  for (let c = c0; c < c1; c++) {
    const inp = src + <usize>c * inPlane;
    const out = dst + <usize>c * outPlane;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = max(oy * stride - pad, 0);
      const y1 = min(oy * stride - pad + k, H);
      const row = out + <usize>oy * outW * 4;
      let ox = 0;
      for (; ox < vx0 && ox < outW; ox++) store<f32>(row + <usize>ox * 4, maxWindow(inp, W, y0, y1, ox * stride - pad, k));
      for (; ox + 4 <= vx1; ox += 4) {
        const x = ox * stride - pad;
        let m = f32x4.splat(-Infinity);
        for (let y = y0; y < y1; y++) {
          const line = inp + (<usize>y * W + x) * 4;
          for (let dx = 0; dx < k; dx++) {
            let v: v128;
            if (stride == 1) {
              v = v128.load(line + <usize>dx * 4);
            } else {
              const a = v128.load(line + <usize>dx * 4);
              const b = v128.load(line + <usize>dx * 4, 16);
              v = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
            }
            m = f32x4.pmax(m, v);
          }
        }
        v128.store(row + <usize>ox * 4, m);
      }
      for (; ox < outW; ox++) store<f32>(row + <usize>ox * 4, maxWindow(inp, W, y0, y1, ox * stride - pad, k));
    }
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
