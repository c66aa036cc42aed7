// The public GoogLeNet classifier: weights and labels in, an engine (wasm kernels or the float64
// reference) planned for the input size, images in, top-k predictions out. Browser-safe: weights
// come as bytes or tensors; paths work once the Node entry (src/node/) installs file access.

import { ArgumentError, DisposedError, ExecutionError, WeightsError } from "../../host/errors.js";
import type { Profile } from "../../host/exec/executor.js";
import type { Engine } from "../../host/engine/engine.js";
import { ReferenceEngine } from "../../host/engine/reference.js";
import { checkThreads, WasmEngine } from "../../host/engine/wasm.js";
import type { Graph } from "../../host/ir/graph.js";
import { multiplyAdds as nodeMultiplyAdds, inferShapes } from "../../host/ir/shapes.js";
import {
  checkTensors,
  expectedWeights,
  firstNonFinite,
  type ExpectedTensor,
  type TensorMap,
} from "../../host/ir/tensors.js";
import type { BuildChoice, BuildName } from "../../host/wasm/kernels.js";
import { decodeWeights } from "../formats/detect.js";
import { DEFAULT_MAX_IMAGE_PIXELS, decodeImage, validateRgba, type RgbaImage } from "../image/decode.js";
import { CROP, RESIZE_TO, toNetworkInput } from "../image/preprocess.js";
import { ILSVRC2012_CLASSES } from "../network/classes.js";
import { CLASSES, DEFAULT_INPUT_SIZE, googlenetGraph } from "../network/googlenet.js";

/** Where the weights come from: weight-file bytes (caffemodel, ONNX, IWNET), tensors, or a path (with the Node entry). */
export type WeightsSource = string | Uint8Array | ArrayBuffer | ArrayBufferView | TensorMap;

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
   * Warm up before load() resolves (default true), so the first run() is as fast as later
   * ones: short calls of every kernel until the engine has optimised them (10-25 ms), then on
   * one thread the memory's pages are mapped (5 ms), on several one run of the pool (about
   * one inference). With false, load() is that much faster and the first run that much slower.
   */
  warmUp?: boolean;
  /** The user cache: fetched weights, converted MAT folders (default: userCacheDir() of src/node/userCache.ts). */
  cacheDir?: string;
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
 * Input to classify(): encoded JPEG/PNG bytes (a Uint8Array, Node Buffer or ArrayBuffer), RGBA
 * pixels, or a ready CHW tensor (Float32Array, BGR, mean subtracted; finite values only).
 */
export type ImageInput = Uint8Array | ArrayBuffer | RgbaImage | Float32Array;

const LOAD = "GoogLeNet.load";

/**
 * Largest magnitude accepted in an input tensor: a preprocessed image lies within +-255, so
 * anything near this is not an image and would only overflow the activations.
 */
export const MAX_INPUT_MAGNITUDE = 1e6;
const BUILDS: readonly BuildChoice[] = ["auto", "baseline", "relaxed", "debug"];

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
  const { inputSize, build, engine, maxImagePixels, weights } = options;
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
  if (build !== undefined && !BUILDS.includes(build))
    throw new ArgumentError(LOAD, "build", BUILDS.map((b) => `"${b}"`).join(", "), describe(build));
  if (engine !== undefined && engine !== "wasm" && engine !== "reference")
    throw new ArgumentError(LOAD, "engine", `"wasm" or "reference"`, describe(engine));
  if (maxImagePixels !== undefined && !(Number.isInteger(maxImagePixels) && maxImagePixels >= 1))
    throw new ArgumentError(LOAD, "maxImagePixels", "a positive integer", describe(maxImagePixels));
  if (
    weights !== undefined &&
    typeof weights !== "string" &&
    !(weights instanceof Map) &&
    !(weights instanceof ArrayBuffer) &&
    !ArrayBuffer.isView(weights)
  ) {
    throw new ArgumentError(
      LOAD,
      "weights",
      "a path, weight-file bytes (Uint8Array, Buffer, ArrayBuffer) or a Map of tensors",
      describe(weights),
    );
  }
}

