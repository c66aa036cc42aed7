// Whole-network latency benchmark (tinybench): median and min of single-image runs after
// warm-up, effective GFLOP/s as a fraction of the register-only peak (src/host/wasm/peak.ts) of
// the build that ran, and optionally where the time goes per op kind.

import { Bench } from "tinybench";
import type { Profile } from "../host/exec/executor.js";
import type { BuildChoice, BuildName } from "../host/wasm/kernels.js";
import { registerPeakOf } from "../host/wasm/peak.js";
import type { Precision } from "../host/plan/winogradLayers.js";
import { runtimeLabel } from "../host/runtimeName.js";
import { GoogLeNet } from "../node/index.js";
import { nodeRuntime } from "../node/runtime.js";
import { hex, sha256 } from "../host/digest.js";
import { syntheticInput } from "../model/network/golden.js";

export interface BenchOptions {
  weights?: string;
  build: BuildChoice;
  /** GEMM register tile: "auto" (the load-time probe) or a tile name. */
  tile: string;
  /** Thread counts to measure, one after another in this run (e.g. [1, 2] for the scaling). */
  threads: number[];
  runs: number;
  warmup: number;
  profile: boolean;
  /** "strict" or "fast" (Winograd for the 3x3 and 5x5 convolutions a load measures faster so). */
  precision: Precision;
}

export interface BenchRow {
  engine: "inception-wasm";
  build: string;
  /** The GEMM register tile that ran, and why (the probe's figures, or "requested"). */
  kernel: string;
  kernelReason: string;
  precision: Precision;
  threads: number;
  batch: number;
  runs: number;
  medianMs: number;
  minMs: number;
  gflops: number;
  /** gflops over `threads` x the register-only peak of one thread (BenchResult.registerPeak). */
  fractionOfPeak: number;
  /** SHA-256 (hex) of the output probabilities for the benchmark input: equal at every thread count. */
  outputSha256: string;
  /** Per op kind: milliseconds per image (mean over the profiled runs); "wait": thread-ms idle per image. */
  profile?: Record<string, number>;
}

export interface BenchResult {
  runtime: string;
  inputSize: number;
  multiplyAdds: number;
  /** The register-only peak of one thread for the build that ran (12 f32x4 chains, no loads). */
  registerPeak: { build: string; gflops: number };
  results: BenchRow[];
  /** Per op kind: milliseconds per image (mean over the profiled runs) of the first thread count. */
  profile?: Record<string, number>;
}

/** Loads the network with `threads` threads, warms it up and times `runs` single-image forward passes. */
async function benchThreads(
  options: BenchOptions,
  threads: number,
  peaks: Map<string, number>,
): Promise<{ row: BenchRow; inputSize: number; multiplyAdds: number }> {
  const net = await GoogLeNet.load({
    weights: options.weights,
    build: options.build,
    tile: options.tile,
    threads,
    precision: options.precision,
  });
  try {
    if (net.threads !== threads) {
      throw new Error(
        `bench: ${threads} thread(s) requested, but this executor runs ${net.threads} (${net.capabilities.reason})`,
      );
    }
    if (!peaks.has(net.build)) peaks.set(net.build, await registerPeakOf(net.build as BuildName, nodeRuntime));
    const peak = peaks.get(net.build)!;
    const input = syntheticInput(3 * net.inputSize * net.inputSize);
    const bench = new Bench({ iterations: options.runs, time: 0, warmupIterations: options.warmup, warmupTime: 0 });
    bench.add("googlenet", async () => {
      await net.run(input);
    });
    await bench.run();
    const task = bench.tasks[0];
    const result = task.result;
    if (result.state !== "completed") throw new Error(`bench: the benchmark did not complete (${result.state})`);
    const medianMs = result.latency.p50;
    const { probabilities } = await net.run(input);
    const row: BenchRow = {
      engine: "inception-wasm",
      build: net.build,
      kernel: net.kernel,
      kernelReason: net.kernelReason,
      precision: net.capabilities.precision,
      threads: net.threads,
      batch: 1,
      runs: options.runs,
      medianMs,
      minMs: result.latency.min,
      gflops: (2 * net.multiplyAdds) / (medianMs * 1e6),
      fractionOfPeak: (2 * net.multiplyAdds) / (medianMs * 1e6) / (threads * peak),
      outputSha256: hex(
        await sha256(new Uint8Array(probabilities.buffer, probabilities.byteOffset, probabilities.byteLength)),
      ),
    };
    if (options.profile) {
      const profile: Profile = new Map();
      const n = Math.min(options.runs, 10);
      for (let i = 0; i < n; i++) await net.run(input, profile);
      row.profile = Object.fromEntries([...profile].map(([op, ms]) => [op, ms / n]));
    }
    return { row, inputSize: net.inputSize, multiplyAdds: net.multiplyAdds };
  } finally {
    await net.dispose();
  }
}

