// SGEMM for convolutions: C = act(bias + A * B) with a 4x8 v128 register tile.
//
// A is the weight matrix (M output channels x K = Cin*kh*kw), packed once at load into
// MR-row panels. B (K x N, N = output pixels) is either a dense row-major matrix (1x1
// stride-1 convolutions: the NCHW input itself, no im2col) or an image whose im2col
// columns are computed on the fly; either way each K block of B is written straight into
// NR-column panels in the caller's scratch (packing even the dense case measured faster
// than reading it in place: one contiguous 32-byte row per k instead of a strided one).
// C is row-major with a row stride, so a convolution can write a channel range of a
// larger NCHW buffer (Inception's concat).
//
// Loop nest (Goto/BLIS, mirrored: our A is the stationary operand):
//   for each block of NC_PANELS column panels in [n0, n1)
//     for each K block of at most KC_MAX
//       pack the block's B panels (im2col, or a copy of dense rows)
//       for each MR-row panel of A in [m0, m1)
//         for each NR-column panel of the block: 4x8 micro-kernel over the K block
// The K blocking depends on K alone, never on the requested ranges, so every output
// element is reduced in the same order whatever range a caller asks for.

import { madd } from "./simd";

/** Rows per A panel (register tile height). */
const MR: i32 = 4;
/** Columns per B panel (register tile width: two f32x4). */
const NR: i32 = 8;
/** Largest K block reduced per pass over C. */
const KC_MAX: i32 = 512;
/** Column panels prepared per K block. */
const NC_PANELS: i32 = 8;
/** Scratch header: a 4x8 f32 tile (128 bytes) and up to 8 im2col runs of 32 bytes (256 bytes). */
const SCRATCH_HEADER: usize = 384;

const MODE_DENSE: i32 = 0;
const MODE_IM2COL: i32 = 1;

/** Rows of the register tile: row ranges given to gemmDense/gemmConv start at multiples of it. */
export function gemmTileRows(): i32 {
  return MR;
}

/** Columns of the register tile: column ranges start at multiples of it. */
export function gemmTileCols(): i32 {
  return NR;
}

/** Largest K block: K is reduced in ceil(K / gemmKBlock()) blocks of near-equal size (depending on K alone). */
export function gemmKBlock(): i32 {
  return KC_MAX;
}

/** Bytes of scratch one caller of gemmDense/gemmConv needs (16-byte aligned pointer). */
export function gemmScratchBytes(): i32 {
  return <i32>SCRATCH_HEADER + KC_MAX * NR * NC_PANELS * 4;
}

/** Bytes of a weight matrix of M x K packed by packWeights. */
export function packedWeightsBytes(M: i32, K: i32): i32 {
  return ((M + MR - 1) / MR) * MR * K * 4;
}

/**
 * Packs row-major A (M x K f32 at `src`) into ceil(M/4) panels, each K x 4 floats
 * (panel p, step k holds rows 4p..4p+3 at column k); rows past M are zero.
 * `dst` holds packedWeightsBytes(M, K) bytes and must not overlap `src`.
 */
export function packWeights(src: usize, dst: usize, M: i32, K: i32): void {
  const panels = (M + MR - 1) / MR;
  for (let p = 0; p < panels; p++) {
    for (let r = 0; r < MR; r++) {
      const m = p * MR + r;
      let out = dst + (<usize>p * K * MR + r) * 4;
      if (m < M) {
        let inp = src + <usize>m * K * 4;
        for (let k = 0; k < K; k++) {
          store<f32>(out, load<f32>(inp));
          inp += 4;
          out += MR * 4;
        }
      } else {
        for (let k = 0; k < K; k++) {
          store<f32>(out, 0);
          out += MR * 4;
        }
      }
    }
  }
}

/**
 * C[m][n] = act(bias[m] + sum_k A[m][k] * B[k][n]) for m in [m0, m1), n in [n0, n1), with
 * B a dense K x N row-major matrix at `src` (row stride N floats): a 1x1 stride-1
 * convolution over an NCHW image, read in place.
 *
 * a: packWeights(A) panels. bias: M floats, or 0 for none. dst: C, row stride `ldc` floats.
 * relu: fused max(x, 0). scratch: gemmScratchBytes() bytes owned by this caller.
 * Ranges: m0 and n0 multiples of 4 and 8; m1 a multiple of 4 or M; n1 a multiple of 8 or N.
 */
export function gemmDense(
  a: usize,
  bias: usize,
  M: i32,
  K: i32,
  N: i32,
  src: usize,
  dst: usize,
  ldc: i32,
  m0: i32,
  m1: i32,
  n0: i32,
  n1: i32,
  relu: bool,
  scratch: usize,
): void {
  gemmDriver(MODE_DENSE, a, bias, M, K, N, src, 1, 0, 0, 1, 1, 1, 1, 0, 0, N, dst, ldc, m0, m1, n0, n1, relu, scratch);
}

