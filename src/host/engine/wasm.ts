// The wasm engine: compiles a kernel build, plans the graph onto one shared memory, writes the
// weights (conv weights packed once; an ensemble's weight sets side by side), and runs the plan on
// the serial executor (1 thread) or the worker pool, after one warm-up pass.

import { ArgumentError, DisposedError } from "../errors.js";
import { SerialExecutor, type Executor, type Profile } from "../exec/executor.js";
import { threadSupport, WorkerPool } from "../exec/threadPool.js";
import { MAX_POOL_THREADS } from "../exec/protocol.js";
import type { Graph } from "../ir/graph.js";
import { applyInputTransform } from "../ir/preamble.js";
import type { TensorMap } from "../ir/tensors.js";
import { planGraph, type Plan, type TensorPlace, type WeightFeed } from "../plan/plan.js";
import type { Precision } from "../plan/winogradLayers.js";
import {
  compileKernels,
  createSharedMemory,
  instantiateKernels,
  releaseScratch,
  releaseSharedMemory,
  scratchKernels,
  warmUpKernels,
  type BuildChoice,
  type BuildName,
  type KernelSources,
} from "../wasm/kernels.js";
import { chooseTileFor, type ChosenTile, type TileChoice, type TileProbeStore } from "../wasm/tiles.js";
import type { Engine, EngineOutputs } from "./engine.js";
import { placeWeights, type LoadTimes, type ModelLoadTimes, type PackedWeightsCache } from "./packedWeights.js";
import type { Runtime } from "./runtime.js";
import { chooseWinogradLayers, type WinogradChoice } from "./winogradChoice.js";

/**
 * How to build a wasm engine. The options are valid (types and ranges: the API checks them,
 * src/api/options.ts); what only the plan can tell (the memory budget, the build's tiles) is checked
 * here, in errors that name `caller`.
 */
export interface WasmEngineOptions {
  /** The operation errors name, e.g. "GoogLeNet.load". */
  caller: string;
  build: BuildChoice;
  /** The GEMM register tile: "auto" (a timed probe at load or its table entry, wasm/tiles.ts), "probe" (a fresh probe) or a tile name such as "4x8". */
  tile: TileChoice;
  /** Where "auto" (and fast mode's Winograd choice) keeps probe results between processes (default: none; a probe per process and build). */
  tileStore?: TileProbeStore;
  /** Square input side the graph is planned for. */
  inputSize: number;
  /** Threads requested, in 1..maxThreads() (undefined: the available cores). */
  threads: number | undefined;
  /**
   * "strict" (default) or "fast": Winograd for the 3x3 and 5x5 stride-1 convolutions that measure
   * faster that way at load (engine/winogradChoice.ts), see plan/winogradLayers.ts.
   */
  precision?: Precision;
  /** Keep every tensor alive to the end of a run (no memory reuse), so activation() can read all of them. */
  keepActivations: boolean;
  /** Run one pass before create() resolves, so the first real call runs at full speed. */
  warmUp: boolean;
  /** The kernel builds the caller gives (default: each build from the runtime's kernelSource). */
  kernels?: KernelSources;
  /** Most images one run takes, in 1..MAX_BATCH (default DEFAULT_MAX_BATCH); longer lists run in chunks of it. */
  maxBatch?: number;
}

/** One model's weights for WasmEngine.create. */
export interface WeightSet {
  /** The tensors: a map, or a feed written tensor by tensor as it arrives (never called on a warm start). */
  tensors: () => Promise<TensorMap | WeightFeed>;
  /**
   * Where this set's packed region is cached between loads (default: none; packed every load). The
   * key covers the set's layout relative to its base, so a model finds the same entry whether it
   * is loaded alone or as any member of an ensemble.
   */
  packedCache?: PackedWeightsCache;
}

/**
 * Default largest batch: 8 images take about 8 x 6.6 MB of activations beside the 28 MB of weights,
 * and fill the 7x7 layers' tiles (49 pixels x 8 = 392 columns).
 */
export const DEFAULT_MAX_BATCH = 8;

/** The largest `maxBatch`. */
export const MAX_BATCH = 64;

export type { WeightFeed } from "../plan/plan.js";

