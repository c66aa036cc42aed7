// What every engine child does, whatever runs it (engineChild.ts under Node, Deno or Bun;
// browserPage.ts in Chromium): the engine interface, the inception-wasm adapter over a loaded
// GoogLeNet, the cold start timed phase by phase, and the timed runs. Browser-safe: no `node:`
// module, no file access (the caller loads and passes what it needs).

import { Bench } from "tinybench";
import type { BuildName } from "../src/host/wasm/kernels.js";
import type { GoogLeNet, LoadOptions } from "../src/index.js";
import { CLASSES, DEFAULT_INPUT_SIZE } from "../src/model/network/googlenet.js";

/** inception-wasm's precision modes the suite can ask for (the library decides which it accepts, see inceptionEngine). */
export const PRECISIONS = ["strict", "fast"] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Input side the suite runs (DEFAULT_INPUT_SIZE: the default preprocessing's crop). */
export const INPUT_SIZE = DEFAULT_INPUT_SIZE;

/**
 * Cold-start phases in milliseconds: import (the engine's JavaScript), compile (runtime start:
 * wasm compile + instantiate and thread start; for the onnxruntimes, creating a session of a
 * one-op model), weights (reading the weight or model file), setup
 * (building the network or session from it; inception-wasm's GoogLeNet.load compiles its small
 * module once more here), firstInference; total is their sum.
 */
export interface ColdStart {
  importMs: number;
  compileMs: number;
  weightsMs: number;
  setupMs: number;
  firstInferenceMs: number;
  totalMs: number;
}
export type Phase = Exclude<keyof ColdStart, "totalMs">;
export type Timer = <T>(phase: Phase, fn: () => Promise<T>) => Promise<T>;

/** The binary an engine ships and runs here: its wasm, or for onnxruntime-node its native libraries. */
export interface Binary {
  name: string;
  bytes: number;
  kind: "wasm" | "native";
}

/** Outputs of a batch: [batch][CLASSES] each. */
export interface BatchOutput {
  logits: Float32Array;
  probabilities: Float32Array;
}

/** A loaded engine. */
export interface Engine {
  version: string;
  /** Threads it runs with (a config whose effective count differs from the request is not measured). */
  threads: number;
  threadNote: string;
  /** What the figures need beside them, when the engine ran in a setting other than the runtime's own (the README lists it). */
  caveat?: string;
  binary: Binary;
  /** inception-wasm only: the register-only peak of one thread for the build it runs (src/host/wasm/peak.ts). */
  registerPeak?(): Promise<RegisterPeakFigure>;
  run(input: Float32Array, batch: number): Promise<BatchOutput>;
  dispose(): Promise<void>;
}

/** The register-only peak GFLOP/s of one thread and the build it was measured for. */
export interface RegisterPeakFigure {
  build: string;
  gflops: number;
}

/** What a child's timed phase gives: milliseconds per run keyed by batch size, and the engine's peak if it has one. */
export interface Measured {
  samples: Record<number, number[]>;
  registerPeak?: RegisterPeakFigure;
}

/** An engine that cannot run here (not installed, not in this runtime, not with this thread count or mode). */
export class EngineUnavailable extends Error {}

/** A timer adding each phase's milliseconds to `cold`. */
export function phaseTimer(cold: Record<Phase, number>): Timer {
  return async (phase, fn) => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      cold[phase] += performance.now() - t0;
    }
  };
}

/**
 * Loads inception-wasm with `options` plus `precision` and `maxBatch` (setup phase) and wraps it:
 * a batch goes through runBatch (the library's batching, up to maxBatch images per pass). The
 * precision is passed only when not the default "strict", and the network must report it in
 * `capabilities.precision` (a library without the option reports nothing): otherwise
 * EngineUnavailable, so a mode the library does not run is never measured under its name.
 * `peakOf` measures a build's register-only peak in this runtime (called after the timed runs).
 */
