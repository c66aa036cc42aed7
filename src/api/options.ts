// The load options: their types, defaults and every check of them, in one place. load() and
// loadEnsemble() call resolveLoadOptions before any file is read, memory allocated or thread
// started; what only a plan can tell (the memory budget, a build's tile names) the engine checks,
// naming the same caller.

import { DEFAULT_MAX_BATCH, MAX_BATCH, MAX_THREADS, maxThreads } from "../host/engine/wasm.js";
import type { Runtime } from "../host/engine/runtime.js";
import { ArgumentError } from "../host/errors.js";
import type { Graph } from "../host/ir/graph.js";
import { expectedWeights, type TensorMap } from "../host/ir/tensors.js";
import type { Precision } from "../host/plan/winogradLayers.js";
import type { BuildChoice, KernelSources } from "../host/wasm/kernels.js";
import { DEFAULT_MAX_IMAGE_PIXELS } from "../model/image/decode.js";
import { checkPreprocessing, type PreprocessingName } from "../model/image/normalization.js";
import { checkFilter, type ResizeFilter } from "../model/image/preprocess.js";
import { ILSVRC2012_CLASSES } from "../model/network/classes.js";
import { CLASSES, DEFAULT_INPUT_SIZE } from "../model/network/googlenet.js";
import { isRemoteWeights, type RemoteWeights, type WeightsFetchOptions } from "./weightSources.js";

/**
 * Where the weights come from: weight-file bytes (caffemodel, ONNX, IWNET), tensors, a URL, a
 * Response, ReadableStream, Blob or anything with arrayBuffer() (an R2 object); a string is a
 * path with the Node entry and a URL (against the page) without it.
 */
export type WeightsSource = string | Uint8Array | ArrayBuffer | ArrayBufferView | TensorMap | RemoteWeights;

export interface LoadOptions {
  /** Default: found by src/node/lookup.ts ($INCEPTION_WASM_WEIGHTS, the user cache, a checkout's data folder). */
  weights?: WeightsSource;
  /** The 1000 class names; default: the ILSVRC-2012 names shipped with the package. */
  labels?: readonly string[];
  /** Kernel build (default "auto": relaxed SIMD where validated, else baseline). */
  build?: BuildChoice;
  /**
   * The GEMM register tile (default "auto": a timed probe of every tile at load, about 30 ms, made
   * once per process and build; on the Node entry its result is kept in the user cache's probe
   * table, keyed by engine, build and CPU, and later processes read it instead; see
   * `kernel`/`kernelReason`), "probe" (probe now whatever is known and replace the table entry),
   * or a tile name ("4x8", "6x8", "4x12", "3x16", "4x8lanes", "6x8addr") for tests and benchmarks.
   * Every tile gives the same output bits.
   */
  tile?: string;
  /** Square input side the network is planned for (default 224; Caffe's reference blobs use 227). */
  inputSize?: number;
  /** Keep every activation readable after run() (no memory reuse); needed by activation(). */
  keepActivations?: boolean;
  /**
   * "strict" (default): every convolution as a GEMM. "fast": the 3x3 and 5x5 stride-1
   * convolutions that measure faster so at load as Winograd F(4x4, 3x3) or F(2x2, 5x5) (fewer
   * multiply-adds, a larger but bounded rounding error: see test/support/tolerance.ts); still
   * bit-identical at any thread count and batch position within a process. The reference engine
   * is always strict.
   */
  precision?: Precision;
  /** "wasm" (default), or "reference": every op in float64 TypeScript (slow; for bisecting numerics). */
  engine?: "wasm" | "reference";
  /**
   * Most images one run takes together (default 8, at most 64): runBatch() and crops go through the
   * network in batches of it; each batch of b images needs about b x 6.6 MB of activations (at 224).
   */
  maxBatch?: number;
  /**
   * Warm up before load() resolves (default true), so the first run() is as fast as later
   * ones: short calls of every kernel until the engine has optimised them (10-25 ms), then on
   * one thread the memory's pages are mapped (5 ms), on several one run of the pool (about
   * one inference). With false, load() is that much faster and the first run that much slower.
   */
  warmUp?: boolean;
  /** The user cache: fetched weights, converted MAT folders (default: userCacheDir() of src/node/userCache.ts). */
  cacheDir?: string;
  /**
   * Keep the packed weights (the memory's weight region as the kernels lay it out) in the user
   * cache, for weights named by path or found in the default locations (default true): later loads
   * read and copy it instead of decoding and packing the weights (see README, Warm start). Each such
   * model of an ensemble has its own entry (the one it has loaded alone).
   */
  packedCache?: boolean;
  /**
   * Threads that run kernels, the calling thread included (default: the available cores), at
   * most maxThreads() (4x the cores, at most 64; an ArgumentError above). Where the runtime has
   * no shared memory, Atomics.wait or workers, or the worker pool cannot start, 1 (see `capabilities`).
   */
  threads?: number;
  /**
   * Largest image classify() decodes, in pixels (width x height, read from the file's header
   * before decoding; default DEFAULT_MAX_IMAGE_PIXELS = 24 MP). Larger images are an ImageError.
   */
  maxImagePixels?: number;
  /**
   * Decode JPEGs at the smallest DCT scale (1/2, 1/4, 1/8) that still covers the resize (default
   * true: a 12 MP photo decodes about 20x faster); false decodes every pixel.
   */
  scaledJpeg?: boolean;
  /**
   * How classify() resizes images (see ResizeFilter): "antialias" (default; PIL's BILINEAR) or
   * "bilinear" (2x2 taps, OpenCV INTER_LINEAR as Caffe's tools).
   */
  resizeFilter?: ResizeFilter;
  /** URL and stream weights: progress callback, expected SHA-256, Cache Storage name (or false). */
  weightsFetch?: WeightsFetchOptions;
  /**
   * The kernel builds, each a WebAssembly.Module (workerd: import the .wasm), URL, Response or
   * bytes; default: the package's build/*.wasm (or the inline entry's embedded copies).
   */
  kernels?: KernelSources;
  /** Starts one pool worker running the package's worker module ("inception-wasm/worker"), for hosts with their own asset paths. */
  worker?: () => Worker;
  /**
   * How classify() normalizes pixels (default: detected from the graph, see `capabilities.preprocessing`):
   * "caffe" (BGR minus the ILSVRC-2012 mean, BVLC weights) or "imagenet" (RGB ImageNet mean/std,
   * short side 256: torchvision-style weights). See src/model/image/normalization.ts.
   */
  preprocessing?: PreprocessingName;
}

