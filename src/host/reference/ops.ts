// Float64 reference implementations of every op, written from the op definitions (Caffe
// semantics), not from the wasm kernels. They serve as the tests' independent reference and
// as a switch that runs the whole network in float64 to bisect numeric differences.
// One image, CHW layout; inputs f32 or f64, outputs f64. Slow on purpose: plain loops.

import { ArgumentError } from "../errors.js";
import type { PoolNode, Shape, Window2d } from "../ir/graph.js";
import { convAxisSize, poolAxisSize } from "../ir/window.js";

/** Any float array an op accepts as input. */
export type FloatArray = Float32Array | Float64Array;

/** An op's output: the data (CHW, f64) and its shape. */
export interface RefResult {
  data: Float64Array;
  shape: Shape;
}

function checkLength(op: string, name: string, array: FloatArray, want: number): void {
  if (array.length !== want) throw new ArgumentError(op, name, `${want} elements`, `${array.length}`);
}

function checkShape(op: string, shape: Shape): number {
  for (const d of [shape.c, shape.h, shape.w]) {
    if (!Number.isInteger(d) || d < 1)
      throw new ArgumentError(op, "shape", "positive integer dimensions", `${shape.c}x${shape.h}x${shape.w}`);
  }
  return shape.c * shape.h * shape.w;
}

function checkWindow(op: string, kernelH: number, kernelW: number, stride: number, pad: number): void {
  const ok =
    [kernelH, kernelW, stride].every((v) => Number.isInteger(v) && v >= 1) && Number.isInteger(pad) && pad >= 0;
  if (!ok)
    throw new ArgumentError(
      op,
      "window",
      "kernel >= 1, stride >= 1, pad >= 0 (integers)",
      `kernel ${kernelH}x${kernelW}, stride ${stride}, pad ${pad}`,
    );
}

/**
 * Convolution: y[o][oy][ox] = bias[o] + sum_{c,ky,kx} w[o][c][ky][kx] * x[c][oy*stride-pad+ky][ox*stride-pad+kx]
 * (taps outside the image are zero), then max(y, 0) when `relu`. Weights OIHW; output size floor-mode (convOutSize).
 */
export function convRef(
  input: FloatArray,
  inShape: Shape,
  weight: FloatArray,
  bias: FloatArray | undefined,
  outChannels: number,
  kernelH: number,
  kernelW: number,
  stride: number,
  pad: number,
  relu: boolean,
): RefResult {
  checkWindow("convRef", kernelH, kernelW, stride, pad);
  const window: Window2d = { kernel: [kernelH, kernelW], stride: [stride, stride], pads: [pad, pad, pad, pad] };
  return convWindowRef(input, inShape, weight, bias, outChannels, window, relu);
}

/**
 * convRef with a per-axis window: tap (ky, kx) of output (oy, ox) reads input
 * (oy*strideH - top + ky, ox*strideW - left + kx); output size floor((size + begin + end - k) / stride) + 1.
 */
export function convWindowRef(
  input: FloatArray,
  inShape: Shape,
  weight: FloatArray,
  bias: FloatArray | undefined,
  outChannels: number,
  window: Window2d,
  relu: boolean,
): RefResult {
  const op = "convRef";
  checkLength(op, "input", input, checkShape(op, inShape));
  checkWindow2d(op, window);
  const { c: C, h: H, w: W } = inShape;
  const [kernelH, kernelW] = window.kernel;
  const [strideH, strideW] = window.stride;
  const [top, left, bottom, right] = window.pads;
  checkLength(op, "weight", weight, outChannels * C * kernelH * kernelW);
  if (bias !== undefined) checkLength(op, "bias", bias, outChannels);
  const outH = convAxisSize(H, kernelH, strideH, top, bottom);
  const outW = convAxisSize(W, kernelW, strideW, left, right);
  if (outH < 1 || outW < 1)
    throw new ArgumentError(
      op,
      "inShape",
      `an input of at least ${kernelH}x${kernelW} after padding`,
      `${H}x${W} pads [${window.pads.join(",")}]`,
    );
  const plane = outH * outW;
  const out = new Float64Array(outChannels * plane);
  // For each tap k, the outputs along an axis whose input coordinate lies in the image.
  const firstOut = (k: number, stride: number, pad: number): number => Math.max(0, Math.ceil((pad - k) / stride));
  const endOut = (k: number, size: number, outSize: number, stride: number, pad: number): number =>
    Math.min(outSize, Math.floor((size - 1 + pad - k) / stride) + 1);
  for (let o = 0; o < outChannels; o++) {
    const y = out.subarray(o * plane, (o + 1) * plane);
    for (let c = 0; c < C; c++) {
      for (let ky = 0; ky < kernelH; ky++) {
        const oy0 = firstOut(ky, strideH, top),
          oy1 = endOut(ky, H, outH, strideH, top);
        for (let kx = 0; kx < kernelW; kx++) {
          const wv = weight[((o * C + c) * kernelH + ky) * kernelW + kx];
          const ox0 = firstOut(kx, strideW, left),
            ox1 = endOut(kx, W, outW, strideW, left);
          for (let oy = oy0; oy < oy1; oy++) {
            const row = (c * H + oy * strideH - top + ky) * W - left + kx;
            const yRow = oy * outW;
            for (let ox = ox0; ox < ox1; ox++) y[yRow + ox] += wv * input[row + ox * strideW];
          }
        }
      }
    }
    const b = bias === undefined ? 0 : bias[o];
    for (let i = 0; i < plane; i++) {
      const v = y[i] + b;
      y[i] = relu ? (v > 0 ? v : 0) : v;
    }
  }
  return { data: out, shape: { c: outChannels, h: outH, w: outW } };
}