async function resolveWeights(
  source: WeightsSource | undefined,
  expected: readonly ExpectedTensor[],
  cacheDir?: string,
): Promise<TensorMap> {
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
  return weightFiles(source, expected, cacheDir);
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

/** GoogLeNet (BVLC weights) on WebAssembly SIMD kernels (or the float64 reference engine). */
export class GoogLeNet {
  readonly inputSize: number;
  readonly labels: readonly string[];
  readonly graph: Graph;
  private readonly engine: Engine;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  /** Largest image classify() decodes, in pixels. */
  readonly maxImagePixels: number;

  private constructor(
    engine: Engine,
    graph: Graph,
    inputSize: number,
    labels: readonly string[],
    maxImagePixels: number,
  ) {
    this.engine = engine;
    this.graph = graph;
    this.inputSize = inputSize;
    this.labels = labels;
    this.maxImagePixels = maxImagePixels;
  }

  /**
   * Loads weights, labels and kernels and plans the network for inputSize x inputSize. Every
   * option is checked (type and range: ArgumentError) before any file is read or thread started.
   */
  static async load(options: LoadOptions = {}): Promise<GoogLeNet> {
    const graph = googlenetGraph();
    checkLoadOptions(options, graph);
    const inputSize = options.inputSize ?? DEFAULT_INPUT_SIZE;
    const labels = resolveLabels(options.labels);
    const weights = await resolveWeights(
      options.weights,
      expectedWeights(graph, inputSize, inputSize),
      options.cacheDir,
    );
    const engine =
      options.engine === "reference"
        ? new ReferenceEngine(graph, weights, inputSize, inputSize)
        : await WasmEngine.create(graph, weights, {
            build: options.build ?? "auto",
            inputSize,
            threads: options.threads,
            keepActivations: options.keepActivations ?? false,
            warmUp: options.warmUp ?? true,
          });
    return new GoogLeNet(engine, graph, inputSize, labels, options.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS);
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
    if (this.disposed) throw new DisposedError(op, "the network was disposed (load a new one)");
  }

  /**
   * Runs the network on one CHW input tensor (3 x inputSize x inputSize, BGR minus the mean,
   * finite values). Calls are queued: concurrent callers each get their own result. Throws
   * DisposedError after dispose(), ArgumentError for any other input (naming the first
   * non-finite value), ExecutionError when the outputs are not finite (weights out of range).
   */
  run(input: Float32Array, profile?: Profile): Promise<RunResult> {
    return this.serialize(async () => {
      this.checkOpen("GoogLeNet.run");
      this.checkTensor(input, "GoogLeNet.run");
      const result = await this.engine.run(input, profile);
      const bad = firstNonFinite(result.logits);
      if (bad >= 0) {
        throw new ExecutionError(
          "loss3/classifier",
          `expected finite logits, found ${result.logits[bad]} at class ${bad} (weights with values too large?)`,
        );
      }
      return result;
    });
  }

  private checkTensor(input: unknown, op: string): asserts input is Float32Array {
    const want = 3 * this.inputSize * this.inputSize;
    const expected = `a Float32Array of 3x${this.inputSize}x${this.inputSize} = ${want} finite values`;
    if (!(input instanceof Float32Array) || input.length !== want) {
      const found = input instanceof Float32Array ? `${input.length} values` : describe(input);
      throw new ArgumentError(op, "input", expected, found);
    }
    const bad = input.findIndex((v) => !(Math.abs(v) <= MAX_INPUT_MAGNITUDE));
    if (bad >= 0) {
      throw new ArgumentError(
        op,
        "input",
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
   * Turns an image into the network input (decode, resize 256, centre crop 224, BGR minus mean).
   * Throws ArgumentError for a value that is none of the ImageInput kinds (null, a number, a
   * plain object, a Float64Array...), ImageError for bytes that are not a usable image.
   */
  toInput(image: ImageInput, name = "image"): Float32Array {
    const op = "GoogLeNet.classify";
    if (image instanceof Float32Array) {
      this.checkTensor(image, op);
      return image;
    }
    const isRgba =
      typeof image === "object" && image !== null && !ArrayBuffer.isView(image) && "width" in image && "data" in image;
    if (!(image instanceof Uint8Array || image instanceof ArrayBuffer || isRgba)) {
      throw new ArgumentError(
        op,
        "image",
        "JPEG/PNG bytes (Uint8Array, Buffer, ArrayBuffer), RGBA pixels { width, height, data } or a Float32Array tensor",
        describe(image),
      );
    }
    const rgba =
      image instanceof Uint8Array || image instanceof ArrayBuffer
        ? decodeImage(image instanceof ArrayBuffer ? new Uint8Array(image) : image, name, {
            maxPixels: this.maxImagePixels,
          })
        : (image as RgbaImage);
    validateRgba(rgba, name);
    const resize = Math.round((this.inputSize * RESIZE_TO) / CROP);
    return toNetworkInput(rgba, { resize, crop: this.inputSize });
  }

  /** The topK most probable classes of an image. */
  async classify(image: ImageInput, options: { topK?: number; name?: string } = {}): Promise<Prediction[]> {
    this.checkOpen("GoogLeNet.classify");
    const topK = options.topK ?? 5;
    if (!Number.isInteger(topK) || topK < 1 || topK > CLASSES) {
      throw new ArgumentError("GoogLeNet.classify", "topK", `an integer in 1..${CLASSES}`, topK);
    }
    const { probabilities } = await this.run(this.toInput(image, options.name));
    return topClasses(probabilities, topK, this.labels);
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

/** The k largest probabilities with their class indices and labels, most probable first (ties: lower index first). */
export function topClasses(probabilities: Float32Array, k: number, labels: readonly string[]): Prediction[] {
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  return order.slice(0, k).map((index) => ({ index, label: labels[index], probability: probabilities[index] }));
}
