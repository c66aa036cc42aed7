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
// Per call (output channels [m0, m1), tiles [t0, t1)), for each block of up to WT_BLOCK panels
// of WT_TILES = 8 tiles:
//   input transform of all C channels of each panel into V (scratch, [36][C][8] a panel): the
//     6x6 patches gathered four tiles to a v128 (lanes = tiles), zero outside the image
//   for each 4-channel panel of U: for each element e, U_e's panel times every V_e panel of the
//     block (4x8 register tiles over C), then the output transform of those 4 channels x the
//     block's tiles, + bias, ReLU, stored into the channel planes of dst (a concat's channel
//     range when dst points into one)
// Every output element is a function of its own tile's inputs, reduced over c in order
// 0..C-1, whatever range or tile block a caller asks for: bit-identical at any split.
// The products run the GEMM family's inner loop (tileProduct4x8, generated with the register
// tiles by scripts/genTiles.mjs from one template); the layouts and transforms are this file's.

import { tileProduct4x8 } from "./tiles";

/** Output channels per U panel (register tile height: tileProduct4x8's rows). */
const WT_ROWS: i32 = 4;
/** Tiles per V panel (register tile width, two f32x4: tileProduct4x8's columns). */
const WT_TILES: i32 = 8;
/** Elements of a transformed 6x6 tile. */
const WT_E: i32 = 36;
/**
 * Tile panels transformed and multiplied together: each 4-channel U_e panel is loaded once per
 * block and used for all its panels (U is 4x the size of the 3x3 filters and would otherwise
 * stream from memory once per 8 tiles). V of a block: 36 * C * 8 * 4 floats (737 KB at C = 160).
 */
const WT_BLOCK: i32 = 4;
/**
 * Scratch header: the gathered patch (36 v128, 576 bytes), the products of a block ([panel][36][4][8]
 * f32, 4608 bytes a panel), the block's tiles (16 bytes each: image byte offset, first output
 * row, first column); then V, [panel][36][C][8] f32.
 */
const GATHER: usize = 0;
const PRODUCTS: usize = 576;
const PRODUCT_PANEL: usize = 4608;
const TILES: usize = PRODUCTS + PRODUCT_PANEL * WT_BLOCK;
const V_PANEL: usize = TILES + 16 * WT_TILES * WT_BLOCK;

/** Output channels a panel holds: channel ranges given to winogradConv start at multiples of it. */
export function winogradTileRows(): i32 {
  return WT_ROWS;
}

/** Tiles a panel holds: tile ranges given to winogradConv start at multiples of it. */
export function winogradTileBlock(): i32 {
  return WT_TILES;
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
  return <i32>V_PANEL + WT_E * C * WT_TILES * WT_BLOCK * 4;
}

/** Bytes of the transformed filters of an M x C x r x r convolution (winogradFilters' output; the same for r = 3 and 5). */
export function winogradFilterBytes(M: i32, C: i32): i32 {
  return WT_E * ((M + WT_ROWS - 1) / WT_ROWS) * WT_ROWS * C * 4;
}

/**
 * Transforms OIHW r x r filters (M x C x r x r f32 at `src`, r = 3 or 5) into U = G g G^T,
 * computed in f64 and rounded once to f32, laid out as [36][ceil(M/4)][C][4] (element e, channel
 * panel, input channel, 4 output channels); channels past M are 0. `dst` holds
 * winogradFilterBytes(M, C).
 */
