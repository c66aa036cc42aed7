// Per-channel affine maps of an image tensor: a graph's input preamble (Graph.inputTransform),
// run by the engines on the host before the input is written, and the change of preprocessing
// convention (src/model/image/normalization.ts). Each value is x * scale + shift in float64,
// rounded once to float32: the same bits on every runtime, within one rounding of the exact map.

import type { Graph, InputTransform } from "./graph.js";

/**
 * `input` (CHW, `channels` channels) under the map: channel c of the result is
 * input[t.source[c]] * t.scale[c] + t.shift[c] (a new array, t.source.length channels).
 */
export function applyChannelMap(t: InputTransform, channels: number, input: Float32Array): Float32Array {
  const plane = input.length / channels;
  const out = new Float32Array(t.source.length * plane);
  for (let c = 0; c < t.source.length; c++) {
    const from = t.source[c]! * plane;
    const scale = t.scale[c]!,
      shift = t.shift[c]!;
    for (let i = 0; i < plane; i++) out[c * plane + i] = input[from + i]! * scale + shift;
  }
  return out;
}

/** The planned input of `graph` for one image: `input` itself without a preamble, else the mapped copy. */
export function applyInputTransform(graph: Graph, input: Float32Array): Float32Array {
  return graph.inputTransform ? applyChannelMap(graph.inputTransform, graph.inputChannels, input) : input;
}
