// The public GoogLeNet classifier: weights and labels in, an engine (wasm kernels or the float64
// reference) planned for the input size, images in, top-k predictions out. Browser-safe: weights
// come as bytes, tensors, a URL or a stream; paths work once the Node entry (src/node/) installs
// file access.

import { ArgumentError, InceptionError, WeightsError } from "../../host/errors.js";
import type { Profile } from "../../host/exec/executor.js";
import type { Engine } from "../../host/engine/engine.js";
import { ReferenceEngine } from "../../host/engine/reference.js";
import { WasmEngine } from "../../host/engine/wasm.js";
import type { Graph } from "../../host/ir/graph.js";
import { multiplyAdds as nodeMultiplyAdds, inferShapes } from "../../host/ir/shapes.js";
import { checkTensors, expectedWeights, type ExpectedTensor, type TensorMap } from "../../host/ir/tensors.js";
import type { BuildChoice, BuildName, KernelSources } from "../../host/wasm/kernels.js";
import { wrapWebWorker } from "../../host/exec/webWorker.js";
import { decodeWeights } from "../formats/detect.js";
import { decodeImage, validateRgba, type RgbaImage } from "../image/decode.js";
import { averageProbabilities, checkCropCount, cropInputs, type CropCount } from "../image/crops.js";
import { decodeWithPlatform, isPlatformImage, platformCanDecode, type PlatformImage } from "../image/platformDecode.js";
import { ILSVRC2012_CLASSES } from "../network/classes.js";
import { CLASSES, DEFAULT_INPUT_SIZE, googlenetGraph } from "../network/googlenet.js";
import { isRemoteWeights, readRemoteWeights, type RemoteWeights, type WeightsFetchOptions } from "./weightSources.js";

/**
 * Where the weights come from: weight-file bytes (caffemodel, ONNX, IWNET), tensors, a URL, a
 * Response, ReadableStream, Blob or anything with arrayBuffer() (an R2 object); a string is a
 * path with the Node entry and a URL (against the page) without it.
 */
export type WeightsSource = string | Uint8Array | ArrayBuffer | TensorMap | RemoteWeights;

/**
 * Resolves a weights path (or no weights option: the default locations) to tensors; the Node entry
 * installs one with installWeightFiles. Without it only bytes and tensors are accepted.
 */
export type WeightFiles = (
  source: string | undefined,
  expected: readonly ExpectedTensor[],
  cacheDir?: string,
) => Promise<TensorMap>;

let weightFiles: WeightFiles | undefined;

/** Installs the file-system weight lookup (called once by the Node entry). */
export function installWeightFiles(files: WeightFiles): void {
  weightFiles = files;
}

export interface LoadOptions {
  /** Default: found by src/node/lookup.ts ($INCEPTION_WASM_WEIGHTS, the user cache, a checkout's data folder). */
  weights?: WeightsSource;
  /** The 1000 class names; default: the ILSVRC-2012 names shipped with the package. */
  labels?: readonly string[];
  /** Kernel build (default "auto": relaxed SIMD where validated, else baseline). */
  build?: BuildChoice;
  /** Square input side the network is planned for (default 224; Caffe's reference blobs use 227). */
  inputSize?: number;
  /** Keep every activation readable after run() (no memory reuse); needed by activation(). */
  keepActivations?: boolean;
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
   * Threads that run kernels, the calling thread included (default: the available cores).
   * Where the runtime has no shared memory, Atomics.wait or workers, or the pool cannot start,
   * 1 (see `capabilities`).
   */
  threads?: number;
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

/** The threads a network runs with and why. */
export interface Capabilities {
  threads: number;
  reason: string;
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
 * Input to classify(): encoded image bytes, RGBA pixels (ImageData), a ready CHW tensor (BGR,
 * mean subtracted), or in browsers a Blob, ImageBitmap, <img>, <canvas>, OffscreenCanvas or VideoFrame.
 */
export type ImageInput = Uint8Array | RgbaImage | Float32Array | PlatformImage;

async function resolveWeights(
  source: WeightsSource | undefined,
  expected: readonly ExpectedTensor[],
  options: LoadOptions,
): Promise<TensorMap> {
  if (typeof source === "string" && !weightFiles) {
    source = new URL(source, (globalThis as { location?: { href?: string } }).location?.href);
  }
  if (isRemoteWeights(source)) {
    const name = source instanceof URL ? source.href : "weights option";
    const tensors = await decodeWeights(await readRemoteWeights(source, options.weightsFetch), name, googlenetGraph());
    checkTensors(tensors, expected, name);
    return tensors;
  }
  if (source instanceof Map) {
    checkTensors(source, expected, "weights option");
    return source;
  }
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const file = "weights option (bytes)";
    const tensors = await decodeWeights(
      source instanceof Uint8Array ? source : new Uint8Array(source),
      file,
      googlenetGraph(),
    );
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
  return weightFiles(source, expected, options.cacheDir);
}

function resolveLabels(labels: readonly string[] | undefined): readonly string[] {
  if (labels === undefined) return ILSVRC2012_CLASSES;
  if (!Array.isArray(labels) || labels.length !== CLASSES || labels.some((l) => typeof l !== "string")) {
    throw new ArgumentError(
      "GoogLeNet.load",
      "labels",
      `${CLASSES} class names`,
      Array.isArray(labels) ? `${labels.length} entries` : typeof labels,
    );
  }
  return labels;
}

/** GoogLeNet (BVLC weights) on WebAssembly SIMD kernels (or the float64 reference engine). */
export class GoogLeNet {
  readonly inputSize: number;
  readonly labels: readonly string[];
  readonly graph: Graph;
  private readonly engine: Engine;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(engine: Engine, graph: Graph, inputSize: number, labels: readonly string[]) {
    this.engine = engine;
    this.graph = graph;
    this.inputSize = inputSize;
    this.labels = labels;
  }

