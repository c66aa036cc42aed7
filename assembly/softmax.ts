// Numerically stable softmax.

/**
 * dst[i] = exp(src[i] - max) / sum_j exp(src[j] - max) for i in [0, n); exponentials and
 * their sum in f64, rounded to f32 at the end. dst may equal src.
 */
export function softmax(src: usize, dst: usize, n: i32): void {
  let m = -Infinity as f32;
  for (let i = 0; i < n; i++) m = max(m, load<f32>(src + <usize>i * 4));
  let sum: f64 = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(<f64>(load<f32>(src + <usize>i * 4) - m));
  for (let i = 0; i < n; i++) {
    store<f32>(dst + <usize>i * 4, <f32>(Math.exp(<f64>(load<f32>(src + <usize>i * 4) - m)) / sum));
  }
}
