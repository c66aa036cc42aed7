// THE tolerance policy: how far a float32 kernel result may lie from the float64 reference
// (src/host/reference.ts). Every kernel and network test takes its tolerances from here; a
// tolerance is never widened to make a test pass.
//
// Model: u = 2^-24 is the unit roundoff of float32 (round to nearest: fl(a op b) =
// (a op b)(1 + d), |d| <= u); gamma(n) = n*u / (1 - n*u) (Higham, "Accuracy and Stability
// of Numerical Algorithms", 2nd ed., sec. 3.1). Test inputs are float32 values, so the
// float64 reference sees exactly the kernel's inputs; its own error (same formulas with
// u64 = 2^-53) is added where it is not negligible by construction.
//
// Dot products (convolution via GEMM, fully connected). y = bias + sum_{i<K} a_i*b_i in
// float32, by any summation order (sequential per lane, the GEMM's K blocks added into C,
// FC's four-lane partial sums), multiply-then-add or fused (relaxed_madd: fewer roundings,
// the same bound). Each product is rounded at most once and then passes through at most
// K further additions (the bias, or an absent bias's zero, is one more addend, and K
// blocks cost one addition each, never more than K + 1 roundings in all), so
//     |y_f32 - y| <= gamma(K + 1) * S,   S = |bias| + sum_i |a_i*b_i|,
// computed in float64 from the reference inputs (the reference convolution of |x| with
// |w| and |bias|). Plus u*|y| for the rounding of the result itself (slack for a kernel
// that stores through one more rounding), plus gamma64(K + 1) * S for the reference.
// ReLU is 1-Lipschitz, so the bound carries through it unchanged.
//   This is a worst-case bound, about K*u*S; random data typically errs near sqrt(K)*u*S.
// A dropped, duplicated or misplaced term errs by about S/K, far above it for every K in
// GoogLeNet (K <= 1728: bound ~1e-4 * S, one term ~6e-4 * S).
//
// Max pooling: a comparison only, no arithmetic: exact (0).
//
// Average pooling: a sum of at most k*k values (gamma(k*k - 1) * sum|x|), divided by an
// exact integer count (one more rounding, u*|y|):
//     |y_f32 - y| <= k*k * u * sum|x| / count + u*|y|.
//
// LRN, relative. With n <= size channels in the window:
//   sum of n squares, all >= 0 ............................ relative gamma(n)
//   alpha/size (alpha rounded to f32, then divided) ....... 2u
//   times the sum, plus k (k > 0, all terms >= 0) ......... 2u
//   so s = k + alpha/size * sum carries relative error ds <= gamma(size + 4), and s^beta
//   carries beta*ds. The chain after s: beta = 0.75 is sqrt(s) * sqrt(sqrt(s)) (each
//   sqrt correctly rounded: 1u + 1.5u, the product 1u: 3.5u), other betas use powf
//   (musl: under 1 ulp = 2u); then x / d (1u). Both chains stay under 4.5u; we allow
//   LRN_CHAIN_U = 6 units (the 4.5 plus second-order terms and slack for a powf a little
//   worse than musl's). So
//     |y_f32 - y| <= (beta * gamma(size + 4) + 6u) * |y|   (+ 16 u64 |y| for the reference's pow).
//   beta and k must be f32-representable (they are: 0.75, 0.5, 1, 2); alpha need not be.
//
// Softmax, relative. The kernel subtracts the max in float32 (z_i = x_i - m, rounded:
// exp's argument moves by u|z_i|, so exp(z_i) moves by expm1(u|z_i|)), sums and divides in
// float64 and rounds the quotient to f32 (u). The sum moves by at most expm1(u*max|z|):
//     |y_f32 - y| <= (expm1(u|z_i|) + expm1(u*max_j|z_j|) + 2u + 2n*u64) * y + 2^-149,
// the last term for quotients that round to float32 subnormals (grid 2^-149).

import * as assert from "uvu/assert";
import { nodeInputs, type Graph, type Shape } from "../../src/host/ir/graph.js";
import { convWindow, poolWindow } from "../../src/host/ir/window.js";