/** Measures each thread count of options.threads in turn. */
export async function benchNetwork(options: BenchOptions): Promise<BenchResult> {
  if (options.threads.length === 0) throw new Error("bench: no thread count given");
  const rows: BenchRow[] = [];
  const peaks = new Map<string, number>();
  let inputSize = 0,
    multiplyAdds = 0;
  for (const threads of options.threads) {
    const r = await benchThreads(options, threads, peaks);
    rows.push(r.row);
    inputSize = r.inputSize;
    multiplyAdds = r.multiplyAdds;
  }
  const build = rows[0].build;
  return {
    runtime: runtimeLabel(),
    inputSize,
    multiplyAdds,
    registerPeak: { build, gflops: peaks.get(build)! },
    results: rows,
    profile: rows[0].profile,
  };
}

/** A short text report: a line per thread count (with its profile), then the scaling. */
export function formatBench(r: BenchResult): string {
  const lines: string[] = [
    `register-only peak (${r.registerPeak.build} build, 12 f32x4 chains, no loads): ${r.registerPeak.gflops.toFixed(1)} GFLOP/s per thread`,
  ];
  for (const x of r.results) {
    lines.push(
      `${x.engine} ${x.build} ${x.precision} tile=${x.kernel} threads=${x.threads} batch=${x.batch}: median ${x.medianMs.toFixed(2)} ms, min ${x.minMs.toFixed(2)} ms, ` +
        `${x.gflops.toFixed(1)} GFLOP/s = ${x.fractionOfPeak.toFixed(3)} of ${x.threads} x the register-only peak (${x.runs} runs, ${r.runtime}, ${r.inputSize}x${r.inputSize}), output sha256 ${x.outputSha256.slice(0, 16)}`,
    );
    lines.push(`  tile ${x.kernel}: ${x.kernelReason}`);
    if (x.profile) {
      const ops = Object.entries(x.profile).filter(([op]) => op !== "wait");
      const total = ops.reduce((a, [, ms]) => a + ms, 0);
      for (const [op, ms] of ops.sort((a, b) => b[1] - a[1])) {
        lines.push(
          `  ${op.padEnd(8)} ${ms.toFixed(2).padStart(7)} ms  ${((ms / total) * 100).toFixed(1).padStart(5)}%`,
        );
      }
      if (x.profile.wait !== undefined)
        lines.push(`  ${"wait".padEnd(8)} ${x.profile.wait.toFixed(2).padStart(7)} ms  (idle thread-ms per image)`);
    }
  }
  if (r.results.length > 1) {
    const base = r.results[0];
    lines.push(
      `scaling vs ${base.threads} thread(s): ` +
        r.results
          .slice(1)
          .map((x) => `${x.threads} threads ${(base.medianMs / x.medianMs).toFixed(2)}x`)
          .join(", ") +
        `; outputs bit-identical: ${r.results.every((x) => x.outputSha256 === base.outputSha256) ? "yes" : "NO"}`,
    );
  }
  return lines.join("\n");
}