/** The threads to use and why. */
export interface ThreadChoice {
  threads: number;
  reason: string;
}

let warnedNoThreads = false;

/** Warns once per process that the network runs on one thread, and why. */
function warnOneThread(reason: string): void {
  if (warnedNoThreads) return;
  warnedNoThreads = true;
  console.warn(`inception-wasm: running on 1 thread: ${reason}`);
}

/** Most threads a network may be given, whatever the cores: a pool this large only waits on itself. */
export const MAX_THREADS = 64;

/** Largest shared memory a plan may need (weights, activations, scratch); a larger plan is refused before allocating. */
export const MEMORY_BUDGET_BYTES = 2 ** 30;

/** The largest `threads` accepted on `host`: 4x its cores, at most MAX_THREADS. */
export function maxThreads(host: Pick<Runtime, "cores">): number {
  return Math.min(MAX_THREADS, MAX_POOL_THREADS, 4 * host.cores());
}

/**
 * Threads to use: the requested count (in 1..maxThreads()), or the cores; 1 (with a warning, once)
 * when threads are unavailable.
 */
function chooseThreads(requested: number | undefined, host: Runtime): ThreadChoice {
  const support = threadSupport(host);
  if (requested === 1) return { threads: 1, reason: "1 thread requested" };
  if (!support.available) {
    if ((requested ?? support.cores) > 1) warnOneThread(support.reason);
    return { threads: 1, reason: support.reason };
  }
  if (requested === undefined) return { threads: support.maxThreads, reason: `default: ${support.reason}` };
  return {
    threads: requested,
    reason:
      requested > support.cores
        ? `${requested} requested, more than the ${support.cores} core(s): threads wait instead of spinning`
        : `${requested} requested`,
  };
}

/** Writes every 4 KiB page of `memory` (its own values back) so the OS maps them now, not in the first run. */
function touchPages(memory: WebAssembly.Memory): void {
  const words = new Int32Array(memory.buffer);
  for (let i = 0; i < words.length; i += 1024) words[i] |= 0;
}

/**
 * The graph on the wasm kernels over one shared memory. An ensemble (several weight sets) is one
 * engine: the sets lie side by side below one activation arena, one worker pool runs them all.
 */
export class WasmEngine implements Engine {
  /** Plans by model and batch size ("model/batch"; 0/1 is made at load, others when first run). */
  private readonly plans = new Map<string, Plan>();
  /** The plan of the last run, whose tensors activation() reads. */
  private last: Plan;
  private disposed = false;

  private constructor(
    readonly build: BuildName,
    readonly buildReason: string,
    private readonly chosen: ChosenTile,
    readonly wasmBytes: number,
    readonly threadReason: string,
    readonly maxBatch: number,
    readonly models: number,
    readonly loadTimes: LoadTimes,
    readonly winogradReason: string,
    private readonly planFor: (batch: number, model: number) => Plan,
    private readonly memory: WebAssembly.Memory,
    private readonly executor: Executor,
    private readonly graph: Graph,
  ) {
    this.last = this.plan(1, 0);
  }

