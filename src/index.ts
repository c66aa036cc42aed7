// inception-wasm's browser-safe entry (browsers, workers, edge runtimes): the GoogLeNet classifier, image
// and weight helpers, errors. It imports no `node:` module; the Node entry (src/node/index.ts) adds file access.

export { GoogLeNet, topClasses } from "./model/api/classifier.js";
export { averageProbabilities, cropInputs, cropViews, type CropCount, type CropView } from "./model/image/crops.js";
export type {
  Capabilities,
  ImageInput,
  ClassifyOptions,
  LoadOptions,
  NetworkCost,
  Prediction,
  RunResult,
  WeightsSource,
} from "./model/api/classifier.js";
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
} from "./host/errors.js";
export { GOLDEN, goldenInput, floatsSha256, syntheticInput } from "./model/network/golden.js";
export type { KernelSource, KernelSources } from "./host/wasm/kernels.js";
export type { WeightsFetchOptions, WeightsProgress } from "./model/api/weightSources.js";
export type { PlatformImage } from "./model/image/platformDecode.js";
export { runtimeName, type RuntimeName } from "./host/runtime.js";
export { decodeWithPlatform as decodeImageWithPlatform } from "./model/image/platformDecode.js";
