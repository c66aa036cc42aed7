// Local response normalisation across channels (Caffe ACROSS_CHANNELS).

/**
 * dst[c] = src[c] * (k + alpha / size * sum_{c' in window(c)} src[c']^2) ^ -beta for channels
 * [c0, c1) of an NCHW image with C channels of HW pixels; window(c) is
 * [c - (size-1)/2, c + size/2] clipped to [0, C), squares summed in ascending c'.
 * dst must not overlap src. With size 5 and beta 0.75 (GoogLeNet) pixels go four at a time
 * through lrn5 (x / (sqrt(s) * sqrt(sqrt(s)))); the rest, and other parameters, are scalar
 * (beta 0.75: the same sqrt chain; other betas: pow). Both paths give the same bits.
 */
export function lrn(
  src: usize,
  dst: usize,
  C: i32,
  HW: i32,
  size: i32,
  alpha: f32,
  beta: f32,
  k: f32,
  c0: i32,
  c1: i32,
): void {
  const plane = <usize>HW * 4;
  const before = (size - 1) / 2;
  const scale = alpha / <f32>size;
  const fast = beta == 0.75;
  const vecEnd = fast && size == 5 ? HW & ~3 : 0;
  if (vecEnd > 0) lrn5(src, dst, C, plane, vecEnd, scale, k, c0, c1);
  for (let c = c0; c < c1; c++) {
    const w0 = max(c - before, 0);
    const w1 = min(c - before + size, C);
    const x = src + <usize>c * plane;
    const y = dst + <usize>c * plane;
    for (let p = vecEnd; p < HW; p++) {
      let ss: f32 = 0;
      for (let q = w0; q < w1; q++) {
        const v = load<f32>(src + <usize>q * plane + <usize>p * 4);
        ss += v * v;
      }
      const s = k + scale * ss;
      const d: f32 = fast ? Mathf.sqrt(s) * Mathf.sqrt(Mathf.sqrt(s)) : Mathf.pow(s, beta);
      store<f32>(y + <usize>p * 4, load<f32>(x + <usize>p * 4) / d);
    }
  }
}

/**
 * LRN with size 5 and beta 0.75 for pixels [0, vecEnd) (a multiple of 4) of channels
 * [c0, c1): per group of four pixels the five squares of the window stay in registers while
 * the channel advances, so each input is loaded and squared once. Squares of channels
 * outside [0, C) are +0, which leaves the ascending sum's bits unchanged.
 */
function lrn5(src: usize, dst: usize, C: i32, plane: usize, vecEnd: i32, scale: f32, k: f32, c0: i32, c1: i32): void {
  const kv = f32x4.splat(k);
  const sv = f32x4.splat(scale);
  const zero = f32x4.splat(0);
  for (let p = 0; p < vecEnd; p += 4) {
    const col = src + <usize>p * 4;
    const xm2 = c0 - 2 >= 0 ? v128.load(col + <usize>(c0 - 2) * plane) : zero;
    const xm1 = c0 - 1 >= 0 ? v128.load(col + <usize>(c0 - 1) * plane) : zero;
    let x0 = v128.load(col + <usize>c0 * plane);
    let x1 = c0 + 1 < C ? v128.load(col + <usize>(c0 + 1) * plane) : zero;
    let sm2 = f32x4.mul(xm2, xm2),
      sm1 = f32x4.mul(xm1, xm1);
    let s0 = f32x4.mul(x0, x0),
      s1 = f32x4.mul(x1, x1);
    for (let c = c0; c < c1; c++) {
      const x2 = c + 2 < C ? v128.load(col + <usize>(c + 2) * plane) : zero;
      const s2 = f32x4.mul(x2, x2);
      const ss = f32x4.add(f32x4.add(f32x4.add(f32x4.add(sm2, sm1), s0), s1), s2);
      const s = f32x4.add(kv, f32x4.mul(sv, ss));
      const r = f32x4.sqrt(s);
      v128.store(dst + <usize>c * plane + <usize>p * 4, f32x4.div(x0, f32x4.mul(r, f32x4.sqrt(r))));
      sm2 = sm1;
      sm1 = s0;
      s0 = s1;
      s1 = s2;
      x0 = x1;
      x1 = x2;
    }
  }
}