  /**
   * Compiles, plans, writes every weight set (one per model of an ensemble, in order; each from its
   * packed cache, else from its tensors: a map, or a feed written tensor by tensor as it arrives),
   * starts the threads on `runtime` and (optionally) warms up.
   */
  static async create(
    graph: Graph,
    weightSets: readonly WeightSet[],
    options: WasmEngineOptions,
    runtime: Runtime,
  ): Promise<WasmEngine> {
    const models = weightSets.length;
    if (models < 1) throw new ArgumentError("WasmEngine.create", "weightSets", "at least one weight set", 0);
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    let choice = chooseThreads(options.threads, runtime);
    const t0 = performance.now();
    const compiled = await compileKernels(options.build, runtime, options.kernels);
    const compileMs = performance.now() - t0;
    const t1 = performance.now();
    const chosen = await chooseTileFor(compiled, options.tile, options.tileStore, options.caller);
    const winograd: WinogradChoice =
      options.precision === "fast"
        ? await chooseWinogradLayers(compiled, graph, options.inputSize, chosen.tile, options.tileStore)
        : { layers: [], reason: "strict mode" };
    const tileMs = performance.now() - t1;
    // Plan with the load's scratch instance (size queries only), then size the real memory from the
    // plans: batch 1 now, room to grow to maxBatch (weights sit below the activations at the same
    // addresses). Later plans (other batch sizes) ask the network's own instance.
    let queries = scratchKernels(compiled).k;
    const planFor = (batch: number, model: number): Plan =>
      planGraph(graph, queries, {
        height: options.inputSize,
        width: options.inputSize,
        lanes: choice.threads,
        keepAll: options.keepActivations,
        precision: options.precision,
        winograd: winograd.layers,
        batch,
        tile: chosen.tile,
        models,
        model,
      });
    const plan = planFor(1, 0);
    const largest = planFor(maxBatch, 0).memoryBytes;
    if (largest > MEMORY_BUDGET_BYTES) {
      throw new ArgumentError(
        options.caller,
        "inputSize",
        `a plan within the ${MEMORY_BUDGET_BYTES / 2 ** 20} MiB memory budget`,
        `${options.inputSize} (needs ${Math.ceil(largest / 2 ** 20)} MiB at ${choice.threads} thread(s), ` +
          `batches of ${maxBatch}, ${models} weight set(s))`,
      );
    }
    const memory = createSharedMemory(plan.memoryBytes, largest);
    const kernels = instantiateKernels(compiled.module, memory);
    queries = kernels;
    const firstPlans = weightSets.map((_, m) => (m === 0 ? plan : planFor(1, m)));
    // Each model into its own weight set, in order. Every kernel is taken out of the engine's
    // baseline tier (short calls, see warmUpKernels) once, while the first model's cache entry is read.
    const placed: ModelLoadTimes[] = [];
    try {
      for (const [m, set] of weightSets.entries()) {
        const warmUp = options.warmUp && m === 0;
        placed.push(
          await placeWeights(graph, firstPlans[m], set.tensors, kernels, memory, compiled, set.packedCache, (pause) =>
            warmUp ? warmUpKernels(compiled, chosen.tile.id, pause) : Promise.resolve(),
          ),
        );
      }
    } catch (error) {
      releaseSharedMemory(memory); // bad weights: no thread has the memory yet
      throw error;
    } finally {
      releaseScratch(compiled);
    }
    const parts = sumLoadTimes(placed);
    let executor: Executor = new SerialExecutor(kernels);
    if (choice.threads > 1) {
      try {
        executor = await WorkerPool.create(compiled.module, memory, choice.threads, runtime, kernels);
      } catch (error) {
        // A pool that cannot start (workers refused by the runtime, a worker that dies while
        // starting) is not a failed load: one thread computes the same bits.
        const reason = `${choice.threads} threads requested, but the worker pool could not start (${
          error instanceof Error ? error.message : String(error)
        }): running on 1 thread`;
        warnOneThread(reason);
        choice = { threads: 1, reason };
      }
    }
    if (options.warmUp) {
      // The pool's first run (schedule sent, its JavaScript compiled: about 15-35 ms of a cold
      // first run on 2 threads) or, on one thread, the memory's pages mapped.
      const w0 = performance.now();
      if (executor.threads > 1) await executor.run(plan);
      else touchPages(memory);
      parts.warmUpMs += performance.now() - w0;
    }
    const engine = new WasmEngine(
      compiled.build,
      compiled.reason,
      chosen,
      compiled.bytes,
      choice.reason,
      maxBatch,
      models,
      { compileMs, tileMs, ...parts },
      winograd.reason,
      planFor,
      memory,
      executor,
      graph,
    );
    firstPlans.forEach((p, m) => engine.plans.set(`${m}/1`, p));
    return engine;
  }

  get threads(): number {
    return this.executor.threads;
  }

  get kernel(): string {
    return this.chosen.tile.name;
  }

  get kernelReason(): string {
    return this.chosen.reason;
  }

  get packLayout(): string {
    return this.chosen.tile.packLayout;
  }

  get precision(): Precision {
    return this.last.precision;
  }

  get winogradLayers(): readonly string[] {
    return this.last.winograd;
  }

  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes of every weight set as planned (packed panels or Winograd filters, biases, alignment). */
  get weightBytes(): number {
    return this.models * this.last.weightBytes;
  }

