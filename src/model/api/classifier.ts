// The public GoogLeNet classifier: weights and labels in, an engine (wasm kernels or the float64
// reference) planned for the input size, images in, top-k predictions out. Browser-safe: weights
// come as bytes, tensors, a URL or a stream; paths work once the Node entry (src/node/) installs
// file access.

import { ArgumentError, DisposedError, ExecutionError, WeightsError } from "../../host/errors.js";
import type { Profile } from "../../host/exec/executor.js";
import { disposedEngine, type Engine } from "../../host/engine/engine.js";
import type { LoadTimes, PackedWeightsCache } from "../../host/engine/packedWeights.js";
import { ReferenceEngine } from "../../host/engine/reference.js";
import { checkThreads, WasmEngine, type WeightFeed, type WeightSet } from "../../host/engine/wasm.js";
import { platform } from "../../host/platform.js";
import type { Graph } from "../../host/ir/graph.js";
import { multiplyAdds as nodeMultiplyAdds, inferShapes, parameterCount } from "../../host/ir/shapes.js";
import {
  checkTensors,
  expectedWeights,
  firstNonFinite,
  firstOutside,
  type ExpectedTensor,
  type TensorMap,
} from "../../host/ir/tensors.js";
import type { BuildChoice, BuildName, KernelSources } from "../../host/wasm/kernels.js";
import type { TileProbeStore } from "../../host/wasm/tiles.js";
import type { Precision } from "../../host/plan/winograd.js";
import { wrapWebWorker } from "../../host/exec/webWorker.js";
import { decodeWeights } from "../formats/detect.js";
import { hasIwnetMagic, readWeightStream } from "../formats/iwnet.js";
import {
  DEFAULT_MAX_IMAGE_PIXELS,
  decodeImage,
  readImageStream,
  validateRgba,
  type DecodeOptions,
  type RgbaImage,
} from "../image/decode.js";
import { checkFilter, CROP, RESIZE_TO, type ResizeFilter } from "../image/preprocess.js";
import { averageProbabilities, checkCropCount, cropInputs, type CropCount } from "../image/crops.js";
import { decodeWithPlatform, isPlatformImage, platformCanDecode, type PlatformImage } from "../image/platformDecode.js";
import { Workspace } from "../image/workspace.js";
import { ILSVRC2012_CLASSES } from "../network/classes.js";
import { CLASSES, DEFAULT_INPUT_SIZE, googlenetGraph } from "../network/googlenet.js";
import {
  isRemoteWeights,
  openWeightStream,
  readRemoteWeights,
  type RemoteWeights,
  type WeightStream,
  type WeightsFetchOptions,
} from "./weightSources.js";

/**
 * Where the weights come from: weight-file bytes (caffemodel, ONNX, IWNET), tensors, a URL, a
 * Response, ReadableStream, Blob or anything with arrayBuffer() (an R2 object); a string is a
 * path with the Node entry and a URL (against the page) without it.
 */
export type WeightsSource = string | Uint8Array | ArrayBuffer | ArrayBufferView | TensorMap | RemoteWeights;

/**
 * Resolves a weights path (or no weights option: the default locations) to tensors or, where `feed`
 * allows it (the wasm engine), to a feed read as it is written; the Node entry installs one with
 * installWeightFiles. Without it only bytes and tensors are accepted.
 */
export type WeightFiles = (
  source: string | undefined,
  expected: readonly ExpectedTensor[],
  cacheDir: string | undefined,
  feed: boolean,
) => Promise<TensorMap | WeightFeed>;

let weightFiles: WeightFiles | undefined;

/** Installs the file-system weight lookup (called once by the Node entry). */
export function installWeightFiles(files: WeightFiles): void {
  weightFiles = files;
}

/**
 * Opens the packed weights cache for a weights path (or the default locations); undefined when
 * those weights are not cached that way. The Node entry installs one (src/node/packedCache.ts).
 */
export type PackedCacheOpener = (
  source: string | undefined,
  cacheDir?: string,
) => Promise<PackedWeightsCache | undefined>;

let packedCacheOpener: PackedCacheOpener | undefined;

/** Installs the packed weights cache (called once by the Node entry). */
export function installPackedCache(open: PackedCacheOpener): void {
  packedCacheOpener = open;
}

/**
 * Opens the tile probe table in a cache folder (default: the user cache). The Node entry installs
 * one (src/node/tileCache.ts); without one (browsers, edge workers) each process probes.
 */
