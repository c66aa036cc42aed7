// inception-wasm public API: the GoogLeNet classifier, image and weight helpers, errors.

export { GoogLeNet, topClasses } from "./model/classifier.js";
export type { Capabilities, ImageInput, LoadOptions, Prediction, RunResult, WeightsSource } from "./model/classifier.js";
export { decodeImage, type RgbaImage } from "./model/image.js";
export { toNetworkInput, BGR_MEAN, CROP, RESIZE_TO } from "./model/preprocess.js";
export { parseLabels, shortLabel } from "./model/labels.js";
export { decodeWeightFile, encodeWeightFile, type TensorMap } from "./model/weightFile.js";
export { summarize, formatSummary, type Summary, type SummaryRow } from "./model/summary.js";
export { INCEPTION_MODULES, googlenetGraph } from "./model/googlenet.js";
export type { BuildChoice, BuildName } from "./host/kernels.js";
export {
  InceptionError, WasmLoadError, WeightsError, ImageError, ArgumentError, ExecutionError,
} from "./host/errors.js";