/**
 * The same product with B = im2col of `images` H x W images at `src`, stored channel by channel
 * with the images of a channel side by side ([K / (kh*kw)][images][H][W], one NCHW image when
 * images = 1), for a kh x kw convolution with strides strideY, strideX and zero padding padTop
 * rows above and padLeft columns left of the image (padding below and right only shows in
 * the output size), whose output is outW wide and N = images * outH * outW pixels (column
 * n = (image * outH + oy) * outW + ox, so C is laid out like the input): output (oy, ox)
 * tap (ky, kx) reads input (oy * strideY - padTop + ky, ox * strideX - padLeft + kx);
 * k = (c * kh + ky) * kw + kx (OIHW weights). Arguments otherwise as gemmDense.
 */
export function gemmConv(
  a: usize,
  bias: usize,
  M: i32,
  K: i32,
  N: i32,
  src: usize,
  images: i32,
  H: i32,
  W: i32,
  kh: i32,
  kw: i32,
  strideY: i32,
  strideX: i32,
  padTop: i32,
  padLeft: i32,
  outW: i32,
  dst: usize,
  ldc: i32,
  m0: i32,
  m1: i32,
  n0: i32,
  n1: i32,
  relu: bool,
  scratch: usize,
): void {
  gemmDriver(
    MODE_IM2COL,
    a,
    bias,
    M,
    K,
    N,
    src,
    images,
    H,
    W,
    kh,
    kw,
    strideY,
    strideX,
    padTop,
    padLeft,
    outW,
    dst,
    ldc,
    m0,
    m1,
    n0,
    n1,
    relu,
    scratch,
  );
}

function gemmDriver(
  mode: i32,
  a: usize,
  bias: usize,
  M: i32,
  K: i32,
  N: i32,
  src: usize,
  images: i32,
  H: i32,
  W: i32,
  kh: i32,
  kw: i32,
  strideY: i32,
  strideX: i32,
  padTop: i32,
  padLeft: i32,
  outW: i32,
  dst: usize,
  ldc: i32,
  m0: i32,
  m1: i32,
  n0: i32,
  n1: i32,
  relu: bool,
  scratch: usize,
): void {
  assert(m0 % MR == 0 && (m1 % MR == 0 || m1 == M) && m1 <= M);
  assert(n0 % NR == 0 && (n1 % NR == 0 || n1 == N) && n1 <= N);
  const kBlocks = (K + KC_MAX - 1) / KC_MAX;
  const kcStep = (K + kBlocks - 1) / kBlocks;
  const panels = scratch + SCRATCH_HEADER;
  const cStride = <usize>ldc * 4;
  for (let nb = n0; nb < n1; nb += NR * NC_PANELS) {
    const nbEnd = min(nb + NR * NC_PANELS, n1);
    for (let k0 = 0; k0 < K; k0 += kcStep) {
      const kc = min(kcStep, K - k0);
      const first = k0 == 0;
      const lastRelu = relu && k0 + kc >= K;
      for (let n = nb; n < nbEnd; n += NR) {
        const panel = panels + <usize>((n - nb) / NR) * kc * NR * 4;
        if (mode == MODE_IM2COL) {
          im2colPanel(
            panel, scratch + 128, src, images, N, H, W, kh, kw, strideY, strideX, padTop, padLeft, outW, n, k0, kc,
          );
        } else {
          densePanel(panel, src, N, n, k0, kc);
        }
      }
      for (let m = m0; m < m1; m += MR) {
        const rows = min(MR, M - m);
        const aPanel = a + (<usize>(m / MR) * K + k0) * MR * 4;
        const biasRow: usize = bias == 0 ? 0 : bias + <usize>m * 4;
        for (let n = nb; n < nbEnd; n += NR) {
          const cols = min(NR, N - n);
          const b = panels + <usize>((n - nb) / NR) * kc * NR * 4;
          if (cols > NR / 2) {
            kernel4x8(
              kc,
              aPanel,
              b,
              dst + (<usize>m * ldc + n) * 4,
              cStride,
              rows,
              cols,
              biasRow,
              first,
              lastRelu,
              scratch,
            );
          } else {
            kernel4x4(
              kc,
              aPanel,
              b,
              dst + (<usize>m * ldc + n) * 4,
              cStride,
              rows,
              cols,
              biasRow,
              first,
              lastRelu,
              scratch,
            );
          }
        }
      }
    }
  }
}