/** Unit roundoff of float32. */
export const U32 = 2 ** -24;
/** Unit roundoff of float64 (the reference). */
export const U64 = 2 ** -53;
/** Units of roundoff allowed for LRN's chain after the sum of squares (see the derivation above). */
export const LRN_CHAIN_U = 6;
/** The smallest positive float32 subnormal. */
export const F32_MIN_SUBNORMAL = 2 ** -149;

/** gamma(n) = n*u / (1 - n*u): the relative error bound of n roundings. */
export function gamma(n: number, u = U32): number {
  if (n * u >= 1) throw new Error(`gamma(${n}) is undefined for u = ${u}: n*u >= 1`);
  return (n * u) / (1 - n * u);
}

/**
 * Absolute tolerance of a float32 dot product of length K plus a bias: sumAbsTerms is
 * |bias| + sum |a_i*b_i| (computed in f64), result the reference value (defaults to the bound).
 */
export function dotTolerance(K: number, sumAbsTerms: number, result = sumAbsTerms): number {
  return (gamma(K + 1) + gamma(K + 1, U64)) * sumAbsTerms + U32 * Math.abs(result);
}

/** Max pooling: exact. */
export const MAX_POOL_TOLERANCE = 0;

/** Average pooling of a kernel x kernel window: meanAbs = sum|x| / count (the reference average of |x|). */
export function avgPoolTolerance(kernel: number, meanAbs: number, result: number): number {
  return kernel * kernel * U32 * meanAbs + U32 * Math.abs(result);
}

/** LRN across channels with a window of `size` channels and exponent `beta`, relative to the reference value. */
export function lrnTolerance(size: number, beta: number, result: number): number {
  return (beta * gamma(size + 4) + LRN_CHAIN_U * U32 + 16 * U64) * Math.abs(result);
}

/**
 * Softmax output i of n: z = x_i - max (|z| the distance to the max logit), zMax the largest
 * such distance over the input, result the reference probability.
 */
export function softmaxTolerance(n: number, z: number, zMax: number, result: number): number {
  const rel = Math.expm1(U32 * Math.abs(z)) + Math.expm1(U32 * Math.abs(zMax)) + 2 * U32 + 2 * n * U64;
  return rel * Math.abs(result) + F32_MIN_SUBNORMAL;
}

/** Softmax: how far the f32 outputs' sum (taken in f64) may lie from 1: the per-element tolerances add up. */
export function softmaxSumTolerance(elementTolerances: Iterable<number>): number {
  let s = 0,
    n = 0;
  for (const t of elementTolerances) {
    s += t;
    n++;
  }
  return s + 2 * n * U64;
}

/** What assertClose measured. */
export interface CloseReport {
  checked: number;
  /** Largest |got - want| / tolerance (0 when every element is exact). */
  worstRatio: number;
}

/**
 * Asserts |got[i] - want[i]| <= tol(i) for every i (NaN never passes). On failure the message
 * names the context (seed, shape), how many elements failed, and the worst one: index (and
 * `where(i)`, e.g. "c 3 y 0 x 7"), got, want, difference and tolerance.
 */
export function assertClose(
  got: Float32Array,
  want: Float64Array,
  tol: (i: number) => number,
  context: string,
  where?: (i: number) => string,
): CloseReport {
  if (got.length !== want.length) {
    throw new assert.Assertion({
      message: `${context}: got ${got.length} elements, want ${want.length}`,
      operator: "assertClose",
      expects: want.length,
      actual: got.length,
    });
  }
  let bad = 0,
    worst = -1,
    worstRatio = 0,
    firstBad = -1;
  for (let i = 0; i < got.length; i++) {
    const t = tol(i);
    const diff = Math.abs(got[i] - want[i]);
    const ok = diff <= t || got[i] === want[i]; // equal infinities pass
    const ratio = ok ? (t > 0 ? diff / t : 0) : Number.isNaN(diff) ? Infinity : t > 0 ? diff / t : Infinity;
    if (!ok) {
      bad++;
      if (firstBad < 0) firstBad = i;
    }
    if (ratio > worstRatio || (!ok && worst < 0)) {
      worstRatio = ratio;
      worst = i;
    }
  }
  if (bad > 0) {
    const at = (i: number): string =>
      `[${i}${where ? ` = ${where(i)}` : ""}] got ${got[i]}, want ${want[i]}, |diff| ${Math.abs(got[i] - want[i]).toExponential(3)}, tolerance ${tol(i).toExponential(3)}`;
    const message = `${context}: ${bad} of ${got.length} elements out of tolerance; worst ${at(worst)}; first ${at(firstBad)}`;
    throw new assert.Assertion({ message, operator: "assertClose", expects: want[worst], actual: got[worst] });
  }
  return { checked: got.length, worstRatio };
}

