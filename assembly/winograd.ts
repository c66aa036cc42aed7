// Winograd convolutions F(m x m, r x r) with a 6x6 transformed tile (Lavin & Gray 2016): fast
// mode's r x r stride-1 convolutions with zero padding (r-1)/2, r = 3 (F(4x4, 3x3)) or r = 5
// (F(2x2, 5x5)); m = 7 - r. A 6x6 input tile d gives an m x m output tile y = A^T [ U (.) V ] A
// with U = G g G^T (the r x r filter g, transformed once at load) and V = B^T d B; over C input
// channels each of the 36 tile elements e is a product M_e = U_e (M x C) * V_e (C x tiles).
// Both use the points a = 0, 1, -1, 2, -2 and infinity, so they share B^T (the interpolation
// at those points) and differ only in G (evaluation of g: r columns) and A^T (m rows):
//   B^T    = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G[i][k] = a_i^k / N_i (i < 5, N = 4, -6, -6, 24, 24: prod over j != i of (a_i - a_j)),
//   G[5][k] = 1 for k = r - 1, else 0; r = 3: [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
//   1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T[i][j] = a_j^i (j < 5), A^T[i][5] = 1 for i = m - 1, else 0; m = 4: [1 1 1 1 1 0;
//   0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1], m = 2: [1 1 1 1 1 0; 0 1 -1 2 -2 1]
//
// Per call (output channels [m0, m1), tiles [t0, t1)), for each block of up to WT_BLOCK tiles:
//   input transform of all C channels of the block's tiles into V ([36][block/R][C][R] in
//     scratch: per element, the GEMM's packed A panels of R rows, R the product tile's rows): the
//     6x6 patches gathered four tiles to a v128 (lanes = tiles), zero outside the image
//   for each 8-channel panel of U ([36][M/8][C][8]: per element, the GEMM's B panels of 8
//     columns): for each element e, each R-tile panel of V_e times U_e's panel with the product
//     tile, an R x 8 tile of the GEMM family (assembly/tiles.ts: the load's tile when it is a
//     variant with 8 columns, 4x8lanes or 6x8addr, so the loads an engine compiles best run here
//     too; else 6x8, which beat 4x8 here in V8 12.4 even where the GEMMs tie; over all C,
//     its exact row count for the last panel, bias 0 and no ReLU: the bare sums), into the
//     products [36][block][8]; then the output
//     transform of those 8 channels x the block's tiles (lanes = 4 channels), + bias, ReLU,
//     stored into the channel planes of dst (a concat's channel range when dst points into one)
// The 36 products of a block are 36 independent GEMMs [tiles x C] x [C x M]: V_e stays in L1
// while U_e's panel streams once per block (6x8: 8 operand loads per 12 multiply-adds), and a
// 7x7 map's 4 tiles fill a panel's first 4 rows with nothing wasted. Every output element is a
// function of its own tile's inputs, reduced over c in order 0..C-1 with the build's madd,
// whatever range, block, product tile or row panel a caller asks for or the kernel picks:
// bit-identical at any split and with any tile.

import { TILE_COUNT, TILE_TMP_BYTES, microKernel, tileColsOf, tileLoadsOf, tileRowsOf } from "./tiles";

/** Output channels per U panel (the product's columns: two f32x4). */
const WT_CHANNELS: i32 = 8;
/**
 * Tile ranges given to winogradConv start at multiples of this: the input transform's 4 lanes.
 * (Not 12, a multiple of 4- and 6-row panels: a 14x14 map's 16 tiles would then split 12 + 4 over
 * two threads.)
 */
const WT_TILE_ALIGN: i32 = 4;
/** Elements of a transformed 6x6 tile. */
const WT_E: i32 = 36;
/**
 * Most tiles transformed and multiplied together: each U_e panel (C x 8) is loaded once per block
 * and used for all its row panels (U is 4x the size of the 3x3 filters and streams from beyond L2
 * once per block). A multiple of every product tile's rows (4, 6), so V of a block is 36 * C * 24 * 4
 * bytes (442 KB at C = 128) with either.
 */
