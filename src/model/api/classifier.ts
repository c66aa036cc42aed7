// The public GoogLeNet classifier: load weights and kernels, plan the network, run it,
// and turn images into top-k predictions.

import { ArgumentError, InceptionError } from "../../host/errors.js";
import { SerialExecutor, type Executor, type Profile } from "../../host/exec/executor.js";
import type { Graph } from "../../host/ir/graph.js";
import {
  compileKernels, createSharedMemory, instantiateKernels, warmUpKernels, type BuildChoice, type BuildName,
} from "../../host/wasm/kernels.js";
import { threadSupport, WorkerPool } from "../../host/exec/pool.js";
import { planGraph, writeWeights, type Plan } from "../../host/plan/plan.js";
import { runReferenceGraph } from "../../host/engine/reference.js";
import { hasFileSystem } from "../../host/runtime.js";
import { multiplyAdds } from "../../host/ir/shapes.js";
import { CLASSES, DEFAULT_INPUT_SIZE, googlenetGraph } from "../network/googlenet.js";
import { decodeImage, validateRgba, type RgbaImage } from "../image/decode.js";
import { CROP, RESIZE_TO, toNetworkInput } from "../image/preprocess.js";
import { decodeWeightFile } from "../formats/iwnet.js";
import { checkTensors, expectedWeights, type TensorMap } from "../../host/ir/tensors.js";

/** Where the weights come from: a path (MAT folder or .iwnet file; Node, Deno, Bun), IWNET bytes, or tensors. */
export type WeightsSource = string | Uint8Array | TensorMap;

export interface LoadOptions {
  /** Default: the data folder (see weightSource.ts: option, $INCEPTION_WASM_DATA, ../shared/googlenet). */
  weights?: WeightsSource;
  /** The 1000 class names; default: labels.txt of the data folder. */
  labels?: string[];
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
  /** Folder for the converted-weights cache (default: $INCEPTION_WASM_CACHE, else <project>/.cache). */
  cacheDir?: string;
  /**
   * Threads that run kernels, the calling thread included (default: the available cores).
   * Where the runtime has no shared memory, Atomics.wait or workers, 1 (see `capabilities`).
   */
  threads?: number;
}

/** The threads a network runs with and why. */
export interface Capabilities { threads: number; reason: string }

let warnedNoThreads = false;

/** Threads to use: the requested count, or the cores; 1 (with a warning, once) when threads are unavailable. */
async function chooseThreads(requested: number | undefined): Promise<Capabilities> {
  if (requested !== undefined && !(Number.isInteger(requested) && requested >= 1)) {
    throw new ArgumentError("GoogLeNet.load", "threads", "a positive integer", requested);
  }
  if (requested === 1) return { threads: 1, reason: "1 thread requested" };
  const support = await threadSupport();
  if (!support.available) {
    if (!warnedNoThreads && (requested ?? support.cores) > 1) {
      warnedNoThreads = true;
      console.warn(`inception-wasm: running on 1 thread: ${support.reason}`);
    }
    return { threads: 1, reason: support.reason };
  }
  if (requested === undefined) return { threads: support.maxThreads, reason: `default: ${support.reason}` };
  return {
    threads: requested,
    reason: requested > support.cores ? `${requested} requested, more than the ${support.cores} core(s): threads wait instead of spinning` : `${requested} requested`,
  };
}

/** One class of a classification. */
export interface Prediction { index: number; label: string; probability: number }

/** The network's outputs for one input: logits (loss3/classifier) and softmax probabilities. */
export interface RunResult { logits: Float32Array; probabilities: Float32Array }

/** Input to classify(): encoded JPEG/PNG bytes, RGBA pixels, or a ready CHW tensor (BGR, mean subtracted). */
export type ImageInput = Uint8Array | RgbaImage | Float32Array;

async function resolveWeights(source: WeightsSource | undefined, expected: { name: string; shape: number[] }[], cacheDir?: string):
  Promise<TensorMap> {
  if (source instanceof Map) {
    checkTensors(source, expected, "weights option");
    return source;
  }
  if (source instanceof Uint8Array) {
    const tensors = await decodeWeightFile(source, "weights option (IWNET bytes)");
    checkTensors(tensors, expected, "weights option (IWNET bytes)");
    return tensors;
  }
  if (!hasFileSystem()) {
    throw new ArgumentError("GoogLeNet.load", "weights", "IWNET bytes or tensors in a runtime without a file system", source ?? "nothing");
  }
  const { loadWeights } = await import("../../node/weights.js");
  return (await loadWeights({ source, cacheDir, expected })).tensors;
}