// Winograd F(4x4, 3x3) and F(2x2, 5x5) (fast mode, assembly/winograd.ts). The kernel computes,
// per 6x6 input tile d_c of channel c and r x r filter g_c (r = 3 or 5, output tile m = 7 - r),
//     y = A^T [ sum_c U_c (.) V_c ] A + bias,   U_c = G g_c G^T,   V_c = B^T d_c B
// (matrices below: both use the points 0, +-1, +-2, infinity, so B^T is the same 6x6 matrix;
// G is 6 x r, A^T is m x 6). Exactly, this equals the direct convolution; in float32 each stage
// rounds, and the transforms' coefficients (up to 5 in B, 8 in A for m = 4, 2 for m = 2) scale
// those roundings. Write |X| for the elementwise absolute value. Stage by stage:
//   U: computed in float64 (each row of G applied by Horner's rule in the exact powers of a, then
//      one division by N_i: at most 2r roundings a pass, two passes) and rounded once to f32:
//      |U^ - U| <= u|U| + gamma64(4r)|G||g||G^T| <= (u + gamma64(20)) |G||g||G^T|.
//   V: two passes of B^T (columns, then rows); each output of a pass is a sum of at most four
//      terms with coefficients 1, 2, 4, 5, and each term passes through at most 3 roundings
//      (5*d rounded, then two additions; 2*d and 4*d are exact), so a pass errs by at most
//      gamma(3) |B^T||x|; two passes (the second on the first's rounded output):
//      |V^ - V| <= ((1 + gamma(3))^2 - 1) |B^T||d||B| <= gamma(6) |B^T||d||B|.
//   M_e = sum_c U^_e,c V^_e,c over the C input channels, sequential per lane, each product
//      rounded at most once (fused or not): gamma(C) sum_c |U^||V^|; with the perturbations of
//      U^ (1 + u + gamma64(20) <= 1 + gamma(2)) and V^ (1 + gamma(6)) folded in (Higham's
//      (1+gamma(a))(1+gamma(b)) <= 1+gamma(a+b)):
//      |M^_e - M_e| <= gamma(C + 8) Mabs_e,   Mabs_e = sum_c (|G||g_c||G^T|)_e (|B^T||d_c||B|)_e.
//   y: two passes of A^T (coefficients 1, 2, 4, 8: exact multiplications; m = 4 and m = 2 both
//      add at most 3 roundings to each term per pass: (m1 + m2) + m0 + (m3 + m4), and
//      (m1 - m2) + k(m3 - m4) + m5): gamma(6) |A^T||M^||A|, and |M^| <= (1 + gamma(C + 8)) Mabs.
//   bias: one more addition (|bias| one more addend), ReLU 1-Lipschitz.
// In all (gamma(a) + gamma(b) + gamma(a)gamma(b) <= gamma(a + b)):
//     |y_f32 - y| <= gamma(C + 15) * (S_W + |bias|) + u|y|,   S_W = |A^T| Mabs |A|,
// plus the float64 direct reference's own gamma64(r*r*C + 1) * S (S = |bias| + sum|w||x|, as
// dotTolerance). S_W is computed in float64 by winogradMagnitude: the same algorithm on |g|,
// |d| with |G|, |B^T|, |A^T|. Against the direct product's S (one term per tap), S_W has the
// transforms' growth: for all-ones g and d, (|A^T| (|G| 1 |G^T| (.) |B^T| 1 |B|) |A|) / (r*r),
// winogradGrowth(r): for F(4x4, 3x3) from 28 (output (0,0) of a tile) to 256 (output (3,3));
// for F(2x2, 5x5) up to (173/15)^2 = 133 (output (1,1); test/kernelsWinograd.test.ts derives both
// by hand). So a Winograd output carries up to 256x (133x) the worst-case rounding of a direct one (Lavin & Gray
// 2016; Barabasz et al. 2020 for the same analysis of the points 0, +-1, +-2, infinity).
//   What the bound can and cannot catch: a wrong transform coefficient, element or layout errs
//   by a sizeable fraction of S, far above it. A single dropped or misplaced tap errs by about
//   one term, S/(r*r*C): above gamma(C + 15) * growth * S only for C up to about 12 (the
//   edge-shape tests use C <= 9 for this), not for GoogLeNet's C = 16..256, whose tests with the
//   real shapes check layout, concat offsets and ranges at that looser scale. Measured S_W/S on
//   random GoogLeNet-like data: printed by test/kernelsWinograd.test.ts per layer.