const WT_BLOCK: i32 = 24;
/**
 * Scratch header: the gathered patch and the output transform's work area (36 v128, 576 bytes),
 * the micro-kernel's spill area (TILE_TMP_BYTES), the block's tiles (16 bytes each: image byte
 * offset, first output row, first column), the products of a block ([36][WT_BLOCK][8] f32);
 * then V, [36][block/6][C][6] f32.
 */
const GATHER: usize = 0;
const TMP: usize = 576;
const TILES: usize = TMP + <usize>TILE_TMP_BYTES;
const PRODUCTS: usize = TILES + 16 * WT_BLOCK;
const V_AREA: usize = PRODUCTS + <usize>WT_E * WT_BLOCK * WT_CHANNELS * 4;

/** Output channels a panel holds: channel ranges given to winogradConv start at multiples of it. */
export function winogradTileRows(): i32 {
  return WT_CHANNELS;
}

/** Tile ranges given to winogradConv start at multiples of this. */
export function winogradTileBlock(): i32 {
  return WT_TILE_ALIGN;
}

/**
 * Side m of the output tile for filters of side r: 4 for r = 3, 2 for r = 5, 0 for any other r
 * (not supported). An H x W map has ceil(H/m) * ceil(W/m) tiles per image.
 */
export function winogradOutputTile(r: i32): i32 {
  return r == 3 || r == 5 ? 7 - r : 0;
}

/** Bytes of scratch one caller of winogradConv with C input channels needs (16-byte aligned pointer). */
export function winogradScratchBytes(C: i32): i32 {
  return <i32>V_AREA + WT_E * C * WT_BLOCK * 4;
}

/** Bytes of the transformed filters of an M x C x r x r convolution (winogradFilters' output; the same for r = 3 and 5). */
export function winogradFilterBytes(M: i32, C: i32): i32 {
  return WT_E * ((M + WT_CHANNELS - 1) / WT_CHANNELS) * WT_CHANNELS * C * 4;
}

/**
 * Transforms OIHW r x r filters (M x C x r x r f32 at `src`, r = 3 or 5) into U = G g G^T,
 * computed in f64 and rounded once to f32, laid out as [36][ceil(M/8)][C][8] (element e, channel
 * panel, input channel, 8 output channels); channels past M are 0. `dst` holds
 * winogradFilterBytes(M, C).
 */
export function winogradFilters(src: usize, dst: usize, M: i32, C: i32, r: i32): void {
  assert(winogradOutputTile(r) != 0);
  const panels = (M + WT_CHANNELS - 1) / WT_CHANNELS;
  const rowBytes = <usize>r * 4;
  for (let m = 0; m < panels * WT_CHANNELS; m++) {
    for (let c = 0; c < C; c++) {
      const g = src + <usize>(m * C + c) * r * rowBytes;
      const p = m / WT_CHANNELS;
      const q = m - p * WT_CHANNELS;
      for (let i = 0; i < 6; i++) {
        // Row i of G g (r values, at most 5: one per column of g), then (G g) G^T along the row.
        let t0: f64 = 0,
          t1: f64 = 0,
          t2: f64 = 0,
          t3: f64 = 0,
          t4: f64 = 0;
        if (m < M) {
          t0 = gColumn(i, r, g, rowBytes);
          t1 = gColumn(i, r, g + 4, rowBytes);
          t2 = gColumn(i, r, g + 8, rowBytes);
          if (r == 5) {
            t3 = gColumn(i, r, g + 12, rowBytes);
            t4 = gColumn(i, r, g + 16, rowBytes);
          }
        }
        for (let j = 0; j < 6; j++) {
          const e = i * 6 + j;
          const out = dst + ((<usize>(e * panels + p) * C + c) * WT_CHANNELS + q) * 4;
          store<f32>(out, <f32>gRow(j, r, t0, t1, t2, t3, t4));
        }
      }
    }
  }
}

/** The finite points a_i and the denominators N_i = prod over j != i of (a_i - a_j). */
// @ts-ignore: decorator
@inline function pointOf(i: i32): f64 {
  return i == 0 ? 0 : i == 1 ? 1 : i == 2 ? -1 : i == 3 ? 2 : -2;
}
// @ts-ignore: decorator
@inline function denominatorOf(i: i32): f64 {
  return i == 0 ? 4 : i <= 2 ? -6 : 24;
}