export function winogradFilters(src: usize, dst: usize, M: i32, C: i32, r: i32): void {
  assert(winogradOutputTile(r) != 0);
  const panels = (M + WT_ROWS - 1) / WT_ROWS;
  const rowBytes = <usize>r * 4;
  for (let m = 0; m < panels * WT_ROWS; m++) {
    for (let c = 0; c < C; c++) {
      const g = src + <usize>(m * C + c) * r * rowBytes;
      const p = m / WT_ROWS;
      const q = m - p * WT_ROWS;
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
          const out = dst + ((<usize>(e * panels + p) * C + c) * WT_ROWS + q) * 4;
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
 * caller, 16-byte aligned. Ranges: m0 and t0 multiples of 4 and 8; m1 a multiple of 4 or M;
 * t1 a multiple of 8 or the tile count.
 */
export function winogradConv(
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
  assert(m0 % WT_ROWS == 0 && (m1 % WT_ROWS == 0 || m1 == M) && m1 <= M);
  assert(t0 % WT_TILES == 0 && (t1 % WT_TILES == 0 || t1 == tiles) && t1 <= tiles);
  const panels = (M + WT_ROWS - 1) / WT_ROWS;
  const vPanelBytes = <usize>WT_E * C * WT_TILES * 4;
  const table = scratch + TILES;
  for (let t = t0; t < t1; t += WT_TILES * WT_BLOCK) {
    const count = min(WT_TILES * WT_BLOCK, t1 - t);
    const blockPanels = (count + WT_TILES - 1) / WT_TILES;
    for (let j = 0; j < count; j++) {
      const row = (t + j) / tilesX;
      const image = row / tilesY;
      store<i32>(table + <usize>j * 16, image * H * W * 4);
      store<i32>(table + <usize>j * 16, (row - image * tilesY) * tm, 4);
      store<i32>(table + <usize>j * 16, (t + j - row * tilesX) * tm, 8);
    }
    for (let q = 0; q < blockPanels; q++) {
      const n = min(WT_TILES, count - q * WT_TILES);
      const entries = table + <usize>q * WT_TILES * 16;
      transformInput(scratch + V_PANEL + <usize>q * vPanelBytes, scratch + GATHER, entries, src, C, images, H, W, pad, n);
    }
    for (let m = m0; m < m1; m += WT_ROWS) {
      const p = m / WT_ROWS;
      for (let e = 0; e < WT_E; e++) {
        const a = u + (<usize>(e * panels + p) * C) * WT_ROWS * 4;
        const ve = scratch + V_PANEL + <usize>e * C * WT_TILES * 4;
        const out = scratch + PRODUCTS + <usize>e * WT_ROWS * WT_TILES * 4;
        for (let q = 0; q < blockPanels; q++) tileProduct4x8(C, a, ve + <usize>q * vPanelBytes, out + <usize>q * PRODUCT_PANEL);
      }
      const rows = min(WT_ROWS, M - m);
      for (let q = 0; q < blockPanels; q++) {
        const n = min(WT_TILES, count - q * WT_TILES);
        const products = scratch + PRODUCTS + <usize>q * PRODUCT_PANEL;
        for (let g = 0; g < n; g += 4) {
          const entries = table + <usize>(q * WT_TILES + g) * 16;
          const lanes = min(4, n - g);
          transformOutput(products, scratch + GATHER, entries, g, dst, bias, m, rows, images, H, W, lanes, relu, tm);
        }
      }
    }
  }
}

/**
 * V[e][c][j] = (B^T d B)_e of the panel's tile j (from `table`; d the 6x6 input patch whose
 * corner is the tile's first output row and column minus `pad`), channel c (j < 8; tiles past
 * `count` are 0): for each channel, two groups of four tiles gathered into `gather` (36 v128,
 * lane = tile) and transformed.
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
): void {
  const plane = <usize>H * W * 4;
  for (let c = 0; c < C; c++) {
    const channel = src + <usize>c * images * plane;
    for (let g = 0; g < WT_TILES; g += 4) {
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
      // Rows: (B^T d) B, into V[e = i*6 + j][c][g..g+3].
      const out = v + (<usize>c * WT_TILES + g) * 4;
      const eStride = <usize>C * WT_TILES * 4;
      for (let i = 0; i < 6; i++) bt6(gather + <usize>i * 96, 16, out + <usize>i * 6 * eStride, eStride);
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
 * Output transform of `rows` channels (m..) x `count` tiles (at most 4: lanes g..g+3 of the
 * products [36][4][8] of one panel, their entries at `table`), output tiles of side tm (4 or 2),
 * using 576 bytes at `work` (the gather area, free once V is made): y = A^T M A, + bias, ReLU,
 * stored clipped to H x W. The 36 products of a channel are transformed four tiles at once
 * (lane = tile); tm = 4: each tile's 4x4 block is then transposed to rows and stored; tm = 2:
 * each tile's two rows of two are stored.
 */
function transformOutput(
  products: usize,
  work: usize,
  table: usize,
  g: i32,
  dst: usize,
  bias: usize,
  m: i32,
  rows: i32,
  images: i32,
  H: i32,
  W: i32,
  count: i32,
  relu: bool,
  tm: i32,
): void {
  // work, tm = 4: A^T M (4 x 6 v128) at 0, one output row (4 v128) at 384, its transpose at 448;
  // tm = 2: A^T M (2 x 6 v128) at 0, the 2 x 2 outputs (y[i][j] at 192 + (i*2 + j)*16).
  const plane = <usize>images * H * W * 4;
  const eStride = <usize>WT_ROWS * WT_TILES * 4;
  const z = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const base = products + (<usize>r * WT_TILES + g) * 4;
    const bv = bias != 0 ? v128.load32_splat(bias + <usize>(m + r) * 4) : z;
    if (tm == 4) {
      // Columns: A^T M, s[i][x] at work + (i*6 + x)*16.
      for (let x = 0; x < 6; x++) atRows(base + <usize>x * eStride, 6 * eStride, work + <usize>x * 16, 96, 4);
      // Rows: (A^T M) A, y[i][j] at work + 384 + (i*4 + j)*16, transposed per row into tiles.
      for (let i = 0; i < 4; i++) {
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
        // Transpose: row of tile l = lane l of y0..y3.
        const lo01 = v128.shuffle<f32>(y0, y1, 0, 4, 1, 5);
        const hi01 = v128.shuffle<f32>(y0, y1, 2, 6, 3, 7);
        const lo23 = v128.shuffle<f32>(y2, y3, 0, 4, 1, 5);
        const hi23 = v128.shuffle<f32>(y2, y3, 2, 6, 3, 7);
        const rowsOf = work + 448;
        v128.store(rowsOf, v128.shuffle<f32>(lo01, lo23, 0, 1, 4, 5));
        v128.store(rowsOf, v128.shuffle<f32>(lo01, lo23, 2, 3, 6, 7), 16);
        v128.store(rowsOf, v128.shuffle<f32>(hi01, hi23, 0, 1, 4, 5), 32);
        v128.store(rowsOf, v128.shuffle<f32>(hi01, hi23, 2, 3, 6, 7), 48);
        for (let l = 0; l < count; l++) {
          const entry = table + <usize>l * 16;
          const oy = load<i32>(entry, 4) + i;
          if (oy >= H) continue;
          const ox = load<i32>(entry, 8);
          const out = dst + <usize>(m + r) * plane + <usize>load<i32>(entry) + (<usize>oy * W + ox) * 4;
          const from = rowsOf + <usize>l * 16;
          if (ox + 4 <= W) {
            v128.store(out, v128.load(from));
          } else {
            for (let j = 0; j < W - ox; j++) store<f32>(out + <usize>j * 4, load<f32>(from + <usize>j * 4));
          }
        }
      }
    } else {
      for (let x = 0; x < 6; x++) atRows(base + <usize>x * eStride, 6 * eStride, work + <usize>x * 16, 96, 2);
      atRows(work, 16, work + 192, 16, 2);
      atRows(work + 96, 16, work + 224, 16, 2);
      for (let q = 0; q < 4; q++) {
        let y = v128.load(work + 192 + <usize>q * 16);
        if (bias != 0) y = f32x4.add(y, bv);
        if (relu) y = f32x4.pmax(z, y);
        v128.store(work + 192 + <usize>q * 16, y);
      }
      for (let l = 0; l < count; l++) {
        const entry = table + <usize>l * 16;
        const oy = load<i32>(entry, 4);
        const ox = load<i32>(entry, 8);
        const at = dst + <usize>(m + r) * plane + <usize>load<i32>(entry);
        for (let i = 0; i < 2 && oy + i < H; i++) {
          const out = at + (<usize>(oy + i) * W + ox) * 4;
          const from = work + 192 + <usize>(i * 2) * 16 + <usize>l * 4;
          store<f32>(out, load<f32>(from));
          if (ox + 1 < W) store<f32>(out + 4, load<f32>(from + 16));
        }
      }
    }
  }
}