/** B^T of both transforms (6 x 6): interpolation at 0, +-1, +-2, infinity. */
export const WINOGRAD_BT: readonly (readonly number[])[] = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
];
const POINTS = [0, 1, -1, 2, -2];
/** N_i = prod over j != i of (a_i - a_j). */
const DENOMINATORS = POINTS.map((a, i) => POINTS.reduce((p, b, j) => (j === i ? p : p * (a - b)), 1));

/** G for filters of side r (6 x r): G[i][k] = a_i^k / N_i, and the row of infinity [0 .. 0 1]. */
export function winogradG(r: number): number[][] {
  return [
    ...POINTS.map((a, i) => Array.from({ length: r }, (_, k) => a ** k / DENOMINATORS[i])),
    Array.from({ length: r }, (_, k) => (k === r - 1 ? 1 : 0)),
  ];
}

/** A^T for output tiles of side m (m x 6): A^T[i][j] = a_j^i, and the column of infinity (1 in the last row). */
export function winogradAT(m: number): number[][] {
  return Array.from({ length: m }, (_, i) => [...POINTS.map((a) => a ** i), i === m - 1 ? 1 : 0]);
}

const absMatrix = (m: readonly (readonly number[])[]): number[][] => m.map((r) => r.map(Math.abs));

/** |P| X |Q|^T for a square-ish X given as rows: (rows(P) x cols(X)) then (.. x rows(Q)). */
function sandwich(p: number[][], x: number[][], q: number[][]): number[][] {
  const px = p.map((r) => x[0].map((_, j) => r.reduce((s, v, k) => s + v * x[k][j], 0)));
  return px.map((r) => q.map((qr) => r.reduce((s, v, k) => s + v * qr[k], 0)));
}

/**
 * S_W of the derivation above for every output of an r x r stride-1 convolution with padding
 * (r-1)/2: input C x H x W (CHW), weights OIHW (M x C x r x r); returns M x H x W (float64).
 * Tiles are m x m from the origin, as the kernel's; inputs outside the image are zero.
 */
export function winogradMagnitude(
  input: Float32Array,
  shape: Shape,
  weight: Float32Array,
  M: number,
  r: number,
): Float64Array {
  const { c: C, h: H, w: W } = shape;
  const m = 7 - r,
    pad = (r - 1) / 2;
  const bt = absMatrix(WINOGRAD_BT),
    g = absMatrix(winogradG(r)),
    at = absMatrix(winogradAT(m));
  const taps = Array.from({ length: r }, (_, i) => i);
  const six = [0, 1, 2, 3, 4, 5];
  // |G||g||G^T| per (m, c): 36 values each.
  const uAbs = new Float64Array(M * C * 36);
  for (let o = 0; o < M; o++) {
    for (let c = 0; c < C; c++) {
      const f = taps.map((ky) => taps.map((kx) => Math.abs(weight[((o * C + c) * r + ky) * r + kx])));
      uAbs.set(sandwich(g, f, g).flat(), (o * C + c) * 36);
    }
  }
  const out = new Float64Array(M * H * W);
  const vAbs = new Float64Array(C * 36);
  const mAbs = new Float64Array(36);
  for (let ty = 0; ty * m < H; ty++) {
    for (let tx = 0; tx * m < W; tx++) {
      for (let c = 0; c < C; c++) {
        const d = six.map((y) =>
          six.map((x) => {
            const iy = ty * m - pad + y,
              ix = tx * m - pad + x;
            return iy >= 0 && iy < H && ix >= 0 && ix < W ? Math.abs(input[(c * H + iy) * W + ix]) : 0;
          }),
        );
        vAbs.set(sandwich(bt, d, bt).flat(), c * 36);
      }
      for (let o = 0; o < M; o++) {
        mAbs.fill(0);
        for (let c = 0; c < C; c++) {
          const u = (o * C + c) * 36;
          for (let e = 0; e < 36; e++) mAbs[e] += uAbs[u + e] * vAbs[c * 36 + e];
        }
        const rows = six.map((i) => Array.from(mAbs.subarray(i * 6, i * 6 + 6)));
        const y = sandwich(at, rows, at);
        for (let i = 0; i < m && ty * m + i < H; i++) {
          for (let j = 0; j < m && tx * m + j < W; j++) out[(o * H + ty * m + i) * W + tx * m + j] = y[i][j];
        }
      }
    }
  }
  return out;
}