const BUILDS: readonly BuildChoice[] = ["auto", "baseline", "relaxed", "debug"];

/** What a value is, for "found ..." in messages: its class name for objects, else its type or value. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return (value as object).constructor?.name ?? "an object without a prototype";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  return `${typeof value} ${String(value)}`;
}

/**
 * The input sizes a graph's weights fit: those whose classifier (its last fully connected node)
 * takes as many features as at 224, e.g. pool5 1x1 and 1024 features (223..254 for GoogLeNet).
 */
export function supportedInputSizes(graph: Graph): { min: number; max: number } {
  const features = classifierInputs(graph, DEFAULT_INPUT_SIZE);
  const fits = (size: number): boolean => classifierInputs(graph, size) === features;
  let min = 1;
  while (min < 4096 && !fits(min)) min++;
  let max = min;
  while (fits(max + 1)) max++;
  return { min, max };
}

/** Features the graph's last fully connected node (loss3/classifier) takes at this input size, or 0 when the graph cannot run. */
function classifierInputs(graph: Graph, size: number): number {
  try {
    const fc = expectedWeights(graph, size, size)
      .filter((t) => t.shape.length === 2 && t.name.endsWith(".weight"))
      .at(-1);
    return fc?.shape[1] ?? 0;
  } catch {
    return 0;
  }
}

/** The name option errors give (loadEnsemble's options are load()'s). */
const LOAD = "GoogLeNet.load";

/** The load options checked, with their defaults filled in. */
export interface LoadSettings {
  inputSize: number;
  labels: readonly string[];
  build: BuildChoice;
  tile: string;
  threads: number | undefined;
  keepActivations: boolean;
  precision: Precision;
  engine: "wasm" | "reference";
  maxBatch: number;
  warmUp: boolean;
  cacheDir: string | undefined;
  packedCache: boolean;
  maxImagePixels: number;
  scaledJpeg: boolean;
  resizeFilter: ResizeFilter;
  weightsFetch: WeightsFetchOptions | undefined;
  kernels: KernelSources | undefined;
  worker: (() => Worker) | undefined;
  preprocessing: PreprocessingName | undefined;
}

/**
 * Checks every load option's type and range, and each model's weights source's kind, before any
 * work starts (ArgumentError naming the option, expected vs found), and fills in the defaults.
 * `runtime` gives the cores that bound `threads`. Without `graph` (before the weights say which
 * network runs) the input size's fit is not checked: call again with the graph.
 */