/** Copies columns n..n+7 of dense B rows [k0, k0+kc) into a panel; columns past N are 0. */
function densePanel(panel: usize, src: usize, N: i32, n: i32, k0: i32, kc: i32): void {
  const cols = min(NR, N - n);
  for (let k = 0; k < kc; k++) {
    const row = src + (<usize>(k0 + k) * N + n) * 4;
    const out = panel + <usize>k * NR * 4;
    if (cols == NR) {
      v128.store(out, v128.load(row));
      v128.store(out, v128.load(row, 16), 16);
      continue;
    }
    v128.store(out, f32x4.splat(0));
    v128.store(out, f32x4.splat(0), 16);
    for (let j = 0; j < cols; j++) store<f32>(out + j * 4, load<f32>(row + j * 4));
  }
}

/**
 * Writes im2col rows [k0, k0+kc) of output pixels n..n+7 into `panel` (kc x 8 floats);
 * pixels at or past N and taps in the zero padding are 0. The 8 pixels are split into
 * runs that share an output row (at most 8); per k each run needs one row bounds check,
 * and a full in-bounds run is two v128 copies (strideX 1) or four loads and two even-lane
 * shuffles (strideX 2). `runs` holds 128 bytes of scratch.
 */
function im2colPanel(
  panel: usize,
  runs: usize,
  src: usize,
  images: i32,
  N: i32,
  H: i32,
  W: i32,
  kh: i32,
  kw: i32,
  strideY: i32,
  strideX: i32,
  padTop: i32,
  padLeft: i32,
  outW: i32,
  n: i32,
  k0: i32,
  kc: i32,
): void {
  const taps = kh * kw;
  const cols = min(NR, N - n);
  const plane = <usize>H * W * 4;
  const outH = N / images / outW;
  // Runs: (first column, length, input row origin, input column origin, image byte offset), 32 bytes each.
  let count = 0;
  for (let j = 0; j < cols; ) {
    const row = (n + j) / outW;
    const ox = n + j - row * outW;
    const image = row / outH;
    const oy = row - image * outH;
    const len = min(cols - j, outW - ox);
    const r = runs + <usize>count * 32;
    store<i32>(r, j);
    store<i32>(r, len, 4);
    store<i32>(r, oy * strideY - padTop, 8);
    store<i32>(r, ox * strideX - padLeft, 12);
    store<i32>(r, image * <i32>plane, 16);
    count++;
    j += len;
  }
  let c = k0 / taps;
  let rest = k0 - c * taps;
  let ky = rest / kw;
  let kx = rest - ky * kw;
  for (let k = 0; k < kc; k++) {
    const out = panel + <usize>k * NR * 4;
    if (cols < NR) {
      v128.store(out, f32x4.splat(0));
      v128.store(out, f32x4.splat(0), 16);
    }
    const channel = src + <usize>c * images * plane;
    for (let q = 0; q < count; q++) {
      const r = runs + <usize>q * 32;
      const j0 = load<i32>(r);
      const len = load<i32>(r, 4);
      const iy = load<i32>(r, 8) + ky;
      const ix = load<i32>(r, 12) + kx;
      const dst = out + <usize>j0 * 4;
      if (<u32>iy >= <u32>H) {
        for (let t = 0; t < len; t++) store<f32>(dst + <usize>t * 4, 0);
        continue;
      }
      const row = channel + <usize>load<i32>(r, 16) + <usize>iy * W * 4;
      if (len == NR && ix >= 0) {
        const at = row + <usize>ix * 4;
        if (strideX == 1 && ix + NR <= W) {
          v128.store(dst, v128.load(at));
          v128.store(dst, v128.load(at, 16), 16);
          continue;
        }
        if (strideX == 2 && ix + 2 * NR <= W) {
          v128.store(dst, v128.shuffle<f32>(v128.load(at), v128.load(at, 16), 0, 2, 4, 6));
          v128.store(dst, v128.shuffle<f32>(v128.load(at, 32), v128.load(at, 48), 0, 2, 4, 6), 16);
          continue;
        }
      }
      for (let t = 0; t < len; t++) {
        const x = ix + t * strideX;
        store<f32>(dst + <usize>t * 4, <u32>x < <u32>W ? load<f32>(row + <usize>x * 4) : 0);
      }
    }
    if (++kx == kw) {
      kx = 0;
      if (++ky == kh) {
        ky = 0;
        c++;
      }
    }
  }
}

/**
 * The 4x8 micro-kernel: acc = A panel (kc x 4) * B panel (kc x 8); then C (row stride ldc bytes) = acc + bias when `first` (C is not read),
 * else C + acc; then max(., 0) when `relu`. Only rows x cols of the tile are stored.
 */
