// Numerically stable softmax.

/**
 * For each of `images` images b: dst[i][b] = exp(src[i][b] - max) / sum_j exp(src[j][b] - max) for
 * i in [0, n), with the images of an element side by side (element i of image b at (i * images + b) * 4;
 * one contiguous vector when images = 1); exponentials and their sum in f64, rounded to f32 at the
 * end. dst may equal src.
 */
export function softmax(src: usize, dst: usize, n: i32, images: i32): void {
  const step = <usize>images * 4;
  for (let b = 0; b < images; b++) {
    const s = src + <usize>b * 4;
    const d = dst + <usize>b * 4;
    let m = -Infinity as f32;
    for (let i = 0; i < n; i++) m = max(m, load<f32>(s + <usize>i * step));
    let sum: f64 = 0;
    for (let i = 0; i < n; i++) sum += Math.exp(<f64>(load<f32>(s + <usize>i * step) - m));
    for (let i = 0; i < n; i++) {
      store<f32>(d + <usize>i * step, <f32>(Math.exp(<f64>(load<f32>(s + <usize>i * step) - m)) / sum));
    }
  }
}