async function resolveLabels(labels: string[] | undefined, weights: WeightsSource | undefined): Promise<string[]> {
  if (labels) {
    if (labels.length !== CLASSES) throw new ArgumentError("GoogLeNet.load", "labels", `${CLASSES} class names`, labels.length);
    return labels;
  }
  if (!hasFileSystem()) throw new ArgumentError("GoogLeNet.load", "labels", `${CLASSES} class names in a runtime without a file system`, "none");
  const { resolveDataDir } = await import("../../node/weights.js");
  const { readLabelsFile } = await import("../network/labels.js");
  const { join } = await import("node:path");
  const { stat } = await import("node:fs/promises");
  const dir = typeof weights === "string" && (await stat(weights).catch(() => undefined))?.isDirectory()
    ? weights : resolveDataDir();
  return readLabelsFile(join(dir, "labels.txt"));
}

/** Writes every 4 KiB page of `memory` (its own values back) so the OS maps them now, not in the first run. */
function touchPages(memory: WebAssembly.Memory): void {
  const words = new Int32Array(memory.buffer);
  for (let i = 0; i < words.length; i += 1024) words[i] |= 0;
}

/** GoogLeNet (BVLC weights) on WebAssembly SIMD kernels. */
export class GoogLeNet {
  /** The kernel build that runs, or "reference" for the float64 TypeScript engine. */
  readonly build: BuildName | "reference";
  /** Why this build was chosen. */
  readonly buildReason: string;
  /** Size of the running .wasm file in bytes (0 for the reference engine). */
  readonly wasmBytes: number;
  readonly inputSize: number;
  readonly labels: readonly string[];
  readonly graph: Graph;
  private readonly plan: Plan | undefined;
  private readonly memory: WebAssembly.Memory | undefined;
  private readonly executor: Executor | undefined;
  private readonly weights: TensorMap | undefined;
  private readonly threadChoice: Capabilities;
  private referenceTensors: Map<string, Float64Array> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(fields: {
    build: BuildName | "reference"; buildReason: string; wasmBytes: number; inputSize: number; labels: string[]; graph: Graph;
    plan?: Plan; memory?: WebAssembly.Memory; executor?: Executor; weights?: TensorMap; capabilities: Capabilities;
  }) {
    this.build = fields.build;
    this.buildReason = fields.buildReason;
    this.wasmBytes = fields.wasmBytes;
    this.inputSize = fields.inputSize;
    this.labels = fields.labels;
    this.graph = fields.graph;
    this.plan = fields.plan;
    this.memory = fields.memory;
    this.executor = fields.executor;
    this.weights = fields.weights;
    this.threadChoice = fields.capabilities;
  }

  /** Loads weights, labels and kernels and plans the network for inputSize x inputSize. */
  static async load(options: LoadOptions = {}): Promise<GoogLeNet> {
    const inputSize = options.inputSize ?? DEFAULT_INPUT_SIZE;
    if (!Number.isInteger(inputSize) || inputSize < 1) throw new ArgumentError("GoogLeNet.load", "inputSize", "a positive integer", inputSize);
    const graph = googlenetGraph();
    const expected = expectedWeights(graph, inputSize, inputSize);
    const weights = await resolveWeights(options.weights, expected, options.cacheDir);
    const labels = await resolveLabels(options.labels, options.weights);
    if (options.engine === "reference") {
      return new GoogLeNet({ build: "reference", buildReason: "requested", wasmBytes: 0, inputSize, labels, graph, weights,
        capabilities: { threads: 1, reason: "the reference engine runs on the calling thread" } });
    }
    const capabilities = await chooseThreads(options.threads);
    const threads = capabilities.threads;
    const compiled = await compileKernels(options.build ?? "auto");
    // Plan with a throwaway instance (size queries only), then size the real memory from the plan.
    const probe = instantiateKernels(compiled.module, createSharedMemory(65536, 65536));
    const plan = planGraph(graph, probe, { height: inputSize, width: inputSize, lanes: threads, keepAll: options.keepActivations ?? false });
    const memory = createSharedMemory(plan.memoryBytes, plan.memoryBytes);
    const kernels = instantiateKernels(compiled.module, memory);
    writeWeights(graph, plan, weights, kernels, memory);
    const executor = threads > 1 ? await WorkerPool.create(compiled.module, memory, threads) : new SerialExecutor(kernels);
    if (options.warmUp ?? true) {
      // Every kernel out of the engine's baseline tier (short calls, see warmUpKernels); then
      // the pool's first run (schedule sent, its JavaScript compiled: about 15-35 ms of a cold
      // first run on 2 threads) or, on one thread, the memory's pages mapped.
      warmUpKernels(compiled.module);
      if (threads > 1) await executor.run(plan);
      else touchPages(memory);
    }
    return new GoogLeNet({
      build: compiled.build, buildReason: compiled.reason, wasmBytes: compiled.bytes, inputSize, labels, graph,
      plan, memory, executor, capabilities,
    });
  }

