// Scaled inverse DCT for the JPEG decoder (jpeg.ts): one 8x8 block of dequantized coefficients to
// nx x ny samples, nx, ny in {1, 2, 4, 8}. Pure JS, float64.
//
// Derivation (ITU T.81 A.3.3). The 8x8 IDCT of coefficients F(u, v) is
//   f(x, y) = sum_u sum_v c(u) c(v) F(u, v) cos((2x+1) u pi / 16) cos((2y+1) v pi / 16),   c(0) = 1/(2 sqrt 2),
//   c(u) = 1/2 otherwise,
// a sampling, at x = 0..7, of the continuous band-limited function g(t) = sum_u c(u) F(u) cos((2t+1) u pi / 16)
// (one axis shown). Reducing the block from 8 to N samples (N = 8/s) we sample the centres of N cells of s
// pixels each: t = s n + (s - 1)/2, so 2t + 1 = s (2n + 1) and the argument becomes (2n+1) u pi / (2N). Keeping
// only the frequencies u < N (the ones an N-sample grid can carry; the rest would alias) gives the N-point IDCT
//   f_N(n) = sum_{u<N} c(u) F(u) cos((2n+1) u pi / (2N)),   n = 0..N-1,
// with the same weights c(u) as the 8-point one, so a flat block keeps its level: N = 1 is f = F(0, 0) / 8, the
// DC coefficient alone (the 1/8 scale needs no IDCT at all). This is what libjpeg's reduced IDCTs compute
// (jidctred.c). Two dimensions apply it per axis with sizes nx and ny (nx != ny for chroma of 4:2:2).
//
// The separable evaluation below is exact in float64 up to rounding (about 1e-13 of the 8-bit range); samples
// are level-shifted (+128) and rounded and clamped to 0..255 by storing into a Uint8ClampedArray (round half
// to even). It skips the rows and columns of coefficients that are zero (bounded by the highest zigzag index
// the entropy decoder stored), so sparse blocks cost little.

/** Natural (row-major) index of zigzag position k (ITU T.81 figure A.6). */
export const ZIGZAG = Int32Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47,
  55, 62, 63,
]);

/** ZIGZAG_COLS[k]: number of coefficient columns (u = 0..n-1) that zigzag positions 0..k can touch. */
const ZIGZAG_COLS = new Int32Array(64);
/** ZIGZAG_ROWS[k]: number of coefficient rows (v = 0..n-1) that zigzag positions 0..k can touch. */
const ZIGZAG_ROWS = new Int32Array(64);
for (let k = 0, cols = 0, rows = 0; k < 64; k++) {
  cols = Math.max(cols, (ZIGZAG[k] & 7) + 1);
  rows = Math.max(rows, (ZIGZAG[k] >> 3) + 1);
  ZIGZAG_COLS[k] = cols;
  ZIGZAG_ROWS[k] = rows;
}

/**
 * The N-point basis scaled by sqrt 2: KERNELS[N][n * 8 + u] = sqrt(2) c(u) cos((2n+1) u pi / (2N)) for n, u < N
 * (see the header), for N = 1, 2, 4, 8; other entries are unused. A 2-D sample is (sum kx ky F) / 2 + 128. The
 * scaling makes every entry that is rational exact: 1/2 for u = 0, and +-1/2 where the cosine is +-sqrt(2)/2
 * (2 (2n+1) u / N odd: all of the 2-point basis, u = 2 of the 4-point and u = 4 of the 8-point one). So a block
 * whose exact samples are multiples of 1/8 (every 2x2 or DC-only block) is computed exactly, and its .5 ties
 * round the same way in any exact reference.
 */
export const KERNELS: Record<number, Float64Array> = {};
for (const n of [1, 2, 4, 8]) {
  const k = new Float64Array(64);
  for (let i = 0; i < n; i++) {
    for (let u = 0; u < n; u++) k[i * 8 + u] = basis(n, i, u);
  }
  KERNELS[n] = k;
}

/** sqrt(2) c(u) cos((2i+1) u pi / (2n)), exact where it is rational (see KERNELS). */
export function basis(n: number, i: number, u: number): number {
  if (u === 0) return 0.5;
  const cos = Math.cos(((2 * i + 1) * u * Math.PI) / (2 * n));
  if (((2 * (2 * i + 1) * u) / n) % 2 === 1) return Math.sign(cos) * 0.5;
  return (Math.SQRT2 / 2) * cos;
}

/** Scratch rows of the first (vertical) pass: tmp[y * 8 + u]. */
const tmp = new Float64Array(64);

/**
 * Scaled IDCT of one block: coef holds the dequantized coefficients in natural order (F(u, v) at v * 8 + u),
 * zero beyond zigzag position lastK; writes nx x ny samples (level-shifted, rounded, clamped) to
 * out[offset + y * stride + x]. nx and ny must be 1, 2, 4 or 8.
 */
export function idctScaled(
  coef: Int32Array,
  lastK: number,
  nx: number,
  ny: number,
  out: Uint8ClampedArray,
  offset: number,
  stride: number,
): void {
  if (lastK === 0) {
    // Only F(0, 0): every sample is F(0, 0) c(0)^2 = F(0, 0) / 8 (exact).
    const level = coef[0] / 8 + 128;
    for (let y = 0; y < ny; y++) out.fill(level, offset + y * stride, offset + y * stride + nx);
    return;
  }
  const kx = KERNELS[nx],
    ky = KERNELS[ny];
  const cols = Math.min(nx, ZIGZAG_COLS[lastK]),
    rows = Math.min(ny, ZIGZAG_ROWS[lastK]);
  for (let y = 0; y < ny; y++) {
    for (let u = 0; u < cols; u++) {
      let s = 0;
      for (let v = 0; v < rows; v++) s += ky[y * 8 + v] * coef[v * 8 + u];
      tmp[y * 8 + u] = s;
    }
  }
  for (let y = 0; y < ny; y++) {
    const o = offset + y * stride;
    for (let x = 0; x < nx; x++) {
      let s = 0;
      for (let u = 0; u < cols; u++) s += kx[x * 8 + u] * tmp[y * 8 + u];
      out[o + x] = s / 2 + 128;
    }
  }
}