/** Row i of G applied to the column of g at `s` (r f32 at s, s + stride, ...). */
function gColumn(i: i32, r: i32, s: usize, stride: usize): f64 {
  const x0 = <f64>load<f32>(s),
    x1 = <f64>load<f32>(s + stride),
    x2 = <f64>load<f32>(s + 2 * stride);
  const x3: f64 = r == 5 ? <f64>load<f32>(s + 3 * stride) : 0,
    x4: f64 = r == 5 ? <f64>load<f32>(s + 4 * stride) : 0;
  return gRow(i, r, x0, x1, x2, x3, x4);
}

/** Row i of G (filters of side r) applied to (x0, .., x{r-1}) in f64: (sum_k a_i^k x_k) / N_i, or x{r-1} (infinity). */
function gRow(i: i32, r: i32, x0: f64, x1: f64, x2: f64, x3: f64, x4: f64): f64 {
  if (i == 5) return r == 5 ? x4 : x2;
  const a = pointOf(i);
  // Horner from the highest power: the powers of a (0, +-1, +-2) are exact.
  const sum = r == 5 ? (((x4 * a + x3) * a + x2) * a + x1) * a + x0 : (x2 * a + x1) * a + x0;
  return sum / denominatorOf(i);
}

/**
 * y = act(bias + conv_rxr(x, g)), stride 1, zero padding (r-1)/2, r = 3 or 5, for output
 * channels [m0, m1) and tiles [t0, t1). x: C channels of `images` H x W images at `src`,
 * [C][images][H][W]; y: M channels at `dst`, [M][images][H][W] (dst may point at a channel range
 * of a larger buffer with the same images x H x W planes: a concat). With m =
 * winogradOutputTile(r), tile t = (image * tilesY + ty) * tilesX + tx covers output rows
 * m*ty..m*ty+m-1 and columns m*tx..m*tx+m-1 of its image (clipped to H x W), tilesY = ceil(H/m),
 * tilesX = ceil(W/m). u: winogradFilters(g, r) of M x C; bias: M floats, or
 * 0 for none; relu: fused max(x, 0). scratch: winogradScratchBytes(C) bytes owned by this
 * caller, 16-byte aligned. Ranges: m0 a multiple of 8 (winogradTileRows), m1 a multiple of 8 or
 * M; t0 a multiple of 4 (winogradTileBlock), t1 a multiple of 4 or the tile count. tile: the
 * GEMM family's tile id (the load's): the products run with it when it is a variant (loads other
 * than splats) with 8 columns, else with 6x8 (productTile); the output bits do not depend on it.
 */
