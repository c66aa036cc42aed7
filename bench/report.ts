// The comparison suite's report (suite.ts writes it as JSON; chart.ts, table.ts and benchTable.ts
// read it) and the kernel benchmark's report (kernels.ts writes it; the suite's chart reads it).

import type { Binary, ColdStart, Precision, RegisterPeakFigure } from "./childCore.js";
import type { EngineName } from "./engines.js";

/** The JSON of `npm run bench:kernels -- --json` (bench/kernels.ts). */
export interface KernelReport {
  runtime: string;
  /** The best tile's L1 figure per build. */
  peak: { mulAdd: number; relaxed: number };
  /** The register-only peak per build (src/host/wasm/peak.ts); absent in reports before it existed. */
  registerPeak?: { mulAdd: number; relaxed: number };
  builds: {
    build: string;
    wasmBytes: number;
    registerPeakGflops?: number;
    peakGflops: number;
    weightedGflops: number;
    weightedFraction: number;
    convMs: number;
  }[];
  shapes: {
    build: string;
    layer: string;
    M: number;
    N: number;
    K: number;
    ms: number;
    gflops: number;
    fractionOfPeak: number;
  }[];
}

/** CPU use while a child was timed, in cores (CPU time / wall time). */
export interface Disturbance {
  wallMs: number;
  /** The child's process tree (Chromium's processes under the Chromium child). */
  childCores: number;
  otherCores: number;
  stealCores: number;
}

/** Timings of one batch size: median and min milliseconds per batch, images per second, effective GFLOP/s. */
export interface Throughput {
  medianMs: number;
  minMs: number;
  imagesPerSecond: number;
  gflops: number;
}

/** The figures of one configuration (ratios have the same shape). */
export interface Figures {
  /** Keyed by batch size. */
  batches: Record<string, Throughput>;
  coldStart: ColdStart;
  /** Peak RSS after cold start and single-image runs, and after the batch runs (Chromium: its processes' sum). */
  peakRssMB: number;
  peakRssBatchMB: number;
  binaryMB: number;
}

export interface ResultRow {
  /** Runtime id (report.runtimes). */
  runtime: string;
  engine: EngineName;
  /** inception-wasm's precision mode; absent for the other engines. */
  precision?: Precision;
  threads: number;
  version: string;
  threadNote: string;
  /** Set when the engine ran in a setting other than the runtime's own, saying which (Engine.caveat). */
  caveat?: string;
  binary: Binary;
  /** Timed runs pooled over the rounds, per batch size. */
  runs: Record<string, number>;
  rounds: number;
  /** Rounds still disturbed after their repeat. */
  disturbedRounds: number;
  disturbed: boolean;
  /** Medians over the rounds. */
  cpu?: Disturbance;
  figures: Figures;
  /** figures / inception-wasm's (strict) figures in the same runtime at the same thread count. */
  ratios: Figures;
  /**
   * inception-wasm only (reports from 2026-12-07 on): the register-only peak of one thread for the
   * build it ran, measured in its own processes after the timed runs (median over the rounds).
   */
  registerPeak?: RegisterPeakFigure;
  /** The photo's outputs against inception-wasm's (strict, threads[0]) in the same runtime. */
  accuracy: { maxAbsProbDiff: number; maxAbsLogitDiff: number; top5Agree: boolean; top5: number[] };
}

/** A runtime of the matrix: what its children reported, or why none could start. */
export interface RuntimeInfo {
  id: string;
  /** The command line prefix that starts a child. */
  command?: string;
  name?: string;
  version?: string;
  /** The JavaScript engine and its version. */
  engine?: string;
  unavailable?: string;
}

export interface SuiteReport {
  schema: 2;
  date: string;
  quick: boolean;
  /** The command that produced the report. */
  command: string;
  /** How long the whole run took, child starts, repeats and the ONNX export included. */
  wallSeconds: number;
  machine: { cpu: string; cores: number; memoryMB: number; platform: string; arch: string };
  runtimes: RuntimeInfo[];
  /** inception-wasm, the Node that ran the suite (harness), each measured engine. */
  versions: Record<string, string>;
  model: { network: "GoogLeNet (BVLC)"; inputSize: number; multiplyAdds: number; gflopPerImage: number; photo: string };
  settings: {
    runtimes: string[];
    precisions: Precision[];
    engines: EngineName[];
    threads: number[];
    batches: number[];
    rounds: number;
    runsPerRound: Record<string, number>;
    warmup: number;
    disturbedCores: number;
  };
  results: ResultRow[];
  unavailable: { runtime: string; engine: EngineName; precision?: Precision; threads: number; reason: string }[];
  /** The kernel benchmark report given with --kernels, and its file. */
  kernels?: KernelReport & { file: string };
}