/**
 * Tolerance of one Winograd output: C input channels, filter side r, magnitude S_W
 * (winogradMagnitude), |bias|, the direct product's S (|bias| + sum|w||x|, for the float64
 * reference's own error) and the reference value.
 */
export function winogradTolerance(
  C: number,
  r: number,
  magnitude: number,
  absBias: number,
  directS: number,
  result: number,
): number {
  return gamma(C + 15) * (magnitude + absBias) + gamma(r * r * C + 1, U64) * directS + U32 * Math.abs(result);
}

/** The transforms' growth for all-ones r x r filters and inputs: max over a tile's outputs of S_W / (r*r) (see above). */
export function winogradGrowth(r: number): number {
  const ones = (rows: number, cols: number): number[][] =>
    Array.from({ length: rows }, () => new Array<number>(cols).fill(1));
  const g = absMatrix(winogradG(r)),
    bt = absMatrix(WINOGRAD_BT),
    at = absMatrix(winogradAT(7 - r));
  const u = sandwich(g, ones(r, r), g),
    v = sandwich(bt, ones(6, 6), bt);
  const y = sandwich(
    at,
    u.map((row, i) => row.map((x, j) => x * v[i][j])),
    at,
  );
  return Math.max(...y.flat()) / (r * r);
}

// Whole network: comparing two float32 forward passes (ours and Caffe's).
//
// Each float32 pass differs from the exact result by accumulated rounding. A layer that
// reduces over K terms adds, for random-signed roundings, an error of about sqrt(K) * u
// relative to its output's scale (Higham sec. 3.1, probabilistic estimate; the worst-case
// K * u almost never occurs for long sums of mixed-sign terms); errors of successive layers
// on a path add in quadrature under the same model, so after layers with reduction
// lengths K_1..K_L the relative error is about u * sqrt(K_1 + ... + K_L). ReLU, max
// pooling and concat are 1-Lipschitz; LRN and average pooling contribute a few u. We take
// 3 standard deviations for each pass and add both passes (ours and Caffe's):
//     |ours - caffe| <= 2 * 3 * u * sqrt(D) * max|blob|,   u = 2^-24,
// where D is the blob's reduction depth: the largest sum of K over any path from the input
// (see reductionDepths).
//
// Caffe's LRN adds one more term. Its CPU LRN keeps a running sum of alpha/size * x^2 over
// the channels (add the entering channel, subtract the leaving one), so the scale of
// channel c carries the rounding of every earlier step: about sqrt(2C) * u * T absolute,
// T = alpha/size * max(x)^2 the largest term, relative to a scale >= k; y = x * scale^-beta
// turns that into a relative error of beta * sqrt(2C) * u * T / k. (Our kernel and the
// float64 reference sum each 5-channel window afresh; on the Caffe blobs the difference
// shows up exactly at pool1/norm1 and conv2/norm2.) That relative error is carried to
// every later blob, taken 3 sigma:
//     + 3 * sum over LRNs upstream of (beta * sqrt(2C) * u * T / k) * max|blob|.
// A wrong weight, tap, pad or channel offset errs by a sizeable fraction of max|blob|,
// orders of magnitude above either term.