  /** Threads that run kernels. */
  get threads(): number {
    return this.executor?.threads ?? 1;
  }

  /** The effective thread count and why (e.g. no SharedArrayBuffer without cross-origin isolation). */
  get capabilities(): Capabilities {
    return { threads: this.threads, reason: this.threadChoice.reason };
  }

  /** Bytes of the shared memory (weights, activations, scratch). */
  get memoryBytes(): number {
    return this.memory?.buffer.byteLength ?? 0;
  }

  /** Multiply-adds of one forward pass. */
  get multiplyAdds(): number {
    const shapes = this.plan?.shapes;
    if (!shapes) return 0;
    return this.graph.nodes.reduce((sum, n) => sum + multiplyAdds(n, shapes), 0);
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
    return this.serialize(async () => {
      this.checkOpen("run");
      const want = 3 * this.inputSize * this.inputSize;
      if (!(input instanceof Float32Array) || input.length !== want) {
        throw new ArgumentError("GoogLeNet.run", "input", `a Float32Array of 3x${this.inputSize}x${this.inputSize} = ${want} values`,
          input instanceof Float32Array ? `${input.length} values` : typeof input);
      }
      if (this.build === "reference") {
        this.referenceTensors = runReferenceGraph(this.graph, this.weights!, input, this.inputSize, this.inputSize);
        return {
          logits: Float32Array.from(this.referenceTensors.get(this.graph.logits)!),
          probabilities: Float32Array.from(this.referenceTensors.get(this.graph.probabilities)!),
        };
      }
      const plan = this.plan!;
      const buffer = this.memory!.buffer;
      new Float32Array(buffer, plan.input.ptr, want).set(input);
      await this.executor!.run(plan, profile);
      return {
        logits: new Float32Array(buffer, plan.logits.ptr, CLASSES).slice(),
        probabilities: new Float32Array(buffer, plan.probabilities.ptr, CLASSES).slice(),
      };
    });
  }

  /**
   * A copy of tensor `name` (Caffe blob name, e.g. "inception_4c/output") from the last run,
   * CHW. Needs keepActivations (or the reference engine).
   */
  activation(name: string): Float32Array {
    if (this.referenceTensors) {
      const t = this.referenceTensors.get(name);
      if (!t) throw new ArgumentError("GoogLeNet.activation", "name", "a tensor of the graph", name);
      return Float32Array.from(t);
    }
    const place = this.plan?.tensors.get(name);
    if (!place) throw new ArgumentError("GoogLeNet.activation", "name", "a tensor of the graph", name);
    const { c, h, w } = place.shape;
    return new Float32Array(this.memory!.buffer, place.ptr, c * h * w).slice();
  }

  /** Turns an image into the network input (decode, resize 256, centre crop 224, BGR minus mean). */
  toInput(image: ImageInput, name = "image"): Float32Array {
    if (image instanceof Float32Array) return image;
    const rgba = image instanceof Uint8Array ? decodeImage(image, name) : image;
    validateRgba(rgba, name);
    const resize = Math.round((this.inputSize * RESIZE_TO) / CROP);
    return toNetworkInput(rgba, { resize, crop: this.inputSize });
  }

  /** The topK most probable classes of an image. */
  async classify(image: ImageInput, options: { topK?: number; name?: string } = {}): Promise<Prediction[]> {
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
      await this.executor?.dispose();
    });
  }
}

/** The k largest probabilities with their class indices and labels, most probable first (ties: lower index first). */
export function topClasses(probabilities: Float32Array, k: number, labels: readonly string[]): Prediction[] {
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  return order.slice(0, k).map((index) => ({ index, label: labels[index], probability: probabilities[index] }));
}
