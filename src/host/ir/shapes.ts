// Tensor shapes and costs of ops over a graph (the output-size rules per axis: window.ts).

import { ArgumentError } from "../errors.js";
import type { Graph, GraphNode, Shape } from "./graph.js";
import { convWindow, windowOutSize } from "./window.js";

/** The shape of every tensor of `graph` for an input of `height` x `width`. */
export function inferShapes(graph: Graph, height: number, width: number): Map<string, Shape> {
  const shapes = new Map<string, Shape>([[graph.input, { c: graph.inputChannels, h: height, w: width }]]);
  for (const extra of graph.extraInputs ?? []) shapes.set(extra.name, { ...extra.shape });
  const get = (node: GraphNode, name: string): Shape => {
    const s = shapes.get(name);
    if (!s) throw new ArgumentError(node.name, "input", "a tensor produced earlier in the graph", name);
    return s;
  };
  for (const node of graph.nodes) {
    let out: Shape;
    switch (node.op) {
      case "conv": {
        const s = get(node, node.input);
        out = { c: node.outChannels, ...windowOutSize(node, s.h, s.w) };
        break;
      }
      case "maxPool":
      case "avgPool": {
        const s = get(node, node.input);
        out = { c: s.c, ...windowOutSize(node, s.h, s.w) };
        break;
      }
      case "lrn":
      case "softmax":
        out = { ...get(node, node.input) };
        break;
      case "concat": {
        const parts = node.inputs.map((name) => get(node, name));
        for (const p of parts) {
          if (p.h !== parts[0].h || p.w !== parts[0].w) {
            throw new ArgumentError(
              node.name,
              "inputs",
              `equal spatial sizes ${parts[0].h}x${parts[0].w}`,
              `${p.h}x${p.w}`,
            );
          }
        }
        out = { c: parts.reduce((sum, p) => sum + p.c, 0), h: parts[0].h, w: parts[0].w };
        break;
      }
      case "fc":
        get(node, node.input);
        out = { c: node.outFeatures, h: 1, w: 1 };
        break;
    }
    if (out.h < 1 || out.w < 1) {
      throw new ArgumentError(
        node.name,
        "input size",
        "an input large enough for this op",
        `${height}x${width} (gives ${out.h}x${out.w} here)`,
      );
    }
    shapes.set(node.output, out);
  }
  return shapes;
}

/** Multiply-adds of one node for one image (convolutions and FC; other ops count 0). */
export function multiplyAdds(node: GraphNode, shapes: Map<string, Shape>): number {
  const out = shapes.get(node.output)!;
  if (node.op === "conv") {
    const inC = shapes.get(node.input)!.c;
    const [kh, kw] = convWindow(node).kernel;
    return out.c * out.h * out.w * inC * kh * kw;
  }
  if (node.op === "fc") {
    const s = shapes.get(node.input)!;
    return node.outFeatures * s.c * s.h * s.w;
  }
  return 0;
}

/** Parameters (weights + biases) of one node. */
export function parameterCount(node: GraphNode, shapes: Map<string, Shape>): number {
  if (node.op === "conv") {
    const [kh, kw] = convWindow(node).kernel;
    return node.outChannels * (shapes.get(node.input)!.c * kh * kw + 1);
  }
  if (node.op === "fc") {
    const s = shapes.get(node.input)!;
    return node.outFeatures * (s.c * s.h * s.w + 1);
  }
  return 0;
}