  /** Loads weights, labels and kernels and plans the network for inputSize x inputSize. */
  static async load(options: LoadOptions = {}): Promise<GoogLeNet> {
    const inputSize = options.inputSize ?? DEFAULT_INPUT_SIZE;
    if (!Number.isInteger(inputSize) || inputSize < 1)
      throw new ArgumentError("GoogLeNet.load", "inputSize", "a positive integer", inputSize);
    const graph = googlenetGraph();
    const labels = resolveLabels(options.labels);
    const weights = await resolveWeights(options.weights, expectedWeights(graph, inputSize, inputSize), options);
    const worker = options.worker;
    const engine =
      options.engine === "reference"
        ? new ReferenceEngine(graph, weights, inputSize, inputSize)
        : await WasmEngine.create(graph, weights, {
            build: options.build ?? "auto",
            inputSize,
            threads: options.threads,
            keepActivations: options.keepActivations ?? false,
            warmUp: options.warmUp ?? true,
            maxBatch: options.maxBatch,
            kernels: options.kernels,
            spawnWorker: worker && ((events) => wrapWebWorker(worker(), events, "(the worker option's worker)")),
          });
    return new GoogLeNet(engine, graph, inputSize, labels);
  }

  /** The kernel build that runs, or "reference" for the float64 TypeScript engine. */
  get build(): BuildName | "reference" {
    return this.engine.build;
  }

  /** Why this build was chosen. */
  get buildReason(): string {
    return this.engine.buildReason;
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
    return { threads: this.engine.threads, reason: this.engine.threadReason };
  }

  /** Bytes of the shared memory (weights, activations, scratch). */
  get memoryBytes(): number {
    return this.engine.memoryBytes;
  }

  /** Multiply-adds of one forward pass. */
  get multiplyAdds(): number {
    const shapes = inferShapes(this.graph, this.inputSize, this.inputSize);
    return this.graph.nodes.reduce((sum, n) => sum + nodeMultiplyAdds(n, shapes), 0);
  }