export type TileCacheOpener = (cacheDir?: string) => TileProbeStore;

let tileCacheOpener: TileCacheOpener | undefined;

/** Installs the tile probe table (called once by the Node entry). */
export function installTileCache(open: TileCacheOpener): void {
  tileCacheOpener = open;
}

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
   * or a tile name ("4x8", "6x8", "4x12", "3x16") for tests and benchmarks. Every tile gives the
   * same output bits.
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
}

/** The threads a network runs with and why, and the precision mode. */
export interface Capabilities {
  threads: number;
  reason: string;
  /** "strict" or "fast" (the load option). */
  precision: Precision;
  /** The convolutions that run Winograd, F(4x4, 3x3) or F(2x2, 5x5) (fast mode; empty in strict mode). */
  winogradLayers: readonly string[];
  /** Why those: each candidate's GEMM and Winograd times measured at load, or the probe table's entry of them. */
  winogradReason: string;
}

/** One class of a classification. */
export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

/** The network's outputs for one input: logits (loss3/classifier) and softmax probabilities. */
export interface RunResult {
  logits: Float32Array;
  probabilities: Float32Array;
}

/**
 * Input to classify(): encoded image bytes (Uint8Array, Node Buffer or ArrayBuffer, or a ReadableStream
 * of them, e.g. a fetch body), RGBA pixels (ImageData), a ready CHW tensor (BGR, mean subtracted), or
 * in browsers a Blob, ImageBitmap, <img>, <canvas>, OffscreenCanvas or VideoFrame.
 */
export type ImageInput =
  | Uint8Array
  | ArrayBuffer
  | ReadableStream<Uint8Array>
  | RgbaImage
  | Float32Array
  | PlatformImage;

const LOAD = "GoogLeNet.load";

/**
 * Largest magnitude accepted in an input tensor: a preprocessed image lies within +-255, so
 * anything near this is not an image and would only overflow the activations.
 */
export const MAX_INPUT_MAGNITUDE = 1e6;
const BUILDS: readonly BuildChoice[] = ["auto", "baseline", "relaxed", "debug"];
/** Idle preprocessing workspaces a network keeps for its next calls (more are made while more calls overlap). */
const MAX_IDLE_WORKSPACES = 2;

/** What a value is, for "found ..." in messages: its class name for objects, else its type or value. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return (value as object).constructor?.name ?? "an object without a prototype";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  return `${typeof value} ${String(value)}`;
}

/**
 * The input sizes GoogLeNet's weights fit: those whose pool5 output is 1x1, so that
 * loss3/classifier takes 1024 features (223..254 for GoogLeNet).
 */
export function supportedInputSizes(graph: Graph): { min: number; max: number } {
  const fits = (size: number): boolean => classifierInputs(graph, size) === 1024;
  let min = 1;
  while (min < 4096 && !fits(min)) min++;
  let max = min;
  while (fits(max + 1)) max++;
  return { min, max };
}

/** Features loss3/classifier takes at this input size, or 0 when the graph cannot run at all. */
function classifierInputs(graph: Graph, size: number): number {
  try {
    const fc = expectedWeights(graph, size, size).find((t) => t.name === "loss3_classifier.weight");
    return fc?.shape[1] ?? 0;
  } catch {
    return 0;
  }
}

