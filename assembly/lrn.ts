// Local response normalisation across channels (Caffe ACROSS_CHANNELS).

/**
 * dst[c] = src[c] * (k + alpha / size * sum_{c' in window(c)} src[c']^2) ^ -beta for channels
 * [c0, c1) of an NCHW image with C channels of HW pixels; window(c) is
 * [c - (size-1)/2, c + size/2] clipped to [0, C), squares summed in ascending c'.
 * dst must not overlap src. beta = 0.75 takes a SIMD path (x / (sqrt(s) * sqrt(sqrt(s))));
 * other betas use scalar pow.
 */
export function lrn(
  src: usize, dst: usize, C: i32, HW: i32, size: i32, alpha: f32, beta: f32, k: f32,
  c0: i32, c1: i32,
): void {
  const plane = <usize>HW * 4;
  const before = (size - 1) / 2;
  const scale = alpha / <f32>size;
  const fast = beta == 0.75;
  const kv = f32x4.splat(k);
  const sv = f32x4.splat(scale);
  for (let c = c0; c < c1; c++) {
    const w0 = max(c - before, 0);
    const w1 = min(c - before + size, C);
    const x = src + <usize>c * plane;
    const y = dst + <usize>c * plane;
    let p = 0;
    if (fast) {
      for (; p + 4 <= HW; p += 4) {
        let ss = f32x4.splat(0);
        for (let q = w0; q < w1; q++) {
          const v = v128.load(src + <usize>q * plane + <usize>p * 4);
          ss = f32x4.add(ss, f32x4.mul(v, v));
        }
        const s = f32x4.add(kv, f32x4.mul(sv, ss));
        const r = f32x4.sqrt(s);
        const d = f32x4.mul(r, f32x4.sqrt(r));
        v128.store(y + <usize>p * 4, f32x4.div(v128.load(x + <usize>p * 4), d));
      }
    }
    for (; p < HW; p++) {
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