export async function inceptionEngine(
  Net: Pick<typeof GoogLeNet, "load">,
  options: LoadOptions,
  precision: Precision,
  maxBatch: number,
  version: string,
  time: Timer,
  peakOf: (build: BuildName) => Promise<number>,
): Promise<Engine> {
  const load: LoadOptions & { precision?: Precision } = { ...options, maxBatch };
  if (precision !== "strict") load.precision = precision;
  const net = await time("setupMs", () => Net.load(load));
  const ran = (net.capabilities as { precision?: string }).precision;
  if ((ran ?? "strict") !== precision) {
    await net.dispose();
    throw new EngineUnavailable(
      `inception-wasm ${version}: precision "${precision}" asked, ` +
        (ran === undefined ? "but this version's load() has no precision option" : `the network runs "${ran}"`),
    );
  }
  const image = 3 * INPUT_SIZE * INPUT_SIZE;
  const build = net.build;
  return {
    version: `${version} (${net.build} build, ${net.kernel} tile${precision === "strict" ? "" : `, ${precision}`})`,
    threads: net.threads,
    threadNote: net.capabilities.reason,
    binary: { name: `${net.build} kernels`, bytes: net.wasmBytes, kind: "wasm" },
    registerPeak: build === "reference" ? undefined : async () => ({ build: net.build, gflops: await peakOf(build) }),
    async run(input, batch) {
      const inputs = Array.from({ length: batch }, (_, b) => input.subarray(b * image, (b + 1) * image));
      const results = await net.runBatch(inputs);
      const logits = new Float32Array(batch * CLASSES),
        probabilities = new Float32Array(batch * CLASSES);
      results.forEach((r, b) => {
        logits.set(r.logits, b * CLASSES);
        probabilities.set(r.probabilities, b * CLASSES);
      });
      return { logits, probabilities };
    },
    dispose: () => net.dispose(),
  };
}

/** What a child reports once loaded and warmed up (the runtime's part is added by the child). */
export interface Loaded {
  version: string;
  threads: number;
  threadNote: string;
  /** Engine.caveat. */
  caveat?: string;
  binary: Binary;
  coldStart: ColdStart;
  /** The photo's outputs (batch 1, first inference). */
  logits: number[];
  probabilities: number[];
}

/**
 * Loads with `load` (timing each phase; `before`: phases timed before, e.g. a page's import), runs
 * `image` once (the first inference) and `warmup` more times untimed.
 */
export async function loadAndWarm(
  load: (time: Timer) => Promise<Engine>,
  image: Float32Array,
  warmup: number,
  before: Partial<Record<Phase, number>> = {},
): Promise<{ engine: Engine; loaded: Loaded }> {
  const cold: Record<Phase, number> = {
    importMs: 0,
    compileMs: 0,
    weightsMs: 0,
    setupMs: 0,
    firstInferenceMs: 0,
    ...before,
  };
  const time = phaseTimer(cold);
  const engine = await load(time);
  const first = await time("firstInferenceMs", () => engine.run(image, 1));
  for (let i = 0; i < warmup; i++) await engine.run(image, 1);
  return {
    engine,
    loaded: {
      version: engine.version,
      threads: engine.threads,
      threadNote: engine.threadNote,
      ...(engine.caveat ? { caveat: engine.caveat } : {}),
      binary: engine.binary,
      coldStart: { ...cold, totalMs: Object.values(cold).reduce((a, b) => a + b, 0) },
      logits: Array.from(first.logits),
      probabilities: Array.from(first.probabilities),
    },
  };
}

/**
 * Times `runs[n]` runs of a batch of n copies of `image` for each n, in the order given (after one
 * untimed run at each new batch size: its first run allocates). Milliseconds per run, keyed by n.
 */
export async function timeBatches(
  engine: Engine,
  image: Float32Array,
  runs: Record<number, number>,
): Promise<Record<number, number[]>> {
  const samples: Record<number, number[]> = {};
  for (const n of Object.keys(runs).map(Number)) {
    const input = new Float32Array(n * image.length);
    for (let i = 0; i < n; i++) input.set(image, i * image.length);
    const bench = new Bench({
      iterations: runs[n],
      time: 0,
      warmupIterations: n > 1 ? 1 : 0,
      warmupTime: 0,
      retainSamples: true,
    });
    bench.add(`batch ${n}`, async () => {
      await engine.run(input, n);
    });
    await bench.run();
    const r = bench.tasks[0].result;
    if (r.state !== "completed") throw new Error(`batch ${n}: the benchmark did not complete (${r.state})`);
    samples[n] = [...(r.latency.samples ?? [])];
  }
  return samples;
}