function checkWindow2d(op: string, window: Window2d): void {
  const ok =
    [...window.kernel, ...window.stride].every((v) => Number.isInteger(v) && v >= 1) &&
    window.pads.every((p) => Number.isInteger(p) && p >= 0);
  if (!ok)
    throw new ArgumentError(
      op,
      "window",
      "kernel >= 1, stride >= 1, pads >= 0 (integers)",
      `kernel [${window.kernel}], stride [${window.stride}], pads [${window.pads}]`,
    );
}

/** How a pooling reference sizes its output and counts its divisor. */
export interface PoolRule {
  rounding: PoolNode["rounding"];
  /** Average pooling: padded taps (within the pads) count in the divisor. */
  countPad: boolean;
}

/** Caffe's pooling: ceil-mode size, padded taps counted. */
const CAFFE_POOL: PoolRule = { rounding: undefined, countPad: true };

/**
 * Pooling over a per-axis window: `reduce` gets the window clipped to the image and the
 * divisor (the window's taps inside the padded image when rule.countPad, else inside the image).
 */
function pool(
  op: string,
  input: FloatArray,
  shape: Shape,
  window: Window2d,
  rule: PoolRule,
  reduce: (
    x: FloatArray,
    base: number,
    W: number,
    y0: number,
    y1: number,
    x0: number,
    x1: number,
    count: number,
  ) => number,
): RefResult {
  checkLength(op, "input", input, checkShape(op, shape));
  checkWindow2d(op, window);
  const { c: C, h: H, w: W } = shape;
  const [kh, kw] = window.kernel;
  const [sh, sw] = window.stride;
  const [top, left, bottom, right] = window.pads;
  const outH = poolAxisSize(H, kh, sh, top, bottom, rule.rounding);
  const outW = poolAxisSize(W, kw, sw, left, right, rule.rounding);
  if (outH < 1 || outW < 1)
    throw new ArgumentError(
      op,
      "shape",
      `an input of at least ${kh}x${kw} after padding`,
      `${H}x${W} pads [${window.pads.join(",")}]`,
    );
  const [loH, loW, hiH, hiW] = rule.countPad ? [-top, -left, H + bottom, W + right] : [0, 0, H, W];
  const out = new Float64Array(C * outH * outW);
  let i = 0;
  for (let c = 0; c < C; c++) {
    for (let oy = 0; oy < outH; oy++) {
      const ys = oy * sh - top;
      const rows = Math.min(ys + kh, hiH) - Math.max(ys, loH);
      for (let ox = 0; ox < outW; ox++) {
        const xs = ox * sw - left;
        const count = rows * (Math.min(xs + kw, hiW) - Math.max(xs, loW));
        out[i++] = reduce(
          input,
          c * H * W,
          W,
          Math.max(ys, 0),
          Math.min(ys + kh, H),
          Math.max(xs, 0),
          Math.min(xs + kw, W),
          count,
        );
      }
    }
  }
  return { data: out, shape: { c: C, h: outH, w: outW } };
}

function squareWindow(op: string, kernel: number, stride: number, pad: number): Window2d {
  checkWindow(op, kernel, kernel, stride, pad);
  return { kernel: [kernel, kernel], stride: [stride, stride], pads: [pad, pad, pad, pad] };
}

