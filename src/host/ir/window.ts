// Window geometry of convolution and pooling nodes per axis: GoogLeNet's square Caffe windows
// and the per-axis windows, asymmetric pads and rounding modes of nodes read from ONNX.
//
// Output sizes along an axis of `size` pixels, kernel k, stride s, pads begin b and end e:
//   convolution (Caffe and ONNX):  floor((size + b + e - k) / s) + 1
//   pooling, Caffe (rounding absent, one pad p = b):  ceil((size + 2p - k) / s) + 1, minus the
//     last window when p > 0 and it starts at or past size + p (inside the end padding)
//   pooling, "floor" (ONNX ceil_mode 0):  floor((size + b + e - k) / s) + 1
//   pooling, "ceil" (ONNX ceil_mode 1):  ceil((size + b + e - k) / s) + 1, minus the last window
//     when it starts at or past size + b (in the end padding): ONNX since opset 19 and
//     onnxruntime; the ONNX 1.12 reference implementation keeps such a window.

import type { ConvNode, PoolNode, Window2d } from "./graph.js";

/** Convolution output size (Caffe: floor). */
export function convOutSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/**
 * Pooling output size (Caffe: ceil), then, when padded, the last window must start
 * inside the image or the left/top padding: Caffe drops it otherwise.
 */
export function poolOutSize(size: number, kernel: number, stride: number, pad: number): number {
  let out = Math.ceil((size + 2 * pad - kernel) / stride) + 1;
  if (pad > 0 && (out - 1) * stride >= size + pad) out--;
  return out;
}

/** The per-axis window of a convolution node (its square Caffe fields when it has no `window`). */
export function convWindow(node: ConvNode): Window2d {
  return node.window ?? squareWindow(node.kernel, node.stride, node.pad);
}

/**
 * The per-axis window of a pooling node over an input of `input`'s height x width (its square
 * Caffe fields when it has no `window`; the whole input for a global pool).
 */
export function poolWindow(node: PoolNode, input: { h: number; w: number }): Window2d {
  if (node.global) return { kernel: [input.h, input.w], stride: [1, 1], pads: [0, 0, 0, 0] };
  return node.window ?? squareWindow(node.kernel, node.stride, node.pad);
}

function squareWindow(kernel: number, stride: number, pad: number): Window2d {
  return { kernel: [kernel, kernel], stride: [stride, stride], pads: [pad, pad, pad, pad] };
}

/** Convolution output size along one axis (floor). */
export function convAxisSize(size: number, kernel: number, stride: number, begin: number, end: number): number {
  return Math.floor((size + begin + end - kernel) / stride) + 1;
}

/** Pooling output size along one axis under a node's rounding (see the header). */
export function poolAxisSize(
  size: number,
  kernel: number,
  stride: number,
  begin: number,
  end: number,
  rounding: PoolNode["rounding"],
): number {
  if (rounding === undefined) return poolOutSize(size, kernel, stride, begin);
  const span = size + begin + end - kernel;
  if (rounding === "floor") return Math.floor(span / stride) + 1;
  const out = Math.ceil(span / stride) + 1;
  return (out - 1) * stride >= size + begin ? out - 1 : out;
}

/** Output height and width of a convolution or pooling node over an input of height x width. */
export function windowOutSize(node: ConvNode | PoolNode, height: number, width: number): { h: number; w: number } {
  if (node.op === "conv") {
    const { kernel, stride, pads } = convWindow(node);
    return {
      h: convAxisSize(height, kernel[0], stride[0], pads[0], pads[2]),
      w: convAxisSize(width, kernel[1], stride[1], pads[1], pads[3]),
    };
  }
  const { kernel, stride, pads } = poolWindow(node, { h: height, w: width });
  return {
    h: poolAxisSize(height, kernel[0], stride[0], pads[0], pads[2], node.rounding),
    w: poolAxisSize(width, kernel[1], stride[1], pads[1], pads[3], node.rounding),
  };
}
