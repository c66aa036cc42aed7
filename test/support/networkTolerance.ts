// Tolerance for comparing two float32 forward passes of a whole network (ours and Caffe's).
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

import type { Graph, Shape } from "../../src/host/graph.js";
import { nodeInputs } from "../../src/host/graph.js";

const U32 = 2 ** -24;

/** For each tensor: the largest sum of reduction lengths (conv: Cin*k*k, FC: inputs, pools: k*k, LRN: size) over paths from the input. */
export function reductionDepths(graph: Graph, shapes: Map<string, Shape>): Map<string, number> {
  const depth = new Map<string, number>([[graph.input, 0]]);
  for (const node of graph.nodes) {
    const before = Math.max(...nodeInputs(node).map((t) => depth.get(t) ?? 0));
    let k = 0;
    switch (node.op) {
      case "conv": k = shapes.get(node.input)!.c * node.kernel * node.kernel; break;
      case "fc": { const s = shapes.get(node.input)!; k = s.c * s.h * s.w; break; }
      case "avgPool": case "maxPool": k = node.kernel * node.kernel; break;
      case "lrn": k = node.size; break;
      case "softmax": k = shapes.get(node.input)!.c; break;
      case "concat": k = 0; break;
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
export function caffeLrnErrors(graph: Graph, shapes: Map<string, Shape>, maxInput: (tensor: string) => number): Map<string, number> {
  const err = new Map<string, number>([[graph.input, 0]]);
  for (const node of graph.nodes) {
    let e = Math.max(...nodeInputs(node).map((t) => err.get(t) ?? 0));
    if (node.op === "lrn") {
      const x = maxInput(node.input);
      e += node.beta * Math.sqrt(2 * shapes.get(node.input)!.c) * U32 * (node.alpha / node.size) * x * x / node.k;
    }
    err.set(node.output, e);
  }
  return err;
}

/**
 * Largest allowed |ours - caffe| for a blob of reduction depth `depth`, carried Caffe LRN
 * relative error `lrnError` and largest magnitude `maxAbs`.
 */
export function networkTolerance(depth: number, lrnError: number, maxAbs: number): number {
  return (2 * 3 * U32 * Math.sqrt(depth) + 3 * lrnError) * maxAbs;
}