  private serialize<T>(job: () => Promise<T>): Promise<T> {
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private checkOpen(op: string): void {
    if (this.disposed) throw new InceptionError("E_DISPOSED", `${op}: the network was disposed`);
  }

  /**
   * Runs the network on one CHW input tensor (3 x inputSize x inputSize, BGR minus the mean).
   * Calls are queued: concurrent callers each get their own result.
   */
  run(input: Float32Array, profile?: Profile): Promise<RunResult> {
    return this.runBatch([input], profile).then((outputs) => outputs[0]);
  }

  /**
   * Runs the network on several input tensors (each as run() takes): up to maxBatch images go through
   * every layer together (a GEMM's pixels span the batch); each image's result has the same bits as
   * run() gives it alone. Calls are queued.
   */
  runBatch(inputs: readonly Float32Array[], profile?: Profile): Promise<RunResult[]> {
    return this.serialize(async () => {
      this.checkOpen("run");
      const want = 3 * this.inputSize * this.inputSize;
      if (!Array.isArray(inputs) || inputs.length === 0) {
        throw new ArgumentError("GoogLeNet.runBatch", "inputs", "a non-empty array of input tensors", inputs);
      }
      inputs.forEach((input, i) => {
        if (!(input instanceof Float32Array) || input.length !== want) {
          throw new ArgumentError(
            "GoogLeNet.run",
            inputs.length === 1 ? "input" : `inputs[${i}]`,
            `a Float32Array of 3x${this.inputSize}x${this.inputSize} = ${want} values`,
            input instanceof Float32Array ? `${input.length} values` : typeof input,
          );
        }
      });
      return this.engine.runBatch(inputs, profile);
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

  /** Turns an image into the network input (decode, resize 256, centre crop 224, BGR minus mean). */
  toInput(image: Uint8Array | RgbaImage | Float32Array, name = "image"): Float32Array {
    if (image instanceof Float32Array) return image;
    return cropInputs(toRgba(image, name), 1, this.inputSize)[0];
  }

  /**
   * The class probabilities of an image under a crop protocol (crops.ts): 1 (default) runs the centre
   * crop, 10 and 144 run every crop and average their probabilities in crop order. A ready tensor
   * allows only 1 crop. In browsers encoded bytes and pictures are decoded by the platform.
   */
  async probabilities(image: ImageInput, options: ClassifyOptions = {}): Promise<Float32Array> {
    const crops = checkCropCount("GoogLeNet.probabilities", options.crops ?? 1);
    if (image instanceof Float32Array) {
      if (crops !== 1) throw new ArgumentError("GoogLeNet.probabilities", "crops", "1 for a ready tensor", crops);
      return (await this.run(image)).probabilities;
    }
    const inputs = cropInputs(await pixelsOf(image, options.name ?? "image"), crops, this.inputSize);
    const all = (await this.runBatch(inputs)).map((r) => r.probabilities);
    return crops === 1 ? all[0] : averageProbabilities(all);
  }

  /** The topK most probable classes of an image (options.crops: the crop protocol, see probabilities()). */
  async classify(image: ImageInput, options: ClassifyOptions = {}): Promise<Prediction[]> {
    const topK = checkTopK("GoogLeNet.classify", options.topK);
    return topClasses(await this.probabilities(image, options), topK, this.labels);
  }

  /**
   * Several GoogLeNet-compatible weight sets (any format load() reads) as one classifier whose
   * probabilities are the mean of the members' (in the given order, float64).
   */
  static async loadEnsemble(
    weights: readonly WeightsSource[],
    options: Omit<LoadOptions, "weights"> = {},
  ): Promise<GoogLeNetEnsemble> {
    if (!Array.isArray(weights) || weights.length === 0) {
      throw new ArgumentError("GoogLeNet.loadEnsemble", "weights", "a non-empty array of weight sources", weights);
    }
    const members: GoogLeNet[] = [];
    try {
      for (const w of weights) members.push(await GoogLeNet.load({ ...options, weights: w }));
    } catch (error) {
      await Promise.all(members.map((m) => m.dispose()));
      throw error;
    }
    return new GoogLeNetEnsemble(members);
  }

  /** Frees the workers and the memory. Later calls reject. */
  dispose(): Promise<void> {
    return this.serialize(async () => {
      if (this.disposed) return;
      this.disposed = true;
      await this.engine.dispose();
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

/** Decoded, validated RGBA pixels of an image given as bytes or pixels. */
function toRgba(image: Uint8Array | RgbaImage, name: string): RgbaImage {
  const rgba = image instanceof Uint8Array ? decodeImage(image, name) : image;
  validateRgba(rgba, name);
  return rgba;
}

/**
 * Decoded, validated RGBA pixels of an image: in browsers (createImageBitmap and OffscreenCanvas
 * present) bytes and pictures are decoded by the platform, elsewhere bytes by the JavaScript decoders.
 */
async function pixelsOf(image: Exclude<ImageInput, Float32Array>, name: string): Promise<RgbaImage> {
  const platform = isPlatformImage(image) || (image instanceof Uint8Array && platformCanDecode());
  const decoded = platform ? await decodeWithPlatform(image, name) : image;
  return toRgba(decoded as Uint8Array | RgbaImage, name);
}

/** GoogLeNets with different weights whose probabilities are averaged (GoogLeNet.loadEnsemble). */
export class GoogLeNetEnsemble {
  readonly members: readonly GoogLeNet[];

  constructor(members: readonly GoogLeNet[]) {
    this.members = members;
  }

  /** Labels of the first member. */
  get labels(): readonly string[] {
    return this.members[0].labels;
  }

  /** Multiply-adds of one forward pass of every member (one crop). */
  get multiplyAdds(): number {
    return this.members.reduce((sum, m) => sum + m.multiplyAdds, 0);
  }

  /** Bytes of the members' memories (weights, activations, scratch). */
  get memoryBytes(): number {
    return this.members.reduce((sum, m) => sum + m.memoryBytes, 0);
  }

  /** The mean over members (in order, float64) of each member's crop-averaged probabilities. */
  async probabilities(image: ImageInput, options: ClassifyOptions = {}): Promise<Float32Array> {
    const rgba = image instanceof Float32Array ? image : await pixelsOf(image, options.name ?? "image");
    const all: Float32Array[] = [];
    for (const m of this.members) all.push(await m.probabilities(rgba, options));
    return this.members.length === 1 ? all[0] : averageProbabilities(all);
  }

  /** The topK most probable classes of the ensemble. */
  async classify(image: ImageInput, options: ClassifyOptions = {}): Promise<Prediction[]> {
    const topK = checkTopK("GoogLeNetEnsemble.classify", options.topK);
    return topClasses(await this.probabilities(image, options), topK, this.labels);
  }

  /** Disposes every member. */
  async dispose(): Promise<void> {
    await Promise.all(this.members.map((m) => m.dispose()));
  }
}

/** The k largest probabilities with their class indices and labels, most probable first (ties: lower index first). */
export function topClasses(probabilities: Float32Array, k: number, labels: readonly string[]): Prediction[] {
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  return order.slice(0, k).map((index) => ({ index, label: labels[index], probability: probabilities[index] }));
}