export function winogradConv(
  tile: i32,
  u: usize,
  bias: usize,
  M: i32,
  C: i32,
  r: i32,
  src: usize,
  images: i32,
  H: i32,
  W: i32,
  dst: usize,
  m0: i32,
  m1: i32,
  t0: i32,
  t1: i32,
  relu: bool,
  scratch: usize,
): void {
  const tm = winogradOutputTile(r);
  assert(tm != 0);
  const pad = (r - 1) / 2;
  const tilesX = (W + tm - 1) / tm;
  const tilesY = (H + tm - 1) / tm;
  const tiles = images * tilesY * tilesX;
  assert(m0 % WT_CHANNELS == 0 && (m1 % WT_CHANNELS == 0 || m1 == M) && m1 <= M);
  assert(t0 % WT_TILE_ALIGN == 0 && (t1 % WT_TILE_ALIGN == 0 || t1 == tiles) && t1 <= tiles);
  if (t1 <= t0 || m1 <= m0) return;
  const t = productTile(tile);
  const R = tileRowsOf(t);
  const panels = (M + WT_CHANNELS - 1) / WT_CHANNELS;
  const table = scratch + TILES;
  const v = scratch + V_AREA;
  // Blocks of at most WT_BLOCK tiles, as even as whole lane groups of 4 allow.
  const blocks = (t1 - t0 + WT_BLOCK - 1) / WT_BLOCK;
  const size = (((t1 - t0 + blocks - 1) / blocks + 3) >> 2) << 2;
  for (let first = t0; first < t1; first += size) {
    const count = min(size, t1 - first);
    const width = (count + 3) & ~3; // a V row: the block's tiles in whole lane groups
    for (let j = 0; j < count; j++) {
      const row = (first + j) / tilesX;
      const image = row / tilesY;
      store<i32>(table + <usize>j * 16, image * H * W * 4);
      store<i32>(table + <usize>j * 16, (row - image * tilesY) * tm, 4);
      store<i32>(table + <usize>j * 16, (first + j - row * tilesX) * tm, 8);
    }
    transformInput(v, scratch + GATHER, table, src, C, images, H, W, pad, count, width, R);
    // V_e: ceil(width / R) panels of [C][R] (the GEMM's packed A panels for the product tile).
    const vPanel = <usize>C * R * 4;
    const vElement = <usize>((width + R - 1) / R) * vPanel;
    const pElement = <usize>width * WT_CHANNELS * 4;
    for (let m = m0; m < m1; m += WT_CHANNELS) {
      const p = m / WT_CHANNELS;
      for (let e = 0; e < WT_E; e++) {
        const b = u + <usize>(e * panels + p) * C * WT_CHANNELS * 4;
        const a = v + <usize>e * vElement;
        const out = scratch + PRODUCTS + <usize>e * pElement;
        for (let j = 0; j < count; j += R) {
          const at = a + <usize>(j / R) * vPanel;
          microKernel(t, C, at, b, out + <usize>j * WT_CHANNELS * 4, WT_CHANNELS * 4, min(R, count - j), WT_CHANNELS, 0, true, false, scratch + TMP);
        }
      }
      transformOutput(scratch + PRODUCTS, scratch + GATHER, table, count, width, dst, bias, M, m, images, H, W, relu, tm);
    }
  }
}

/** The products' tile for the caller's `tile`: itself when it is a variant (tileLoadsOf != 0) with WT_CHANNELS columns, else the family's 6 x WT_CHANNELS splat tile. */
function productTile(tile: i32): i32 {
  if (tileColsOf(tile) == WT_CHANNELS && tileLoadsOf(tile) != 0) return tile;
  for (let t = 0; t < TILE_COUNT; t++) if (tileRowsOf(t) == 6 && tileColsOf(t) == WT_CHANNELS && tileLoadsOf(t) == 0) return t;
  assert(false);
  return 0;
}

/**
 * V[e][j / R][c][j % R] = (B^T d B)_e of the block's tile j (from `table`; d the 6x6 input patch
 * whose corner is the tile's first output row and column minus `pad`), channel c, for j < width
 * (a multiple of 4; tiles past `count` are 0; V_e has ceil(width / R) panels of C x R floats,
 * R = 4 or 6): for each channel, groups of four tiles gathered into `gather` (36 v128, lane =
 * tile) and transformed.
 */