/** Max pooling (Caffe MAX): the maximum over the k x k window clipped to the image; output size ceil-mode (poolOutSize). */
export function maxPoolRef(input: FloatArray, shape: Shape, kernel: number, stride: number, pad: number): RefResult {
  return maxPoolWindowRef(input, shape, squareWindow("maxPoolRef", kernel, stride, pad), CAFFE_POOL);
}

/** Max pooling over a per-axis window clipped to the image (-inf for a window with no tap in it). */
export function maxPoolWindowRef(input: FloatArray, shape: Shape, window: Window2d, rule: PoolRule): RefResult {
  return pool("maxPoolRef", input, shape, window, rule, (x, base, W, y0, y1, x0, x1) => {
    let m = -Infinity;
    for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) m = Math.max(m, x[base + y * W + xx]);
    return m;
  });
}

/**
 * Average pooling (Caffe AVE): the sum over the window clipped to the image, divided by the
 * size of the window clipped to the padded extent (H + pad, W + pad); output size ceil-mode.
 */
export function avgPoolRef(input: FloatArray, shape: Shape, kernel: number, stride: number, pad: number): RefResult {
  return avgPoolWindowRef(input, shape, squareWindow("avgPoolRef", kernel, stride, pad), CAFFE_POOL);
}

/** Average pooling over a per-axis window: the sum over the window clipped to the image over the rule's divisor. */
export function avgPoolWindowRef(input: FloatArray, shape: Shape, window: Window2d, rule: PoolRule): RefResult {
  return pool("avgPoolRef", input, shape, window, rule, (x, base, W, y0, y1, x0, x1, count) => {
    let s = 0;
    for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) s += x[base + y * W + xx];
    return s / count;
  });
}

/**
 * LRN across channels (Caffe ACROSS_CHANNELS): y = x * (k + alpha/size * sum_{c'} x[c']^2)^-beta,
 * c' in [c - (size-1)/2, c - (size-1)/2 + size - 1] clipped to [0, C).
 */
export function lrnRef(
  input: FloatArray,
  shape: Shape,
  size: number,
  alpha: number,
  beta: number,
  k: number,
): RefResult {
  const op = "lrnRef";
  checkLength(op, "input", input, checkShape(op, shape));
  if (!Number.isInteger(size) || size < 1) throw new ArgumentError(op, "size", "a positive integer", size);
  const { c: C } = shape;
  const HW = shape.h * shape.w;
  const before = Math.floor((size - 1) / 2);
  const out = new Float64Array(C * HW);
  for (let c = 0; c < C; c++) {
    const w0 = Math.max(c - before, 0);
    const w1 = Math.min(c - before + size - 1, C - 1);
    for (let p = 0; p < HW; p++) {
      let ss = 0;
      for (let q = w0; q <= w1; q++) {
        const v = input[q * HW + p];
        ss += v * v;
      }
      out[c * HW + p] = input[c * HW + p] * Math.pow(k + (alpha / size) * ss, -beta);
    }
  }
  return { data: out, shape: { ...shape } };
}

/** Fully connected: y[o] = bias[o] + sum_i weight[o][i] * x[i] over the flattened input (weight row-major [out][in]). */
export function fcRef(
  input: FloatArray,
  weight: FloatArray,
  bias: FloatArray | undefined,
  outFeatures: number,
): RefResult {
  const op = "fcRef";
  const inF = input.length;
  checkLength(op, "weight", weight, outFeatures * inF);
  if (bias !== undefined) checkLength(op, "bias", bias, outFeatures);
  const out = new Float64Array(outFeatures);
  for (let o = 0; o < outFeatures; o++) {
    let s = bias === undefined ? 0 : bias[o];
    const row = o * inF;
    for (let i = 0; i < inF; i++) s += weight[row + i] * input[i];
    out[o] = s;
  }
  return { data: out, shape: { c: outFeatures, h: 1, w: 1 } };
}

/** Softmax over the flattened input: exp(x_i - max) / sum_j exp(x_j - max). */
export function softmaxRef(input: FloatArray): RefResult {
  const n = input.length;
  if (n < 1) throw new ArgumentError("softmaxRef", "input", "at least one element", 0);
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, input[i]);
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += out[i] = Math.exp(input[i] - m);
  for (let i = 0; i < n; i++) out[i] /= sum;
  return { data: out, shape: { c: n, h: 1, w: 1 } };
}
