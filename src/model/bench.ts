// Whole-network latency benchmark (tinybench): median and min of single-image runs after
// warm-up, effective GFLOP/s, and optionally where the time goes per op kind.

import { Bench } from "tinybench";
import type { Profile } from "../host/executor.js";
import type { BuildChoice } from "../host/kernels.js";
import { GoogLeNet } from "./classifier.js";

export interface BenchOptions {
  weights?: string;
  build: BuildChoice;
  threads: number;
  runs: number;
  warmup: number;
  profile: boolean;
}

export interface BenchRow {
  engine: "inception-wasm";
  build: string;
  threads: number;
  batch: number;
  runs: number;
  medianMs: number;
  minMs: number;
  gflops: number;
}

export interface BenchResult {
  runtime: string;
  inputSize: number;
  multiplyAdds: number;
  results: BenchRow[];
  /** Per op kind: milliseconds per image (mean over the profiled runs). */
  profile?: Record<string, number>;
}

/** Deterministic input with the magnitudes of a real one (values in about -120..130). */
function syntheticInput(length: number): Float32Array {
  const x = new Float32Array(length);
  let s = 12345;
  for (let i = 0; i < length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = (s / 2 ** 32) * 250 - 120;
  }
  return x;
}

/** Loads the network, warms it up and times `runs` single-image forward passes. */
export async function benchNetwork(options: BenchOptions): Promise<BenchResult> {
  const net = await GoogLeNet.load({ weights: options.weights, build: options.build });
  try {
    if (net.threads !== options.threads) {
      throw new Error(`bench: ${options.threads} thread(s) requested, but this executor runs ${net.threads}`);
    }
    const input = syntheticInput(3 * net.inputSize * net.inputSize);
    const bench = new Bench({ iterations: options.runs, time: 0, warmupIterations: options.warmup, warmupTime: 0 });
    bench.add("googlenet", async () => { await net.run(input); });
    await bench.run();
    const task = bench.tasks[0];
    const result = task.result;
    if (result.state !== "completed") throw new Error(`bench: the benchmark did not complete (${result.state})`);
    const medianMs = result.latency.p50;
    const row: BenchRow = {
      engine: "inception-wasm", build: net.build, threads: net.threads, batch: 1, runs: options.runs,
      medianMs, minMs: result.latency.min, gflops: (2 * net.multiplyAdds) / (medianMs * 1e6),
    };
    const out: BenchResult = { runtime: `node ${process.versions.node}`, inputSize: net.inputSize, multiplyAdds: net.multiplyAdds, results: [row] };
    if (options.profile) {
      const profile: Profile = new Map();
      const n = Math.min(options.runs, 10);
      for (let i = 0; i < n; i++) await net.run(input, profile);
      out.profile = Object.fromEntries([...profile].map(([op, ms]) => [op, ms / n]));
    }
    return out;
  } finally {
    await net.dispose();
  }
}

/** A short text report. */
export function formatBench(r: BenchResult): string {
  const lines = r.results.map((x) =>
    `${x.engine} ${x.build} threads=${x.threads} batch=${x.batch}: median ${x.medianMs.toFixed(2)} ms, min ${x.minMs.toFixed(2)} ms, ` +
    `${x.gflops.toFixed(1)} GFLOP/s (${x.runs} runs, ${r.runtime}, ${r.inputSize}x${r.inputSize})`);
  if (r.profile) {
    const total = Object.values(r.profile).reduce((a, b) => a + b, 0);
    for (const [op, ms] of Object.entries(r.profile).sort((a, b) => b[1] - a[1])) {
      lines.push(`  ${op.padEnd(8)} ${ms.toFixed(2).padStart(7)} ms  ${((ms / total) * 100).toFixed(1).padStart(5)}%`);
    }
  }
  return lines.join("\n");
}
