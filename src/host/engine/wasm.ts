// The wasm engine: compiles a kernel build, plans the graph onto one shared memory, writes the
// weights (conv weights packed once), and runs the plan on the serial executor (1 thread) or the
// worker pool, after one warm-up pass.

import { ArgumentError } from "../errors.js";
import { SerialExecutor, type Executor, type Profile } from "../exec/executor.js";
import { threadSupport, WorkerPool } from "../exec/pool.js";
import { MAX_POOL_THREADS } from "../exec/protocol.js";
import type { Graph } from "../ir/graph.js";
import type { TensorMap } from "../ir/tensors.js";
import { planGraph, writeWeights, type Plan } from "../plan/plan.js";
import {
  compileKernels,
  createSharedMemory,
  instantiateKernels,
  warmUpKernels,
  type BuildChoice,
  type BuildName,
} from "../wasm/kernels.js";
import type { Engine, EngineOutputs } from "./engine.js";

/** How to build a wasm engine. */
export interface WasmEngineOptions {
  build: BuildChoice;
  /** Square input side the graph is planned for. */
  inputSize: number;
  /** Threads requested (undefined: the available cores). */
  threads: number | undefined;
  /** Keep every tensor alive to the end of a run (no memory reuse), so activation() can read all of them. */
  keepActivations: boolean;
  /** Run one pass before create() resolves, so the first real call runs at full speed. */
  warmUp: boolean;
}

/** The threads to use and why. */
export interface ThreadChoice {
  threads: number;
  reason: string;
}

let warnedNoThreads = false;

/** Most threads a network may be given, whatever the cores: a pool this large only waits on itself. */
export const MAX_THREADS = 64;

/** Largest shared memory a plan may need (weights, activations, scratch); a larger plan is refused before allocating. */
export const MEMORY_BUDGET_BYTES = 2 ** 30;

/** The largest `threads` accepted here: 4x the cores, at most MAX_THREADS. */
export function maxThreads(): number {
  return Math.min(MAX_THREADS, MAX_POOL_THREADS, 4 * threadSupport().cores);
}

/** Throws ArgumentError unless `requested` is undefined or an integer in 1..maxThreads(). */
export function checkThreads(requested: unknown): void {
  const max = maxThreads();
  if (
    requested !== undefined &&
    !(Number.isInteger(requested) && (requested as number) >= 1 && (requested as number) <= max)
  ) {
    throw new ArgumentError(
      "GoogLeNet.load",
      "threads",
      `an integer in 1..${max} (4x the ${threadSupport().cores} core(s), at most ${MAX_THREADS})`,
      typeof requested === "number" ? requested : `${typeof requested} ${String(requested)}`,
    );
  }
}

/**
 * Threads to use: the requested count, or the cores; 1 (with a warning, once) when threads are
 * unavailable. Throws ArgumentError for a count that is not an integer in 1..maxThreads(),
 * before any worker or memory exists.
 */
export function chooseThreads(requested: number | undefined): ThreadChoice {
  const support = threadSupport();
  checkThreads(requested);
  if (requested === 1) return { threads: 1, reason: "1 thread requested" };
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

/** The graph on the wasm kernels over one shared memory. */
export class WasmEngine implements Engine {
  private constructor(
    readonly build: BuildName,
    readonly buildReason: string,
    readonly wasmBytes: number,
    readonly threadReason: string,
    private readonly plan: Plan,
    private readonly memory: WebAssembly.Memory,
    private readonly executor: Executor,
  ) {}

  /** Compiles, plans, writes the weights, starts the threads and (optionally) warms up. */
  static async create(graph: Graph, weights: TensorMap, options: WasmEngineOptions): Promise<WasmEngine> {
    let choice = chooseThreads(options.threads);
    const compiled = await compileKernels(options.build);
    // Plan with a throwaway instance (size queries only), then size the real memory from the plan.
    const probe = instantiateKernels(compiled.module, createSharedMemory(65536, 65536));
    const plan = planGraph(graph, probe, {
      height: options.inputSize,
      width: options.inputSize,
      lanes: choice.threads,
      keepAll: options.keepActivations,
    });
    if (plan.memoryBytes > MEMORY_BUDGET_BYTES) {
      throw new ArgumentError(
        "GoogLeNet.load",
        "inputSize",
        `a plan within the ${MEMORY_BUDGET_BYTES / 2 ** 20} MiB memory budget`,
        `${options.inputSize} (needs ${Math.ceil(plan.memoryBytes / 2 ** 20)} MiB at ${choice.threads} thread(s))`,
      );
    }
    const memory = createSharedMemory(plan.memoryBytes, plan.memoryBytes);
    const kernels = instantiateKernels(compiled.module, memory);
    writeWeights(graph, plan, weights, kernels, memory);
    let executor: Executor = new SerialExecutor(kernels);
    if (choice.threads > 1) {
      try {
        executor = await WorkerPool.create(compiled.module, memory, choice.threads);
      } catch (error) {
        // A pool that cannot start (workers refused by the runtime, a worker that dies while
        // starting) is not a failed load: one thread, with the reason.
        const reason = `${choice.threads} threads requested, but the worker pool could not start (${
          error instanceof Error ? error.message : String(error)
        }): running on 1 thread`;
        console.warn(`inception-wasm: ${reason}`);
        choice = { threads: 1, reason };
      }
    }
    if (options.warmUp) {
      // Every kernel out of the engine's baseline tier (short calls, see warmUpKernels); then
      // the pool's first run (schedule sent, its JavaScript compiled: about 15-35 ms of a cold
      // first run on 2 threads) or, on one thread, the memory's pages mapped.
      warmUpKernels(compiled.module);
      if (choice.threads > 1) await executor.run(plan);
      else touchPages(memory);
    }
    return new WasmEngine(compiled.build, compiled.reason, compiled.bytes, choice.reason, plan, memory, executor);
  }

  get threads(): number {
    return this.executor.threads;
  }

  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  async run(input: Float32Array, profile?: Profile): Promise<EngineOutputs> {
    const { plan } = this;
    new Float32Array(this.memory.buffer, plan.input.ptr, input.length).set(input);
    await this.executor.run(plan, profile);
    const out = (p: { ptr: number; shape: { c: number; h: number; w: number } }): Float32Array =>
      new Float32Array(this.memory.buffer, p.ptr, p.shape.c * p.shape.h * p.shape.w).slice();
    return { logits: out(plan.logits), probabilities: out(plan.probabilities) };
  }

  activation(name: string): Float32Array | undefined {
    const place = this.plan.tensors.get(name);
    if (!place) return undefined;
    const { c, h, w } = place.shape;
    return new Float32Array(this.memory.buffer, place.ptr, c * h * w).slice();
  }

  dispose(): Promise<void> {
    return this.executor.dispose();
  }
}