function transformInput(
  v: usize,
  gather: usize,
  table: usize,
  src: usize,
  C: i32,
  images: i32,
  H: i32,
  W: i32,
  pad: i32,
  count: i32,
  width: i32,
  R: i32,
): void {
  const plane = <usize>H * W * 4;
  const vPanel = <usize>C * R * 4;
  const eStride = <usize>((width + R - 1) / R) * vPanel;
  for (let c = 0; c < C; c++) {
    const channel = src + <usize>c * images * plane;
    for (let g = 0; g < width; g += 4) {
      for (let l = 0; l < 4; l++) {
        const lane = gather + <usize>l * 4;
        if (g + l >= count) {
          for (let q = 0; q < 36; q++) store<f32>(lane + <usize>q * 16, 0);
          continue;
        }
        const entry = table + <usize>(g + l) * 16;
        const iy0 = load<i32>(entry, 4) - pad;
        const ix0 = load<i32>(entry, 8) - pad;
        const at = channel + <usize>load<i32>(entry);
        if (iy0 >= 0 && ix0 >= 0 && iy0 + 6 <= H && ix0 + 6 <= W) {
          for (let y = 0; y < 6; y++) {
            const r = at + (<usize>(iy0 + y) * W + ix0) * 4;
            const o = lane + <usize>y * 96;
            store<f32>(o, load<f32>(r));
            store<f32>(o, load<f32>(r, 4), 16);
            store<f32>(o, load<f32>(r, 8), 32);
            store<f32>(o, load<f32>(r, 12), 48);
            store<f32>(o, load<f32>(r, 16), 64);
            store<f32>(o, load<f32>(r, 20), 80);
          }
          continue;
        }
        for (let y = 0; y < 6; y++) {
          const iy = iy0 + y;
          for (let x = 0; x < 6; x++) {
            const ix = ix0 + x;
            const inside = <u32>iy < <u32>H && <u32>ix < <u32>W;
            store<f32>(lane + <usize>(y * 6 + x) * 16, inside ? load<f32>(at + (<usize>iy * W + ix) * 4) : 0);
          }
        }
      }
      // Columns: B^T d (in place, column x at gather + x*16, row y at + y*96).
      for (let x = 0; x < 6; x++) bt6(gather + <usize>x * 16, 96, gather + <usize>x * 16, 96);
      // Rows: (B^T d) B, into V[e = i*6 + j]: tiles g..g+3 are slots (g % R)..+3 of panel g / R,
      // or (R = 6, g % 12 = 4) slots 4, 5 of one panel and 0, 1 of the next (transformed in
      // place, then stored as two halves).
      const panel = v + <usize>(g / R) * vPanel + <usize>c * R * 4 + <usize>(g % R) * 4;
      if (g % R != 4) {
        for (let i = 0; i < 6; i++) bt6(gather + <usize>i * 96, 16, panel + <usize>i * 6 * eStride, eStride);
      } else {
        for (let i = 0; i < 6; i++) bt6(gather + <usize>i * 96, 16, gather + <usize>i * 96, 16);
        for (let e = 0; e < WT_E; e++) {
          const x = v128.load(gather + <usize>e * 16);
          v128.store64_lane(panel + <usize>e * eStride, x, 0);
          v128.store64_lane(panel + vPanel - 16 + <usize>e * eStride, x, 1);
        }
      }
    }
  }
}

/** Six v128 at `s` (stride `ss` bytes) -> B^T times them, six v128 at `d` (stride `ds`); s may equal d. */
// @ts-ignore: decorator
@inline function bt6(s: usize, ss: usize, d: usize, ds: usize): void {
  const d0 = v128.load(s);
  const d1 = v128.load(s + ss);
  const d2 = v128.load(s + 2 * ss);
  const d3 = v128.load(s + 3 * ss);
  const d4 = v128.load(s + 4 * ss);
  const d5 = v128.load(s + 5 * ss);
  const four = f32x4.splat(4);
  const five = f32x4.splat(5);
  const two = f32x4.splat(2);
  // r0 = 4 d0 - 5 d2 + d4; r5 = 4 d1 - 5 d3 + d5
  const r0 = f32x4.add(f32x4.sub(f32x4.mul(four, d0), f32x4.mul(five, d2)), d4);
  const r5 = f32x4.add(f32x4.sub(f32x4.mul(four, d1), f32x4.mul(five, d3)), d5);
  // r1,2 = d4 - 4 d2 -+ (4 d1 - d3); r3,4 = d4 - d2 -+ (2 d1 - 2 d3)
  const a = f32x4.sub(d4, f32x4.mul(four, d2));
  const b = f32x4.sub(f32x4.mul(four, d1), d3);
  const c = f32x4.sub(d4, d2);
  const q = f32x4.mul(two, f32x4.sub(d1, d3));
  v128.store(d, r0);
  v128.store(d + ds, f32x4.sub(a, b));
  v128.store(d + 2 * ds, f32x4.add(a, b));
  v128.store(d + 3 * ds, f32x4.sub(c, q));
  v128.store(d + 4 * ds, f32x4.add(c, q));
  v128.store(d + 5 * ds, r5);
}

