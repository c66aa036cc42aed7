// Writing a GoogLeNet export (ONNX, TFLite) of the loaded weights to a file; the pure encoders
// are in src/model/formats (onnxExport.ts, tfliteExport.ts).

import { writeFile } from "node:fs/promises";
import type { Graph } from "../host/ir/graph.js";
import { expectedWeights, type TensorMap } from "../host/ir/tensors.js";
import { DEFAULT_INPUT_SIZE, googlenetGraph } from "../model/network/googlenet.js";
import { loadWeights } from "./weights.js";

/** Where the weights come from and the input size of an export. */
export interface ExportOptions {
  /** MAT folder or weight file (default: the lookup of src/node/lookup.ts). */
  weights?: string;
  /** Square input side (default 224). */
  inputSize?: number;
}

/**
 * Loads the GoogLeNet weights for inputSize and writes `encode(graph, tensors, inputSize)` to
 * `file`. Returns its size in bytes.
 */
export async function writeGoogLeNetExport(
  file: string,
  encode: (graph: Graph, tensors: TensorMap, inputSize: number) => Uint8Array,
  options: ExportOptions = {},
): Promise<number> {
  const inputSize = options.inputSize ?? DEFAULT_INPUT_SIZE;
  const graph = googlenetGraph();
  const { tensors } = await loadWeights({
    source: options.weights,
    expected: expectedWeights(graph, inputSize, inputSize),
  });
  const bytes = encode(graph, tensors, inputSize);
  await writeFile(file, bytes);
  return bytes.length;
}
