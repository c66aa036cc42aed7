// Writing the GoogLeNet ONNX export to a file (the pure export is src/model/formats/onnxExport.ts).

import { exportOnnx } from "../model/formats/onnxExport.js";
import { writeGoogLeNetExport, type ExportOptions } from "./export.js";

/**
 * Loads the GoogLeNet weights (`weights`: MAT folder or .iwnet file, default the data folder)
 * and writes the ONNX model for inputSize (default 224) to `file`. Returns its size in bytes.
 */
export function exportGoogLeNetOnnx(file: string, options: ExportOptions = {}): Promise<number> {
  return writeGoogLeNetExport(file, exportOnnx, options);
}
