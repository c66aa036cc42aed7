// The engine interface: what runs a planned network on one input. The wasm engine (wasm.ts) runs
// the kernels on one thread or the worker pool; the reference engine (reference.ts) runs every op
// in float64 TypeScript, the switch for bisecting numeric differences layer by layer.

import { DisposedError } from "../errors.js";
import type { Profile } from "../exec/executor.js";
import type { BuildName } from "../wasm/kernels.js";
import type { Precision } from "../plan/winogradLayers.js";

/** A graph's two outputs for one input. */
export interface EngineOutputs {
  logits: Float32Array;
  probabilities: Float32Array;
}

/** Runs one graph (planned for one input size) with its weights. */
export interface Engine {
  /** The kernel build that runs, or "reference" for the float64 engine. */
  readonly build: BuildName | "reference";
  /** Why this build was chosen. */
  readonly buildReason: string;
  /** The GEMM register tile that runs (e.g. "6x8", wasm/tiles.ts), or "reference". */
  readonly kernel: string;
  /** Why this tile: "requested", or the load-time probe's figures per tile. */
  readonly kernelReason: string;
  /** The packed conv weight layout the tile reads (TileInfo.packLayout), or "reference". */
  readonly packLayout: string;
  /** Size of the running .wasm file in bytes (0 for the reference engine). */
  readonly wasmBytes: number;
  /** "strict", or "fast": Winograd for the 3x3 and 5x5 stride-1 convolutions measured faster so (the reference engine is always strict). */
  readonly precision: Precision;
  /** The convolutions that run Winograd (empty in strict mode). */
  readonly winogradLayers: readonly string[];
  /** How they were chosen: the load-time timings per candidate or the probe table's entry ("strict mode" in strict mode). */
  readonly winogradReason: string;
  /** Threads that run kernels, and why that many. */
  readonly threads: number;
  readonly threadReason: string;
  /** Bytes of the engine's working memory (the shared wasm memory; 0 for the reference engine). */
  readonly memoryBytes: number;
  /** Bytes of the working memory once it has run `images` images at once (it grows to the largest batch run; 0 for the reference engine). */
  memoryBytesFor(images: number): number;
  /** Weight sets the engine holds (an ensemble's models; 1 for a single network). */
  readonly models: number;
  /**
   * Runs the graph on input tensors (CHW each, the graph's input shape), several images per run where
   * the engine batches, and returns one output per input in order; an image's outputs have the same
   * bits whatever batch it ran in. Adds per-op milliseconds to `profile` when given. `model`
   * (default 0) picks the weight set, in 0..models-1 (the caller checks it). Calls must not overlap
   * (the caller queues them).
   */
  runBatch(inputs: readonly Float32Array[], profile?: Profile, model?: number): Promise<EngineOutputs[]>;
  /** A copy of tensor `name` from the last run (CHW; the batch's first image), or undefined when not kept. */
  activation(name: string): Float32Array | undefined;
  /** Frees threads and memory; the engine cannot run afterwards. */
  dispose(): Promise<void>;
}

/**
 * What an engine leaves behind after dispose(): its description (build, reasons, threads, precision,
 * models) without its memory or executor, so that a disposed network holds no wasm memory or weights
 * while the caller still holds the network object. Runs reject with DisposedError.
 */
export function disposedEngine(engine: Engine): Engine {
  const { build, buildReason, kernel, kernelReason, packLayout, wasmBytes, threads, threadReason } = engine;
  const { precision, winogradLayers, winogradReason, models } = engine;
  return {
    build,
    buildReason,
    kernel,
    kernelReason,
    packLayout,
    wasmBytes,
    threads,
    threadReason,
    precision,
    winogradLayers,
    winogradReason,
    models,
    memoryBytes: 0,
    memoryBytesFor: () => 0,
    runBatch: () => Promise.reject(new DisposedError("engine.runBatch", "the engine was disposed")),
    activation: () => undefined,
    dispose: () => Promise.resolve(),
  };
}
