// The public GoogLeNet classifier: weights and labels in (options.ts, load.ts), an engine (wasm
// kernels or the float64 reference) planned for the input size, images in (inputs.ts), the crop
// protocol's and an ensemble's probabilities and the top-k classes out (classify.ts). Each entry
// (src/index.ts, src/node/index.ts, src/inline.ts) exports a subclass naming its Runtime, which
// load() uses: paths and caches work where the runtime has files.

import { DisposedError, ExecutionError, ArgumentError } from "../host/errors.js";
import type { Profile } from "../host/exec/executor.js";
import { disposedEngine, type Engine } from "../host/engine/engine.js";
import type { LoadTimes } from "../host/engine/packedWeights.js";
import type { Runtime } from "../host/engine/runtime.js";
import { WasmEngine } from "../host/engine/wasm.js";
import type { Graph } from "../host/ir/graph.js";
import { firstNonFinite } from "../host/ir/tensors.js";
import type { Precision } from "../host/plan/winogradLayers.js";
import type { BuildName } from "../host/wasm/kernels.js";
import type { DecodeOptions } from "../model/image/decode.js";
import type { ResizeFilter } from "../model/image/preprocess.js";
import { checkCropCount, cropInputs, type CropCount } from "../model/image/crops.js";
import type { PlatformImage } from "../model/image/platformDecode.js";
import { Workspace } from "../model/image/workspace.js";
import { choosePreprocessing, normalizeInput, type Preprocessing } from "../model/image/normalization.js";
import type { RgbaImage } from "../model/image/decode.js";
import {
  checkModel,
  checkTopK,
  ensembleProbabilities,
  networkCost,
  passMultiplyAdds,
  topClasses,
  type ClassifyOptions,
  type NetworkCost,
  type Prediction,
  type RunResult,
} from "./classify.js";
import { checkTensor, decodeOptionsFor, pixelsOf, toRgba, type ImageInput } from "./inputs.js";
import { loadEngine } from "./load.js";
import { resolveNetwork } from "./network.js";
import { describe, resolveLoadOptions, type LoadOptions, type WeightsSource } from "./options.js";

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
  /** How classify() normalizes pixels for these weights, and why (detected from the graph, or the load option). */
  preprocessing: Preprocessing;
}

/** Idle preprocessing workspaces a network keeps for its next calls (more are made while more calls overlap). */
const MAX_IDLE_WORKSPACES = 2;

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
  /** How pixels are normalized for these weights (LoadOptions.preprocessing, or detected). */
  readonly preprocessing: Preprocessing;

  /**
   * The runtime load() and loadEnsemble() use: each entry's subclass names its own (webRuntime,
   * the Node entry's nodeRuntime, the inline entry's inlineRuntime).
   */
  protected static readonly runtime: Runtime | undefined = undefined;

  protected constructor(
    engine: Engine,
    graph: Graph,
    inputSize: number,
    labels: readonly string[],
    images: { maxImagePixels: number; scaledJpeg: boolean; resizeFilter: ResizeFilter; preprocessing: Preprocessing },
  ) {
    this.preprocessing = images.preprocessing;
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
    return this.create([options.weights], options, "GoogLeNet.load");
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
    return this.create(weights, options, "GoogLeNet.loadEnsemble");
  }

  private static async create(
    this: typeof GoogLeNet,
    given: readonly (WeightsSource | undefined)[],
    options: LoadOptions,
    caller: string,
  ): Promise<GoogLeNet> {
    const runtime = this.runtime;
    if (runtime === undefined) {
      throw new TypeError(
        `${caller}: load through an entry's GoogLeNet (src/index.ts, src/node/index.ts, src/inline.ts), which names its runtime`,
      );
    }
    resolveLoadOptions(options, given, undefined, runtime); // all but the input size's fit, which needs the graph
    // The graph comes from the weights: GoogLeNet's, or an imported ONNX graph (network.ts).
    const network = await resolveNetwork(given, runtime.readModelFile);
    const { graph, sources } = network;
    const settings = resolveLoadOptions(options, sources, graph, runtime);
    const preprocessing = choosePreprocessing(settings.preprocessing, network.preprocessing);
    const engine = await loadEngine(graph, sources, settings, runtime, caller);
    return new this(engine, graph, settings.inputSize, settings.labels, { ...settings, preprocessing });
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
      preprocessing: this.preprocessing,
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
    return passMultiplyAdds(this.graph, this.inputSize);
  }

  /** What one image costs under a crop protocol (default 1): passes, multiply-adds, weights, memory. */
  summary(crops: CropCount = 1): NetworkCost {
    checkCropCount("GoogLeNet.summary", crops);
    return networkCost(this.graph, this.inputSize, this.models, crops, this.engine.memoryBytesFor(crops));
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
    return decodeOptionsFor(crops, this.inputSize, this.maxImagePixels, this.scaledJpeg);
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
        checkTensor(input, this.inputSize, "GoogLeNet.run", inputs.length === 1 ? "input" : `inputs[${i}]`),
      );
      checkModel("GoogLeNet.run", model, this.models);
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
      checkTensor(image, this.inputSize, "GoogLeNet.classify");
      return image;
    }
    return this.cropInputs(toRgba(image, name, this.decodeOptions(1)), 1)[0];
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
        ? this.cropInputs(
            await pixelsOf(image as Exclude<ImageInput, Float32Array>, options.name ?? "image", {
              ...this.decodeOptions(crops),
              workspace,
            }),
            crops,
            workspace,
          )
        : [image as Float32Array];
      return ensembleProbabilities(this.models, (model) => this.runBatch(inputs, undefined, model));
    } finally {
      if (workspace && !this.disposed && this.idleWorkspaces.length < MAX_IDLE_WORKSPACES)
        this.idleWorkspaces.push(workspace);
    }
  }

  /** The network inputs of an image's crops (crops.ts), normalized as the weights expect (normalization.ts). */
  private cropInputs(rgba: RgbaImage, crops: CropCount, workspace?: Workspace): Float32Array[] {
    const centre = this.preprocessing.name === "imagenet" ? "shortSide" : "square";
    const inputs = cropInputs(rgba, crops, this.inputSize, this.resizeFilter, workspace, centre);
    return inputs.map((input) => normalizeInput(this.preprocessing, input));
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
