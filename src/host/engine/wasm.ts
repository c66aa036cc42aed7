// The wasm engine: compiles a kernel build, plans the graph onto one shared memory, writes the
// weights (conv weights packed once), and runs the plan on the serial executor (1 thread) or the
// worker pool, after one warm-up pass.

import { ArgumentError } from "../errors.js";
import { SerialExecutor, type Executor, type Profile } from "../exec/executor.js";
import { threadSupport, WorkerPool } from "../exec/pool.js";
import type { Graph } from "../ir/graph.js";
import type { WorkerEvents, WorkerHandle } from "../platform.js";
import type { TensorMap } from "../ir/tensors.js";
import { planGraph, writeWeights, type Plan } from "../plan/plan.js";
import {
  compileKernels,
  createSharedMemory,
  instantiateKernels,
  warmUpKernels,
  type BuildChoice,
  type BuildName,
  type KernelSources,
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
  /** Where the kernel builds come from (default: the package's files, see wasm/sources.ts). */
  kernels?: KernelSources;
  /** Starts one pool worker (default: the platform's). */
  spawnWorker?: (events: WorkerEvents) => WorkerHandle;
}

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

/** Threads to use: the requested count, or the cores; 1 (with a warning, once) when threads are unavailable. */
export function chooseThreads(requested: number | undefined): ThreadChoice {
  if (requested !== undefined && !(Number.isInteger(requested) && requested >= 1)) {
    throw new ArgumentError("GoogLeNet.load", "threads", "a positive integer", requested);
  }
  if (requested === 1) return { threads: 1, reason: "1 thread requested" };
  const support = threadSupport();
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
    const choice = chooseThreads(options.threads);
    const compiled = await compileKernels(options.build, options.kernels);
    // Plan with a throwaway instance (size queries only), then size the real memory from the plan.
    const probe = instantiateKernels(compiled.module, createSharedMemory(65536, 65536));
    const plan = planGraph(graph, probe, {
      height: options.inputSize,
      width: options.inputSize,
      lanes: choice.threads,
      keepAll: options.keepActivations,
    });
    const memory = createSharedMemory(plan.memoryBytes, plan.memoryBytes);
    const kernels = instantiateKernels(compiled.module, memory);
    writeWeights(graph, plan, weights, kernels, memory);
    let executor: Executor = new SerialExecutor(kernels);
    if (choice.threads > 1) {
      try {
        executor = await WorkerPool.create(compiled.module, memory, choice.threads, options.spawnWorker);
      } catch (error) {
        // Never a failed load for want of threads: one thread computes the same bits.
        choice.reason = `${choice.threads} threads planned, but the worker pool could not start: ${(error as Error).message}`;
        choice.threads = 1;
        warnOneThread(choice.reason);
      }
    }
    if (options.warmUp) {
      // Every kernel out of the engine's baseline tier (short calls, see warmUpKernels); then
      // the pool's first run (schedule sent, its JavaScript compiled: about 15-35 ms of a cold
      // first run on 2 threads) or, on one thread, the memory's pages mapped.
      warmUpKernels(compiled.module);
      if (executor.threads > 1) await executor.run(plan);
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
