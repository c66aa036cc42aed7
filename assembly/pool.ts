// Max and average pooling over NCHW planes, with Caffe's window rules.
// The output size is the caller's (Caffe's ceil mode: see src/host/shapes.ts); windows
// that hang over the bottom/right edge are clipped.

/**
 * Max pooling of channels [c0, c1): src planes H x W, dst planes outH x outW (both
 * contiguous per channel, channel c at plane index c). Window k x k, `stride`, `pad`;
 * padded taps are ignored (Caffe: window clipped to the image).
 */
export function maxPool(
  src: usize, dst: usize, H: i32, W: i32, outH: i32, outW: i32,
  k: i32, stride: i32, pad: i32, c0: i32, c1: i32,
): void {
  const inPlane = <usize>H * W * 4;
  const outPlane = <usize>outH * outW * 4;
  for (let c = c0; c < c1; c++) {
    const inp = src + <usize>c * inPlane;
    let out = dst + <usize>c * outPlane;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = max(oy * stride - pad, 0);
      const y1 = min(oy * stride - pad + k, H);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = max(ox * stride - pad, 0);
        const x1 = min(ox * stride - pad + k, W);
        let m = -Infinity as f32;
        for (let y = y0; y < y1; y++) {
          const row = inp + <usize>y * W * 4;
          for (let x = x0; x < x1; x++) {
            const v = load<f32>(row + <usize>x * 4);
            if (v > m) m = v;
          }
        }
        store<f32>(out, m);
        out += 4;
      }
    }
  }
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