function kernel4x8(
  kc: i32,
  a: usize,
  b: usize,
  c: usize,
  ldc: usize,
  rows: i32,
  cols: i32,
  bias: usize,
  first: bool,
  relu: bool,
  tmp: usize,
): void {
  let c00 = f32x4.splat(0),
    c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0),
    c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0),
    c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0),
    c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = madd(av, b0, c20);
    c21 = madd(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = madd(av, b0, c30);
    c31 = madd(av, b1, c31);
    a += 16;
    b += NR * 4;
  }
  if (rows == MR && cols == NR) {
    if (first) {
      if (bias != 0) {
        let bv = v128.load32_splat(bias);
        c00 = f32x4.add(c00, bv);
        c01 = f32x4.add(c01, bv);
        bv = v128.load32_splat(bias, 4);
        c10 = f32x4.add(c10, bv);
        c11 = f32x4.add(c11, bv);
        bv = v128.load32_splat(bias, 8);
        c20 = f32x4.add(c20, bv);
        c21 = f32x4.add(c21, bv);
        bv = v128.load32_splat(bias, 12);
        c30 = f32x4.add(c30, bv);
        c31 = f32x4.add(c31, bv);
      }
    } else {
      c00 = f32x4.add(c00, v128.load(c));
      c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(c + ldc));
      c11 = f32x4.add(c11, v128.load(c + ldc, 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * ldc));
      c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * ldc));
      c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
    }
    if (relu) {
      const z = f32x4.splat(0);
      c00 = f32x4.pmax(z, c00);
      c01 = f32x4.pmax(z, c01);
      c10 = f32x4.pmax(z, c10);
      c11 = f32x4.pmax(z, c11);
      c20 = f32x4.pmax(z, c20);
      c21 = f32x4.pmax(z, c21);
      c30 = f32x4.pmax(z, c30);
      c31 = f32x4.pmax(z, c31);
    }
    v128.store(c, c00);
    v128.store(c, c01, 16);
    v128.store(c + ldc, c10);
    v128.store(c + ldc, c11, 16);
    v128.store(c + 2 * ldc, c20);
    v128.store(c + 2 * ldc, c21, 16);
    v128.store(c + 3 * ldc, c30);
    v128.store(c + 3 * ldc, c31, 16);
    return;
  }
  // Edge tile: the same f32 operations, lane by lane, on the valid part only.
  v128.store(tmp, c00);
  v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32);
  v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64);
  v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96);
  v128.store(tmp, c31, 112);
  edgeEpilogue(tmp, c, ldc, rows, cols, bias, first, relu);
}

/**
 * The micro-kernel for a panel whose valid columns fit in its left half (cols <= 4: N's
 * last panel, e.g. 196 = 24 * 8 + 4, 49 = 6 * 8 + 1): the left f32x4 of each row of the
 * 4x8 tile only, with the same operations in the same order, so the same bits.
 */
function kernel4x4(
  kc: i32,
  a: usize,
  b: usize,
  c: usize,
  ldc: usize,
  rows: i32,
  cols: i32,
  bias: usize,
  first: bool,
  relu: bool,
  tmp: usize,
): void {
  let c0 = f32x4.splat(0),
    c1 = f32x4.splat(0),
    c2 = f32x4.splat(0),
    c3 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    c0 = madd(v128.load32_splat(a), b0, c0);
    c1 = madd(v128.load32_splat(a, 4), b0, c1);
    c2 = madd(v128.load32_splat(a, 8), b0, c2);
    c3 = madd(v128.load32_splat(a, 12), b0, c3);
    a += 16;
    b += NR * 4;
  }
  v128.store(tmp, c0);
  v128.store(tmp, c1, 32);
  v128.store(tmp, c2, 64);
  v128.store(tmp, c3, 96);
  edgeEpilogue(tmp, c, ldc, rows, cols, bias, first, relu);
}

/**
 * Epilogue of a partial tile from the accumulators stored row by row (8 floats a row) at
 * `tmp`: C = acc + bias when `first` (C not read), else C + acc; then ReLU when `relu`;
 * only rows x cols are written. The same f32 operations as the full-tile epilogue.
 */
function edgeEpilogue(
  tmp: usize,
  c: usize,
  ldc: usize,
  rows: i32,
  cols: i32,
  bias: usize,
  first: bool,
  relu: bool,
): void {
  for (let r = 0; r < rows; r++) {
    const row = c + <usize>r * ldc;
    const add = first ? (bias != 0 ? load<f32>(bias + <usize>r * 4) : 0) : 0;
    for (let j = 0; j < cols; j++) {
      let v = load<f32>(tmp + <usize>(r * NR + j) * 4);
      v = first ? (bias != 0 ? v + add : v) : v + load<f32>(row + <usize>j * 4);
      if (relu && !(v > 0)) v = 0;
      store<f32>(row + <usize>j * 4, v);
    }
  }
}