export function resolveLoadOptions(
  options: LoadOptions,
  sources: readonly (WeightsSource | undefined)[],
  graph: Graph | undefined,
  runtime: Runtime,
): LoadSettings {
  if (typeof options !== "object" || options === null)
    throw new ArgumentError(LOAD, "options", "an object", describe(options));
  const { inputSize, build, engine, maxImagePixels, precision } = options;
  if (precision !== undefined && precision !== "strict" && precision !== "fast")
    throw new ArgumentError(LOAD, "precision", '"strict" or "fast"', describe(precision));
  checkThreads(options.threads, runtime);
  if (inputSize !== undefined) {
    if (!Number.isInteger(inputSize) || inputSize < 1 || inputSize > 4096)
      throw new ArgumentError(LOAD, "inputSize", "an integer in 1..4096", describe(inputSize));
    if (graph && classifierInputs(graph, inputSize) !== classifierInputs(graph, DEFAULT_INPUT_SIZE)) {
      const { min, max } = supportedInputSizes(graph);
      throw new ArgumentError(
        LOAD,
        "inputSize",
        `a size in ${min}..${max} (the classifier weights take ${classifierInputs(graph, DEFAULT_INPUT_SIZE)} features: pool5 must be 1x1)`,
        inputSize,
      );
    }
  }
  if (options.tile !== undefined && typeof options.tile !== "string")
    throw new ArgumentError(LOAD, "tile", '"auto", "probe" or a tile name such as "4x8"', describe(options.tile));
  if (build !== undefined && !BUILDS.includes(build))
    throw new ArgumentError(LOAD, "build", BUILDS.map((b) => `"${b}"`).join(", "), describe(build));
  if (engine !== undefined && engine !== "wasm" && engine !== "reference")
    throw new ArgumentError(LOAD, "engine", `"wasm" or "reference"`, describe(engine));
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!(Number.isInteger(maxBatch) && maxBatch >= 1 && maxBatch <= MAX_BATCH))
    throw new ArgumentError(LOAD, "maxBatch", `an integer in 1..${MAX_BATCH}`, maxBatch);
  if (options.packedCache !== undefined && typeof options.packedCache !== "boolean")
    throw new ArgumentError(LOAD, "packedCache", "true or false", describe(options.packedCache));
  if (maxImagePixels !== undefined && !(Number.isInteger(maxImagePixels) && maxImagePixels >= 1))
    throw new ArgumentError(LOAD, "maxImagePixels", "a positive integer", describe(maxImagePixels));
  if (options.scaledJpeg !== undefined && typeof options.scaledJpeg !== "boolean")
    throw new ArgumentError(LOAD, "scaledJpeg", "true or false", describe(options.scaledJpeg));
  if (options.resizeFilter !== undefined) checkFilter(LOAD, "resizeFilter", options.resizeFilter);
  if (options.worker !== undefined && typeof options.worker !== "function")
    throw new ArgumentError(LOAD, "worker", "a function that starts a Worker", describe(options.worker));
  checkPreprocessing(options.preprocessing);
  checkWeightsSource(options.weights);
  sources.forEach(checkWeightsSource);
  return {
    inputSize: inputSize ?? DEFAULT_INPUT_SIZE,
    labels: checkLabels(options.labels),
    build: build ?? "auto",
    tile: options.tile ?? "auto",
    threads: options.threads,
    keepActivations: options.keepActivations ?? false,
    precision: precision ?? "strict",
    engine: engine ?? "wasm",
    maxBatch,
    warmUp: options.warmUp ?? true,
    cacheDir: options.cacheDir,
    packedCache: options.packedCache ?? true,
    maxImagePixels: maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS,
    scaledJpeg: options.scaledJpeg ?? true,
    resizeFilter: options.resizeFilter ?? "antialias",
    weightsFetch: options.weightsFetch,
    kernels: options.kernels,
    worker: options.worker,
    preprocessing: options.preprocessing,
  };
}

/** Throws ArgumentError unless `requested` is undefined or an integer in 1..maxThreads(runtime). */
function checkThreads(requested: unknown, runtime: Pick<Runtime, "cores">): void {
  const max = maxThreads(runtime);
  if (
    requested !== undefined &&
    !(Number.isInteger(requested) && (requested as number) >= 1 && (requested as number) <= max)
  ) {
    throw new ArgumentError(
      LOAD,
      "threads",
      `an integer in 1..${max} (4x the ${runtime.cores()} core(s), at most ${MAX_THREADS})`,
      typeof requested === "number" ? requested : `${typeof requested} ${String(requested)}`,
    );
  }
}

function checkWeightsSource(weights: unknown): void {
  if (
    weights !== undefined &&
    typeof weights !== "string" &&
    !(weights instanceof Map) &&
    !(weights instanceof ArrayBuffer) &&
    !ArrayBuffer.isView(weights) &&
    !isRemoteWeights(weights)
  ) {
    throw new ArgumentError(
      LOAD,
      "weights",
      "a path or URL string, a URL, Response, ReadableStream, Blob, weight-file bytes (Uint8Array, Buffer, ArrayBuffer) or a Map of tensors",
      describe(weights),
    );
  }
}

function checkLabels(labels: readonly string[] | undefined): readonly string[] {
  if (labels === undefined) return ILSVRC2012_CLASSES;
  if (!Array.isArray(labels) || labels.length !== CLASSES) {
    throw new ArgumentError(
      LOAD,
      "labels",
      `an array of ${CLASSES} class names`,
      Array.isArray(labels) ? `${labels.length} entries` : describe(labels),
    );
  }
  const bad = labels.findIndex((l) => typeof l !== "string" || l.trim() === "");
  if (bad >= 0) {
    throw new ArgumentError(LOAD, `labels[${bad}]`, "a non-empty string (a class name)", describe(labels[bad]));
  }
  return labels;
}