  /** The plan for `batch` images with weight set `model`, made once. */
  private planned(batch: number, model: number): Plan {
    const key = `${model}/${batch}`;
    let p = this.plans.get(key);
    if (!p) {
      p = this.planFor(batch, model);
      this.plans.set(key, p);
    }
    return p;
  }

  memoryBytesFor(images: number): number {
    return Math.max(this.memoryBytes, this.planned(Math.min(images, this.maxBatch), 0).memoryBytes);
  }

  /** planned(), with the memory grown to hold it. */
  private plan(batch: number, model: number): Plan {
    const p = this.planned(batch, model);
    const have = this.memory.buffer.byteLength;
    if (have < p.memoryBytes) this.memory.grow(Math.ceil((p.memoryBytes - have) / 65536));
    return p;
  }

  async runBatch(inputs: readonly Float32Array[], profile?: Profile, model = 0): Promise<EngineOutputs[]> {
    if (this.disposed) throw new DisposedError("engine.runBatch", "the engine was disposed");
    const out: EngineOutputs[] = [];
    for (let first = 0; first < inputs.length; first += this.maxBatch) {
      const chunk = inputs.slice(first, first + this.maxBatch);
      const plan = this.plan(chunk.length, model);
      this.last = plan;
      writeImages(
        this.memory,
        plan.input,
        chunk.map((x) => applyInputTransform(this.graph, x)),
      );
      await this.executor.run(plan, profile);
      const logits = readImages(this.memory, plan.logits, chunk.length);
      const probabilities = readImages(this.memory, plan.probabilities, chunk.length);
      chunk.forEach((_, b) => out.push({ logits: logits[b], probabilities: probabilities[b] }));
    }
    return out;
  }

  activation(name: string): Float32Array | undefined {
    const place = this.last.tensors.get(name);
    return place && readImages(this.memory, place, this.last.batch)[0];
  }

  /** Stops the executor, then gives the memory back for the next load (nothing touches it after). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.executor.dispose();
    releaseSharedMemory(this.memory);
  }
}

/**
 * One model's load parts, or an ensemble's summed over its models; `weightsFrom` then says where
 * each model's weights came from ("model 0: packed cache; model 1: tensors (...)").
 */
function sumLoadTimes(parts: readonly ModelLoadTimes[]): ModelLoadTimes {
  if (parts.length === 1) return { ...parts[0] };
  const sum = (key: "weightsMs" | "packMs" | "cacheWriteMs" | "warmUpMs"): number =>
    parts.reduce((total, p) => total + p[key], 0);
  return {
    weightsMs: sum("weightsMs"),
    packMs: sum("packMs"),
    cacheWriteMs: sum("cacheWriteMs"),
    warmUpMs: sum("warmUpMs"),
    weightsFrom: parts.map((p, m) => `model ${m}: ${p.weightsFrom}`).join("; "),
  };
}

/** Copies one CHW tensor per image into a [C][batch][H][W] tensor. */
function writeImages(memory: WebAssembly.Memory, place: TensorPlace, images: readonly Float32Array[]): void {
  const { c, h, w } = place.shape;
  const plane = h * w;
  const to = new Float32Array(memory.buffer, place.ptr, c * images.length * plane);
  images.forEach((image, b) => {
    for (let ch = 0; ch < c; ch++)
      to.set(image.subarray(ch * plane, (ch + 1) * plane), (ch * images.length + b) * plane);
  });
}

/** One CHW tensor per image, copied out of a [C][batch][H][W] tensor. */
function readImages(memory: WebAssembly.Memory, place: TensorPlace, batch: number): Float32Array[] {
  const { c, h, w } = place.shape;
  const plane = h * w;
  const from = new Float32Array(memory.buffer, place.ptr, c * batch * plane);
  return Array.from({ length: batch }, (_, b) => {
    const image = new Float32Array(c * plane);
    for (let ch = 0; ch < c; ch++)
      image.set(from.subarray((ch * batch + b) * plane, (ch * batch + b + 1) * plane), ch * plane);
    return image;
  });
}