/**
 * Six v128 at `s` (stride `ss` bytes) -> A^T times them, `m` v128 at `d` (stride `ds`): m = 4
 * (rows 1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1) or m = 2 (its first row and
 * 0 1 -1 2 -2 1); m is a constant at every call, so the branches fold.
 */
// @ts-ignore: decorator
@inline function atRows(s: usize, ss: usize, d: usize, ds: usize, m: i32): void {
  const m0 = v128.load(s);
  const m1 = v128.load(s + ss);
  const m2 = v128.load(s + 2 * ss);
  const m3 = v128.load(s + 3 * ss);
  const m4 = v128.load(s + 4 * ss);
  const m5 = v128.load(s + 5 * ss);
  const p12 = f32x4.add(m1, m2);
  const d12 = f32x4.sub(m1, m2);
  const p34 = f32x4.add(m3, m4);
  const d34 = f32x4.sub(m3, m4);
  v128.store(d, f32x4.add(f32x4.add(m0, p12), p34));
  if (m == 4) {
    v128.store(d + ds, f32x4.add(d12, f32x4.mul(f32x4.splat(2), d34)));
    v128.store(d + 2 * ds, f32x4.add(p12, f32x4.mul(f32x4.splat(4), p34)));
    v128.store(d + 3 * ds, f32x4.add(f32x4.add(d12, f32x4.mul(f32x4.splat(8), d34)), m5));
  } else {
    v128.store(d + ds, f32x4.add(f32x4.add(d12, f32x4.mul(f32x4.splat(2), d34)), m5));
  }
}

/**
 * Output transform of channels m..m+7 (those below M) of the block's `count` tiles (their
 * entries at `table`; their products at `products`, [36][width][8]), output tiles of side tm
 * (4 or 2), using 576 bytes at `work` (the gather area, free once V is made): y = A^T M A,
 * + bias, ReLU, stored clipped to H x W. Each tile's 36 products are transformed four channels
 * at once (lane = channel); tm = 4: each output row's four v128 (one per column) are transposed
 * to one row of four pixels per channel and stored (storeRows at the image's right edge or for
 * fewer than 4 channels); tm = 2: each row of two pixels per channel as a 64-bit lane (or by
 * storeRows).
 */