/** Checks every load option's type and range before any work starts; throws ArgumentError. */
function checkLoadOptions(options: LoadOptions, graph: Graph): void {
  if (typeof options !== "object" || options === null)
    throw new ArgumentError(LOAD, "options", "an object", describe(options));
  const { inputSize, build, engine, maxImagePixels, weights, precision } = options;
  if (precision !== undefined && precision !== "strict" && precision !== "fast")
    throw new ArgumentError(LOAD, "precision", '"strict" or "fast"', describe(precision));
  checkThreads(options.threads);
  if (inputSize !== undefined) {
    if (!Number.isInteger(inputSize) || inputSize < 1 || inputSize > 4096)
      throw new ArgumentError(LOAD, "inputSize", "an integer in 1..4096", describe(inputSize));
    if (classifierInputs(graph, inputSize) !== 1024) {
      const { min, max } = supportedInputSizes(graph);
      throw new ArgumentError(
        LOAD,
        "inputSize",
        `a size in ${min}..${max} (pool5 must be 1x1 for the 1024-feature classifier weights)`,
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
  if (options.packedCache !== undefined && typeof options.packedCache !== "boolean")
    throw new ArgumentError(LOAD, "packedCache", "true or false", describe(options.packedCache));
  if (maxImagePixels !== undefined && !(Number.isInteger(maxImagePixels) && maxImagePixels >= 1))
    throw new ArgumentError(LOAD, "maxImagePixels", "a positive integer", describe(maxImagePixels));
  if (options.scaledJpeg !== undefined && typeof options.scaledJpeg !== "boolean")
    throw new ArgumentError(LOAD, "scaledJpeg", "true or false", describe(options.scaledJpeg));
  if (options.resizeFilter !== undefined) checkFilter(LOAD, "resizeFilter", options.resizeFilter);
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

/**
 * The weights of `source` as tensors or, for an IWNET stream the wasm engine reads (see
 * openWeightStream), as a feed written into the network's memory tensor by tensor.
 */
async function resolveWeights(
  source: WeightsSource | undefined,
  expected: readonly ExpectedTensor[],
  options: LoadOptions,
): Promise<TensorMap | WeightFeed> {
  if (typeof source === "string" && !weightFiles) {
    source = new URL(source, (globalThis as { location?: { href?: string } }).location?.href);
  }
  if (isRemoteWeights(source)) {
    const opened = options.engine === "reference" ? undefined : await openWeightStream(source, options.weightsFetch);
    if (opened) return streamedWeights(opened, expected);
    const name = source instanceof URL ? source.href : "weights option";
    const tensors = await decodeWeights(await readRemoteWeights(source, options.weightsFetch), name, googlenetGraph());
    checkTensors(tensors, expected, name);
    return tensors;
  }
  if (source instanceof Map) {
    checkTensors(source, expected, "weights option");
    return source;
  }
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const file = "weights option (bytes)";
    const bytes =
      source instanceof ArrayBuffer
        ? new Uint8Array(source)
        : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    const tensors = await decodeWeights(bytes, file, googlenetGraph());
    checkTensors(tensors, expected, file);
    return tensors;
  }
  if (!weightFiles) {
    throw new WeightsError(
      "weights option",
      undefined,
      `expected weight-file bytes or tensors (paths and default ` +
        `locations need the Node entry, import "inception-wasm" under Node, Deno or Bun), found ${source ?? "nothing"}`,
    );
  }
  return weightFiles(source, expected, options.cacheDir, options.engine !== "reference");
}

/** An IWNET stream as a feed (read while written, never whole); other formats read whole and decoded. */
async function streamedWeights(
  { stream, name }: WeightStream,
  expected: readonly ExpectedTensor[],
): Promise<TensorMap | WeightFeed> {
  const reader = stream.getReader();
  const first = await reader.read();
  const head = first.done ? new Uint8Array(0) : first.value;
  const whole = new ReadableStream<Uint8Array>({
    start: (controller) => (head.length > 0 ? controller.enqueue(head) : undefined),
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  if (hasIwnetMagic(head)) return (write) => readWeightStream(whole, name, write, platform().createSha256());
  const tensors = await decodeWeights(new Uint8Array(await new Response(whole).arrayBuffer()), name, googlenetGraph());
  checkTensors(tensors, expected, name);
  return tensors;
}

/** Every model's tensors for the reference engine, in order (never a feed: resolveWeights reads whole for it). */
async function referenceWeights(sets: readonly WeightSet[]): Promise<TensorMap[]> {
  const maps: TensorMap[] = [];
  for (const set of sets) maps.push((await set.tensors()) as TensorMap);
  return maps;
}

function resolveLabels(labels: readonly string[] | undefined): readonly string[] {
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

/**
 * What a network costs per image under a crop protocol (GoogLeNet.summary): every model runs every crop.
 */
export interface NetworkCost {
  /** Weight sets (1, or an ensemble's models). */
  models: number;
  crops: CropCount;
  /** Forward passes per image: models x crops. */
  passesPerImage: number;
  /** Multiply-adds per image: passes x one pass's (convolutions and fully connected). */
  multiplyAddsPerImage: number;
  /** Parameters of every model (float32 each). */
  parameters: number;
  /** Bytes of the weights as stored: parameters x 4. */
  weightBytes: number;
  /**
   * Bytes of the working memory this protocol needs: the one shared wasm memory (every model's
   * weights, one activation arena for a batch of min(crops, maxBatch) images, scratch), or what it
   * holds already if more; 0 for the reference engine.
   */
  memoryBytes: number;
}

/** GoogLeNet (BVLC weights) on WebAssembly SIMD kernels (or the float64 reference engine). */
export class GoogLeNet {
  readonly inputSize: number;
  readonly labels: readonly string[];
  readonly graph: Graph;
  private engine: Engine;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  /**
   * Decoding and preprocessing scratch (workspace.ts) of finished calls, for the next ones: each
   * probabilities() call holds one of its own from decoding until its runs return (calls overlap:
   * only the runs are queued), so its steady state allocates no large temporaries.
   */
  private readonly idleWorkspaces: Workspace[] = [];

  /** Largest image classify() decodes, in pixels. */
  readonly maxImagePixels: number;
  /** Whether JPEGs are decoded at a reduced DCT scale (LoadOptions.scaledJpeg). */
  readonly scaledJpeg: boolean;
  /** How images are resized (LoadOptions.resizeFilter). */
  readonly resizeFilter: ResizeFilter;

  private constructor(
    engine: Engine,
    graph: Graph,
    inputSize: number,
    labels: readonly string[],
    images: { maxImagePixels: number; scaledJpeg: boolean; resizeFilter: ResizeFilter },
  ) {
    this.engine = engine;
    this.graph = graph;
    this.inputSize = inputSize;
    this.labels = labels;
    this.maxImagePixels = images.maxImagePixels;
    this.scaledJpeg = images.scaledJpeg;
    this.resizeFilter = images.resizeFilter;
  }

  /**
   * Loads weights, labels and kernels and plans the network for inputSize x inputSize. Every
   * option is checked (type and range: ArgumentError) before any file is read or thread started.
   */
  static async load(options: LoadOptions = {}): Promise<GoogLeNet> {
    return GoogLeNet.create([options.weights], options);
  }

  /**
   * An ensemble: several GoogLeNet-compatible weight sets (any format load() reads) in one network
   * whose probabilities are the mean of the models' (in the given order, float64). The models share
   * one engine: one memory with their weights side by side and one activation arena, one worker pool.
   * Each model's probabilities have the bits it gives loaded alone.
   */
  static async loadEnsemble(
    weights: readonly WeightsSource[],
    options: Omit<LoadOptions, "weights"> = {},
  ): Promise<GoogLeNet> {
    if (!Array.isArray(weights) || weights.length === 0) {
      throw new ArgumentError(
        "GoogLeNet.loadEnsemble",
        "weights",
        "a non-empty array of weight sources",
        describe(weights),
      );
    }
    return GoogLeNet.create(weights, options);
  }

  private static async create(
    sources: readonly (WeightsSource | undefined)[],
    options: LoadOptions,
  ): Promise<GoogLeNet> {
    const graph = googlenetGraph();
    checkLoadOptions(options, graph);
    sources.forEach((weights) => checkLoadOptions({ weights }, graph));
    const inputSize = options.inputSize ?? DEFAULT_INPUT_SIZE;
    const labels = resolveLabels(options.labels);
    const expected = expectedWeights(graph, inputSize, inputSize);
    const worker = options.worker;
    // One weight set per model, each resolved only when it is not read from its packed cache. Each
    // model named by path (or found in the default locations) has its own cache entry (keyed by its
    // set's layout relative to its base: see packedLayoutKey), whatever the other models' sources.
    const weightSets: WeightSet[] = [];
    for (const source of sources) {
      const packedCache =
        options.engine !== "reference" &&
        options.packedCache !== false &&
        packedCacheOpener &&
        (source === undefined || typeof source === "string")
          ? await packedCacheOpener(source, options.cacheDir)
          : undefined;
      weightSets.push({ tensors: () => resolveWeights(source, expected, options), packedCache });
    }
    const engine =
      options.engine === "reference"
        ? new ReferenceEngine(graph, await referenceWeights(weightSets), inputSize, inputSize)
        : await WasmEngine.create(graph, weightSets, {
            build: options.build ?? "auto",
            tile: options.tile ?? "auto",
            tileStore: tileCacheOpener?.(options.cacheDir),
            inputSize,
            threads: options.threads,
            keepActivations: options.keepActivations ?? false,
            precision: options.precision ?? "strict",
            warmUp: options.warmUp ?? true,
            maxBatch: options.maxBatch,
            kernels: options.kernels,
            spawnWorker: worker && ((events) => wrapWebWorker(worker(), events, "(the worker option's worker)")),
          });
    return new GoogLeNet(engine, graph, inputSize, labels, {
      maxImagePixels: options.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS,
      scaledJpeg: options.scaledJpeg ?? true,
      resizeFilter: options.resizeFilter ?? "antialias",
    });
  }

  /**
   * How long each part of load() took and where the weights came from (undefined for the reference
   * engine); an ensemble's parts are summed over its models and weightsFrom names each model's source.
   */
  get loadTimes(): LoadTimes | undefined {
    return this.engine instanceof WasmEngine ? this.engine.loadTimes : undefined;
  }

  /** The kernel build that runs, or "reference" for the float64 TypeScript engine. */
  get build(): BuildName | "reference" {
    return this.engine.build;
  }

  /** Why this build was chosen. */
  get buildReason(): string {
    return this.engine.buildReason;
  }

  /** The GEMM register tile that runs (e.g. "6x8"), or "reference" for the float64 engine. */
  get kernel(): string {
    return this.engine.kernel;
  }

  /** Why this tile: "requested", or the load-time probe's flop-weighted GFLOP/s per tile. */
  get kernelReason(): string {
    return this.engine.kernelReason;
  }

  /** The packed conv weight layout of the running tile (a cache of packed weights must be keyed by it). */
  get packLayout(): string {
    return this.engine.packLayout;
  }

  /** Size of the running .wasm file in bytes (0 for the reference engine). */
  get wasmBytes(): number {
    return this.engine.wasmBytes;
  }

  /** Threads that run kernels. */
  get threads(): number {
    return this.engine.threads;
  }

  /** The effective thread count and why (e.g. no SharedArrayBuffer without cross-origin isolation). */
  get capabilities(): Capabilities {
    return {
      threads: this.engine.threads,
      reason: this.engine.threadReason,
      precision: this.engine.precision,
      winogradLayers: this.engine.winogradLayers,
      winogradReason: this.engine.winogradReason,
    };
  }

  /** Bytes of the shared memory (weights, activations, scratch). */
  get memoryBytes(): number {
    return this.engine.memoryBytes;
  }

  /** Weight sets: 1, or the models of an ensemble (loadEnsemble). */
  get models(): number {
    return this.engine.models;
  }

  /** Multiply-adds of one forward pass of one model. */
  get multiplyAdds(): number {
    const shapes = inferShapes(this.graph, this.inputSize, this.inputSize);
    return this.graph.nodes.reduce((sum, n) => sum + nodeMultiplyAdds(n, shapes), 0);
  }

  /** What one image costs under a crop protocol (default 1): passes, multiply-adds, weights, memory. */
  summary(crops: CropCount = 1): NetworkCost {
    checkCropCount("GoogLeNet.summary", crops);
    const shapes = inferShapes(this.graph, this.inputSize, this.inputSize);
    const parameters = this.models * this.graph.nodes.reduce((sum, n) => sum + parameterCount(n, shapes), 0);
    const passesPerImage = this.models * crops;
    return {
      models: this.models,
      crops,
      passesPerImage,
      multiplyAddsPerImage: passesPerImage * this.multiplyAdds,
      parameters,
      weightBytes: 4 * parameters,
      memoryBytes: this.engine.memoryBytesFor(crops),
    };
  }

  private serialize<T>(job: () => Promise<T>): Promise<T> {
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * How images are decoded for a crop protocol: at most maxImagePixels, and JPEGs at the smallest DCT
   * scale whose short side still covers the largest resize the protocol makes (unless scaledJpeg is off).
   */
  decodeOptions(crops: CropCount): DecodeOptions {
    const largest = crops === 144 ? 352 : RESIZE_TO; // the paper's largest scale, else the square resize
    const minShortSide = this.scaledJpeg ? Math.round((largest * this.inputSize) / CROP) : Number.POSITIVE_INFINITY;
    return { maxPixels: this.maxImagePixels, minShortSide };
  }

  private checkOpen(op: string): void {
    if (this.disposed) throw new DisposedError(op, "the network was disposed (load a new one)");
  }

  /**
   * Runs the network on one CHW input tensor (3 x inputSize x inputSize, BGR minus the mean,
   * finite values) with the weights of `model` (an ensemble's, default 0: the only one otherwise).
   * Calls are queued: concurrent callers each get their own result. Throws
   * DisposedError after dispose(), ArgumentError for any other input (naming the first
   * non-finite value) or model, ExecutionError when the outputs are not finite (weights out of range).
   */
  run(input: Float32Array, profile?: Profile, model = 0): Promise<RunResult> {
    return this.runBatch([input], profile, model).then((outputs) => outputs[0]);
  }

  /**
   * Runs the network on several input tensors (each as run() takes): up to maxBatch images go through
   * every layer together (a GEMM's pixels span the batch); each image's result has the same bits as
   * run() gives it alone. Calls are queued.
   */
  runBatch(inputs: readonly Float32Array[], profile?: Profile, model = 0): Promise<RunResult[]> {
    return this.serialize(async () => {
      this.checkOpen("GoogLeNet.run");
      if (!Array.isArray(inputs) || inputs.length === 0) {
        throw new ArgumentError("GoogLeNet.runBatch", "inputs", "a non-empty array of input tensors", describe(inputs));
      }
      inputs.forEach((input, i) =>
        this.checkTensor(input, "GoogLeNet.run", inputs.length === 1 ? "input" : `inputs[${i}]`),
      );
      const results = await this.engine.runBatch(inputs, profile, model);
      for (const result of results) {
        const bad = firstNonFinite(result.logits);
        if (bad >= 0) {
          throw new ExecutionError(
            "loss3/classifier",
            `expected finite logits, found ${result.logits[bad]} at class ${bad} (weights with values too large?)`,
          );
        }
      }
      return results;
    });
  }

  private checkTensor(input: unknown, op: string, argument = "input"): asserts input is Float32Array {
    const want = 3 * this.inputSize * this.inputSize;
    const expected = `a Float32Array of 3x${this.inputSize}x${this.inputSize} = ${want} finite values`;
    if (!(input instanceof Float32Array) || input.length !== want) {
      const found = input instanceof Float32Array ? `${input.length} values` : describe(input);
      throw new ArgumentError(op, argument, expected, found);
    }
    const bad = firstOutside(input, MAX_INPUT_MAGNITUDE);
    if (bad >= 0) {
      throw new ArgumentError(
        op,
        argument,
        `${expected} within +-${MAX_INPUT_MAGNITUDE}`,
        `${input[bad]} at index ${bad}`,
      );
    }
  }

  /**
   * A copy of tensor `name` (Caffe blob name, e.g. "inception_4c/output") from the last run,
   * CHW. Needs keepActivations (or the reference engine).
   */
  activation(name: string): Float32Array {
    const t = this.engine.activation(name);
    if (!t) throw new ArgumentError("GoogLeNet.activation", "name", "a tensor of the graph", name);
    return t;
  }

  /**
   * Turns an image into the network input (decode, resize 256, centre crop 224, BGR minus mean) with
   * the JavaScript decoders. Throws ArgumentError for a value that is none of the ImageInput kinds
   * (null, a number, a plain object, a Float64Array...), ImageError for bytes that are not a usable image.
   */
  toInput(image: Exclude<ImageInput, PlatformImage | ReadableStream>, name = "image"): Float32Array {
    if (image instanceof Float32Array) {
      this.checkTensor(image, "GoogLeNet.classify");
      return image;
    }
    return cropInputs(toRgba(image, name, this.decodeOptions(1)), 1, this.inputSize, this.resizeFilter)[0];
  }

  /**
   * The class probabilities of an image under a crop protocol (crops.ts): 1 (default) runs the centre
   * crop, 10 and 144 run every crop and average their probabilities in crop order (float64, rounded
   * once to float32); an ensemble then averages the models' crop means in model order the same way.
   * Every model runs all crops before the next model starts. A ready tensor allows only 1 crop. In
   * browsers encoded bytes and pictures are decoded by the platform.
   */
  async probabilities(image: ImageInput, options: ClassifyOptions = {}): Promise<Float32Array> {
    this.checkOpen("GoogLeNet.classify");
    const crops = checkCropCount("GoogLeNet.probabilities", options.crops ?? 1);
    if (image instanceof Float32Array && crops !== 1) {
      throw new ArgumentError("GoogLeNet.probabilities", "crops", "1 for a ready tensor", crops);
    }
    const workspace = image instanceof Float32Array ? undefined : (this.idleWorkspaces.pop() ?? new Workspace());
    try {
      const inputs = workspace
        ? cropInputs(
            await pixelsOf(image as Exclude<ImageInput, Float32Array>, options.name ?? "image", {
              ...this.decodeOptions(crops),
              workspace,
            }),
            crops,
            this.inputSize,
            this.resizeFilter,
            workspace,
          )
        : [image as Float32Array];
      const perModel: Float32Array[] = [];
      for (let model = 0; model < this.models; model++) {
        const all = (await this.runBatch(inputs, undefined, model)).map((r) => r.probabilities);
        perModel.push(all.length === 1 ? all[0] : averageProbabilities(all));
      }
      return perModel.length === 1 ? perModel[0] : averageProbabilities(perModel);
    } finally {
      if (workspace && !this.disposed && this.idleWorkspaces.length < MAX_IDLE_WORKSPACES)
        this.idleWorkspaces.push(workspace);
    }
  }

  /** The topK most probable classes of an image (options.crops: the crop protocol, see probabilities()). */
  async classify(image: ImageInput, options: ClassifyOptions = {}): Promise<Prediction[]> {
    const topK = checkTopK("GoogLeNet.classify", options.topK);
    return topClasses(await this.probabilities(image, options), topK, this.labels);
  }

  /** Frees the workers and the memory. Later calls reject. */
  dispose(): Promise<void> {
    return this.serialize(async () => {
      if (this.disposed) return;
      this.disposed = true;
      for (const workspace of this.idleWorkspaces.splice(0)) workspace.release();
      await this.engine.dispose();
      this.engine = disposedEngine(this.engine);
    });
  }
}

/** Options of classify() and probabilities(). */
export interface ClassifyOptions {
  /** How many classes classify() returns (default 5). */
  topK?: number;
  /** The crop protocol: 1 (default), 10 (BVLC) or 144 (the paper); see crops.ts. */
  crops?: CropCount;
  /** Names the image in errors. */
  name?: string;
}

function checkTopK(op: string, topK: number | undefined): number {
  const k = topK ?? 5;
  if (!Number.isInteger(k) || k < 1 || k > CLASSES)
    throw new ArgumentError(op, "topK", `an integer in 1..${CLASSES}`, k);
  return k;
}

/**
 * Decoded, validated RGBA pixels of an image given as bytes (Uint8Array, Buffer, ArrayBuffer; at most
 * maxPixels, read from the header before decoding) or pixels. ArgumentError for any other value.
 */
function toRgba(image: unknown, name: string, decode: DecodeOptions): RgbaImage {
  const isRgba =
    typeof image === "object" && image !== null && !ArrayBuffer.isView(image) && "width" in image && "data" in image;
  if (!(image instanceof Uint8Array || image instanceof ArrayBuffer || isRgba)) {
    throw new ArgumentError(
      "GoogLeNet.classify",
      "image",
      "JPEG/PNG bytes (Uint8Array, Buffer, ArrayBuffer), RGBA pixels { width, height, data } or a Float32Array tensor",
      describe(image),
    );
  }
  const rgba =
    image instanceof Uint8Array || image instanceof ArrayBuffer
      ? decodeImage(image instanceof ArrayBuffer ? new Uint8Array(image) : image, name, decode)
      : (image as RgbaImage);
  validateRgba(rgba, name);
  return rgba;
}

/**
 * Decoded, validated RGBA pixels of an image: a stream is read into bytes first (readImageStream);
 * in browsers (createImageBitmap and OffscreenCanvas present) bytes and pictures are decoded by the
 * platform, elsewhere bytes by the JavaScript decoders.
 */
async function pixelsOf(
  image: Exclude<ImageInput, Float32Array>,
  name: string,
  decode: DecodeOptions,
): Promise<RgbaImage> {
  const bytesOrImage =
    typeof ReadableStream === "function" && image instanceof ReadableStream
      ? await readImageStream(image, name, decode.maxPixels)
      : (image as Exclude<typeof image, ReadableStream>);
  const platform = isPlatformImage(bytesOrImage) || (bytesOrImage instanceof Uint8Array && platformCanDecode());
  return toRgba(platform ? await decodeWithPlatform(bytesOrImage, name) : bytesOrImage, name, decode);
}

/** The k largest probabilities with their class indices and labels, most probable first (ties: lower index first). */
export function topClasses(probabilities: Float32Array, k: number, labels: readonly string[]): Prediction[] {
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  return order.slice(0, k).map((index) => ({ index, label: labels[index], probability: probabilities[index] }));
}
