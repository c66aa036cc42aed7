// inception-wasm's browser-safe entry (browsers, workers, edge runtimes): the GoogLeNet classifier on
// the web runtime (src/host/engine/runtime.ts), image and weight helpers, errors. It imports no
// `node:` module; the Node entry (src/node/index.ts) adds file access.

import { GoogLeNet as Network } from "./api/googlenet.js";
import { webRuntime } from "./host/engine/runtime.js";

/** GoogLeNet on the web runtime: fetch, module Web Workers, the package's build files. */
export class GoogLeNet extends Network {
  protected static override readonly runtime = webRuntime;
}

export { topClasses } from "./api/classify.js";
export { averageProbabilities, cropInputs, cropViews, type CropCount, type CropView } from "./model/image/crops.js";
export type { Capabilities } from "./api/googlenet.js";
export type { ClassifyOptions, NetworkCost, Prediction, RunResult } from "./api/classify.js";
export type { ImageInput } from "./api/inputs.js";
export type { LoadOptions, WeightsSource } from "./api/options.js";
export { decodeImage, type RgbaImage } from "./model/image/decode.js";
export {
  toNetworkInput,
  resizeImage,
  BGR_MEAN,
  CROP,
  RESIZE_TO,
  RESIZE_FILTERS,
  type ResizeFilter,
  type NetworkInputOptions,
} from "./model/image/preprocess.js";
export { parseLabels, shortLabel } from "./model/network/labels.js";
export { ILSVRC2012_CLASSES } from "./model/network/classes.js";
export { decodeWeightFile, encodeWeightFile } from "./model/formats/iwnet.js";
export { decodeWeights, detectWeightFormat, type WeightFormat } from "./model/formats/detect.js";
export type { TensorMap } from "./host/ir/tensors.js";
export { summarize, formatSummary, type Summary, type SummaryRow } from "./model/network/summary.js";
export { INCEPTION_MODULES, googlenetGraph } from "./model/network/googlenet.js";
export type { BuildChoice, BuildName } from "./host/wasm/kernels.js";
export {
  InceptionError,
  WasmLoadError,
  WeightsError,
  ImageError,
  ArgumentError,
  ExecutionError,
  DisposedError,
} from "./host/errors.js";
export { GOLDEN, goldenInput, floatsSha256, syntheticInput } from "./model/network/golden.js";
export type { KernelSource, KernelSources } from "./host/wasm/kernels.js";
export type { WeightsFetchOptions, WeightsProgress } from "./api/weightSources.js";
export type { PlatformImage } from "./model/image/platformDecode.js";
export { runtimeName, type RuntimeName } from "./host/runtimeName.js";
export { decodeWithPlatform as decodeImageWithPlatform } from "./model/image/platformDecode.js";