function transformOutput(
  products: usize,
  work: usize,
  table: usize,
  count: i32,
  width: i32,
  dst: usize,
  bias: usize,
  M: i32,
  m: i32,
  images: i32,
  H: i32,
  W: i32,
  relu: bool,
  tm: i32,
): void {
  // work, tm = 4: A^T M (4 x 6 v128) at 0, one output row (4 v128) at 384, its transpose at 448,
  // the bias at 512; tm = 2: A^T M (2 x 6 v128) at 0, the 2 x 2 outputs (y[i][j] at
  // 192 + (i*2 + j)*16), the bias at 512.
  const plane = <usize>images * H * W * 4;
  const eStride = <usize>width * WT_CHANNELS * 4;
  const z = f32x4.splat(0);
  for (let h = 0; h < WT_CHANNELS; h += 4) {
    const c0 = m + h;
    if (c0 >= M) break;
    const lanes = min(4, M - c0);
    v128.store(work + 512, z);
    if (bias != 0) for (let l = 0; l < lanes; l++) store<f32>(work + 512 + <usize>l * 4, load<f32>(bias + <usize>(c0 + l) * 4));
    const bv = v128.load(work + 512);
    for (let j = 0; j < count; j++) {
      const base = products + (<usize>j * WT_CHANNELS + h) * 4;
      const entry = table + <usize>j * 16;
      const oy = load<i32>(entry, 4);
      const ox = load<i32>(entry, 8);
      const at = dst + <usize>c0 * plane + <usize>load<i32>(entry);
      if (tm == 4) {
        // Columns: A^T M, s[i][x] at work + (i*6 + x)*16.
        for (let x = 0; x < 6; x++) atRows(base + <usize>x * eStride, 6 * eStride, work + <usize>x * 16, 96, 4);
        // Rows: (A^T M) A, y[i][0..3] at work + 384, transposed into a row per channel.
        for (let i = 0; i < 4 && oy + i < H; i++) {
          atRows(work + <usize>i * 96, 16, work + 384, 16, 4);
          let y0 = v128.load(work + 384);
          let y1 = v128.load(work + 400);
          let y2 = v128.load(work + 416);
          let y3 = v128.load(work + 432);
          if (bias != 0) {
            y0 = f32x4.add(y0, bv);
            y1 = f32x4.add(y1, bv);
            y2 = f32x4.add(y2, bv);
            y3 = f32x4.add(y3, bv);
          }
          if (relu) {
            y0 = f32x4.pmax(z, y0);
            y1 = f32x4.pmax(z, y1);
            y2 = f32x4.pmax(z, y2);
            y3 = f32x4.pmax(z, y3);
          }
          // Transpose: the row of channel l = lane l of y0..y3.
          const lo01 = v128.shuffle<f32>(y0, y1, 0, 4, 1, 5);
          const hi01 = v128.shuffle<f32>(y0, y1, 2, 6, 3, 7);
          const lo23 = v128.shuffle<f32>(y2, y3, 0, 4, 1, 5);
          const hi23 = v128.shuffle<f32>(y2, y3, 2, 6, 3, 7);
          const r0 = v128.shuffle<f32>(lo01, lo23, 0, 1, 4, 5);
          const r1 = v128.shuffle<f32>(lo01, lo23, 2, 3, 6, 7);
          const r2 = v128.shuffle<f32>(hi01, hi23, 0, 1, 4, 5);
          const r3 = v128.shuffle<f32>(hi01, hi23, 2, 3, 6, 7);
          const out = at + (<usize>(oy + i) * W + ox) * 4;
          if (lanes == 4 && ox + 4 <= W) {
            v128.store(out, r0);
            v128.store(out + plane, r1);
            v128.store(out + 2 * plane, r2);
            v128.store(out + 3 * plane, r3);
            continue;
          }
          v128.store(work + 448, r0);
          v128.store(work + 464, r1);
          v128.store(work + 480, r2);
          v128.store(work + 496, r3);
          storeRows(work + 448, 16, out, plane, lanes, min(4, W - ox));
        }
      } else {
        for (let x = 0; x < 6; x++) atRows(base + <usize>x * eStride, 6 * eStride, work + <usize>x * 16, 96, 2);
        for (let i = 0; i < 2 && oy + i < H; i++) {
          atRows(work + <usize>i * 96, 16, work + 192 + <usize>i * 32, 16, 2);
          let y0 = v128.load(work + 192 + <usize>i * 32);
          let y1 = v128.load(work + 208 + <usize>i * 32);
          if (bias != 0) {
            y0 = f32x4.add(y0, bv);
            y1 = f32x4.add(y1, bv);
          }
          if (relu) {
            y0 = f32x4.pmax(z, y0);
            y1 = f32x4.pmax(z, y1);
          }
          // Channel l's two pixels: 64-bit lane l & 1 of lo (l < 2) or hi.
          const lo = v128.shuffle<f32>(y0, y1, 0, 4, 1, 5);
          const hi = v128.shuffle<f32>(y0, y1, 2, 6, 3, 7);
          const out = at + (<usize>(oy + i) * W + ox) * 4;
          if (lanes == 4 && ox + 2 <= W) {
            v128.store64_lane(out, lo, 0);
            v128.store64_lane(out + plane, lo, 1);
            v128.store64_lane(out + 2 * plane, hi, 0);
            v128.store64_lane(out + 3 * plane, hi, 1);
            continue;
          }
          v128.store(work + 448, lo);
          v128.store(work + 464, hi);
          storeRows(work + 448, 8, out, plane, lanes, min(2, W - ox));
        }
      }
    }
  }
}

/** Stores `n` floats of each of `lanes` rows (row l at from + l * fromStride bytes) at out + l * plane. */
function storeRows(from: usize, fromStride: usize, out: usize, plane: usize, lanes: i32, n: i32): void {
  for (let l = 0; l < lanes; l++) {
    const to = out + <usize>l * plane;
    const row = from + <usize>l * fromStride;
    for (let q = 0; q < n; q++) store<f32>(to + <usize>q * 4, load<f32>(row + <usize>q * 4));
  }
}