/**
 * For each tensor: the largest sum of reduction lengths (conv: Cin*kh*kw, FC: inputs, pools: the
 * window's taps, LRN: size) over paths from the input. With `foldedWeights` (weights folded at
 * import from a BatchNormalization or per-channel scale: one more rounding per product term, as
 * random as the accumulation's) each convolution and FC counts twice; an input preamble counts 2.
 */
export function reductionDepths(graph: Graph, shapes: Map<string, Shape>, foldedWeights = false): Map<string, number> {
  const depth = new Map<string, number>([[graph.input, graph.inputTransform ? 2 : 0]]);
  const folded = foldedWeights ? 2 : 1;
  for (const node of graph.nodes) {
    const before = Math.max(...nodeInputs(node).map((t) => depth.get(t) ?? 0));
    let k = 0;
    switch (node.op) {
      case "conv": {
        const [kh, kw] = convWindow(node).kernel;
        k = folded * shapes.get(node.input)!.c * kh * kw;
        break;
      }
      case "fc": {
        const s = shapes.get(node.input)!;
        k = folded * s.c * s.h * s.w;
        break;
      }
      case "avgPool":
      case "maxPool": {
        const [kh, kw] = poolWindow(node, shapes.get(node.input)!).kernel;
        k = kh * kw;
        break;
      }
      case "lrn":
        k = node.size;
        break;
      case "softmax":
        k = shapes.get(node.input)!.c;
        break;
      case "concat":
        k = 0;
        break;
    }
    depth.set(node.output, before + k);
  }
  return depth;
}

/**
 * Relative error Caffe's running-sum LRN carries into each tensor: for every LRN node,
 * beta * sqrt(2C) * u * (alpha/size * maxInput^2) / k, summed along the path; maxInput is
 * the largest |x| of the LRN's input (from Caffe's blob of it).
 */
export function caffeLrnErrors(
  graph: Graph,
  shapes: Map<string, Shape>,
  maxInput: (tensor: string) => number,
): Map<string, number> {
  const err = new Map<string, number>([[graph.input, 0]]);
  for (const node of graph.nodes) {
    let e = Math.max(...nodeInputs(node).map((t) => err.get(t) ?? 0));
    if (node.op === "lrn") {
      const x = maxInput(node.input);
      e += (node.beta * Math.sqrt(2 * shapes.get(node.input)!.c) * U32 * (node.alpha / node.size) * x * x) / node.k;
    }
    err.set(node.output, e);
  }
  return err;
}

/**
 * Largest allowed |ours - caffe| for a blob of reduction depth `depth`, carried Caffe LRN
 * relative error `lrnError`, largest magnitude `maxAbs` and, in fast mode, the relative error
 * `winogradError` of the Winograd layers upstream (winogradErrors).
 */
export function networkTolerance(depth: number, lrnError: number, maxAbs: number, winogradError = 0): number {
  return (2 * 3 * U32 * Math.sqrt(depth) + 3 * lrnError + winogradError) * maxAbs;
}

// Fast mode against Caffe (strict on Caffe's side). Under the same probabilistic model, a
// Winograd layer with C input channels and filter side r makes about sqrt(C + 15) roundings per
// output (the derivation of winogradTolerance), each scaled by the transforms' growth, at most
// winogradGrowth(r) (256 for 3x3, 133 for 5x5) times what the same rounding costs a direct
// convolution; taken at 3 standard deviations, relative to the blob's scale:
//     + 3 * u * sqrt(C + 15) * winogradGrowth(r)   per Winograd layer on the path (added along
// the path, not in quadrature: the growth is a worst case and the sum is the larger of the two).
// For 3x3 layers with C = 64..192 that is 5.8e-4..1.1e-3 per layer, for 5x5 layers with
// C = 16..48 1.3e-4..1.9e-4; a wrong tap, weight or channel offset still errs by a sizeable
// fraction of max|blob|.

