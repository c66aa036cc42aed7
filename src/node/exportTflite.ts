// Writing the GoogLeNet TFLite export to a file (the pure export is src/model/formats/tfliteExport.ts).

import { exportTflite } from "../model/formats/tfliteExport.js";
import { writeGoogLeNetExport, type ExportOptions } from "./export.js";

/**
 * Loads the GoogLeNet weights (`weights`: MAT folder or weight file, default the lookup) and
 * writes the TFLite model for inputSize (default 224; NHWC input, batch 1) to `file`. Returns
 * its size in bytes.
 */
export function exportGoogLeNetTflite(file: string, options: ExportOptions = {}): Promise<number> {
  return writeGoogLeNetExport(file, exportTflite, options);
}
