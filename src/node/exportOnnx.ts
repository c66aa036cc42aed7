// Writing the GoogLeNet ONNX export to a file (the pure export is src/model/formats/onnxExport.ts).

import { writeFile } from "node:fs/promises";
import { expectedWeights } from "../host/ir/tensors.js";
import { exportOnnx } from "../model/formats/onnxExport.js";
import { DEFAULT_INPUT_SIZE, googlenetGraph } from "../model/network/googlenet.js";
import { loadWeights } from "./weights.js";

/**
 * Loads the GoogLeNet weights (`weights`: MAT folder or .iwnet file, default the data folder)
 * and writes the ONNX model for inputSize (default 224) to `file`. Returns its size in bytes.
 */
export async function exportGoogLeNetOnnx(
  file: string,
  options: { weights?: string; inputSize?: number } = {},
): Promise<number> {
  const inputSize = options.inputSize ?? DEFAULT_INPUT_SIZE;
  const graph = googlenetGraph();
  const { tensors } = await loadWeights({
    source: options.weights,
    expected: expectedWeights(graph, inputSize, inputSize),
  });
  const bytes = exportOnnx(graph, tensors, inputSize);
  await writeFile(file, bytes);
  return bytes.length;
}