/** For each tensor: the relative error fast mode's Winograd layers (`winograd`, by name) carry into it, summed along the path. */
export function winogradErrors(
  graph: Graph,
  shapes: Map<string, Shape>,
  winograd: readonly string[],
): Map<string, number> {
  const err = new Map<string, number>([[graph.input, 0]]);
  for (const node of graph.nodes) {
    let e = Math.max(...nodeInputs(node).map((t) => err.get(t) ?? 0));
    if (node.op === "conv" && winograd.includes(node.name))
      e += 3 * U32 * Math.sqrt(shapes.get(node.input)!.c + 15) * winogradGrowth(node.kernel);
    err.set(node.output, e);
  }
  return err;
}

// ONNX conformance (test/support/conformance.ts): our f32 output against an ONNX backend node
// test's expected output. That output is a float32 value the ONNX reference (numpy) computed
// from the same float32 inputs, in float32 in its own summation order or in float64 rounded
// once at the end. The bounds above hold for any summation order and for fused or separate
// multiply-adds, so the expected value lies within the same bound of the exact result as ours:
//     |ours - expected| <= 2 * bound,
// with S, sum|x| and the like computed in float64 from the float32 inputs (their own error,
// ~1e-16 relative, is negligible next to u). Max pooling, concat and dropout are exact on both
// sides (0). Two ops need more than twice our bound:
//   Gemm folds alpha into the weights and beta into the bias at load (one f32 rounding each),
//   so a product term passes through at most K + 2 roundings (alpha*b, times a, K additions)
//   and the bias through K + 1; numpy's alpha * (A B) + beta * C is K + 2 as well (product,
//   K - 1 additions, times alpha, plus beta*C). Each side: gamma(K + 2) * S + u|y|.
//   Softmax's expected side is numpy float32 throughout: z = x - max rounded (exp moves by
//   expm1(u|z|)), np.exp in float32 (numpy documents at most 2.52 ulp for its SIMD float32
//   exp; we take EXP_F32_ULPS = 3 ulp, at most 2u each, relative), a float32 sum of n
//   positive terms (gamma(n - 1), plus the terms' own error, at most expm1(u zMax) + 6u) and
//   one division (u); so relative
//     expm1(u|z_i|) + expm1(u zMax) + 2 * 2 * EXP_F32_ULPS * u + gamma(n - 1) + u,
//   added to our softmaxTolerance.

/** ulps of numpy's float32 exp (its documented 2.52, rounded up), for the expected side of softmax. */
export const EXP_F32_ULPS = 3;

/** Conformance tolerance of a dot product whose terms pass through at most `roundings` roundings (each side). */
export function conformanceDotTolerance(roundings: number, sumAbsTerms: number, result: number): number {
  return 2 * (gamma(roundings) * sumAbsTerms + U32 * Math.abs(result));
}

/** Conformance tolerance of average pooling over `taps` taps: meanAbs = sum|x| / divisor. */
export function conformanceAvgPoolTolerance(taps: number, meanAbs: number, result: number): number {
  return 2 * (taps * U32 * meanAbs + U32 * Math.abs(result));
}

/** Conformance tolerance of LRN (window `size`, exponent `beta`), relative to the expected value. */
export function conformanceLrnTolerance(size: number, beta: number, result: number): number {
  return 2 * lrnTolerance(size, beta, result);
}

/** Conformance tolerance of softmax output i of n (z: its distance to the max, zMax the largest). */
export function conformanceSoftmaxTolerance(n: number, z: number, zMax: number, result: number): number {
  const numpy =
    Math.expm1(U32 * Math.abs(z)) +
    Math.expm1(U32 * Math.abs(zMax)) +
    4 * EXP_F32_ULPS * U32 +
    (n > 1 ? gamma(n - 1) : 0) +
    U32;
  return softmaxTolerance(n, z, zMax, result) + numpy * Math.abs(result);
}

/**
 * Conformance tolerance of a per-channel affine map x * scale + shift (a BatchNormalization, Mul or
 * Add of the input, run as the graph's preamble): ours rounds once (float64 map); the test's
 * float32 formula (x - mean) / sqrt(var + eps) * gamma + beta rounds at most 6 times, each
 * relative to terms bounded by sumAbsTerms = |x * scale| + |shift|.
 */
export function conformanceAffineTolerance(sumAbsTerms: number, result: number): number {
  return 2 * (gamma(6) * sumAbsTerms + U32 * Math.abs(result));
}
