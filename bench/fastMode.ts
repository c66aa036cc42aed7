// Fast mode against strict mode, measured side by side in one run:
//   1. every convolution with a window (batch 1, 224x224, one thread, the chosen build) as the
//      planned network runs it: strict (gemmConv) against fast with every Winograd candidate as
//      Winograd (winogradConv for the 3x3 and 5x5 ones; conv1 runs gemmConv in both: its row
//      shows the noise), whatever a load would choose;
//   2. the whole network (real BVLC weights, synthetic input) strict and fast at 1 and 2 threads,
//      rounds alternating the four configurations, with the output hash of each; fast mode runs
//      the layers its load measured faster as Winograd (printed).
// Figures are medians after warm-up; the per-op profile of fast mode shows where its time goes.
//
//   node --experimental-wasm-relaxed-simd dist/bench/fastMode.js [--build relaxed] [--rounds 15] [--json FILE]

import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Profile } from "../src/host/exec/executor.js";
import { expectedWeights } from "../src/host/ir/tensors.js";
import { convWindow } from "../src/host/ir/window.js";
import type { Precision } from "../src/host/plan/winogradLayers.js";
import { runtimeLabel } from "../src/host/runtimeName.js";
import { encodeCall, withScratch } from "../src/host/wasm/calls.js";
import { compileKernels, type BuildName } from "../src/host/wasm/kernels.js";
import { chooseTile } from "../src/host/wasm/tiles.js";
import { syntheticInput } from "../src/model/network/golden.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { GoogLeNet } from "../src/node/index.js";
import { loadWeights } from "../src/node/weights.js";
import { floatsSha } from "../test/support/data.js";
import { nodeRuntime } from "../src/node/runtime.js";
import { plannedNetwork } from "./plannedNetwork.js";
import { median } from "./stats.js";

const { values: opts } = parseArgs({
  options: {
    build: { type: "string", default: "relaxed" },
    rounds: { type: "string", default: "15" },
    json: { type: "string" },
  },
});
const build = opts.build as BuildName;
const rounds = Number(opts.rounds);

interface LayerRow {
  layer: string;
  kernel: string;
  strictMs: number;
  fastMs: number;
  speedup: number;
  strictMinMs: number;
  fastMinMs: number;
}

/** Sums over every step of a plan (all ops, 1x1 convolutions included) of the per-step medians and minimums. */
interface PlanTotals {
  strictMs: number;
  fastMs: number;
  strictMinMs: number;
  fastMinMs: number;
}

/**
 * Per-layer time of the planned network, one thread, batch 1: a strict and a fast plan (real
 * weights, the synthetic input) in their own memories; each round runs every step of both plans
 * in order (alternating the plans), timing each kernel call. Rows: the convolutions with a window
 * (1x1 convolutions run the same GEMM in both modes).
 */
async function layers(): Promise<{ rows: LayerRow[]; totals: PlanTotals }> {
  const graph = googlenetGraph();
  const compiled = await compileKernels(build, nodeRuntime);
  const { tensors } = await loadWeights({ expected: expectedWeights(graph, 224, 224) });
  const { tile } = chooseTile(compiled, "auto", "bench/fastMode");
  const planned = (["strict", "fast"] as Precision[]).map((precision) => {
    const { plan, memory, kernels: k } = plannedNetwork(graph, compiled, tensors, { lanes: 1, precision, tile });
    new Float32Array(memory.buffer, plan.input.ptr, 3 * 224 * 224).set(syntheticInput(3 * 224 * 224));
    const calls = plan.steps.map((step) => ({
      fn: k[step.call.kernel],
      args: encodeCall(withScratch(step.call, plan.scratch[0])),
    }));
    return { plan, calls };
  });
  const times = planned.map((p) => p.plan.steps.map((): number[] => []));
  for (let r = 0; r < rounds + 3; r++) {
    planned.forEach(({ calls }, p) => {
      calls.forEach((c, i) => {
        const t0 = performance.now();
        c.fn(...c.args);
        if (r >= 3) times[p][i].push(performance.now() - t0);
      });
    });
  }
  const [strict, fast] = planned;
  const rows: LayerRow[] = [];
  strict.plan.steps.forEach((step, i) => {
    const node = graph.nodes.find((n) => n.name === step.node)!;
    if (node.op !== "conv" || convWindow(node).kernel[0] === 1) return;
    const j = fast.plan.steps.findIndex((s) => s.node === step.node);
    const strictMs = median(times[0][i]),
      fastMs = median(times[1][j]);
    const { kernel, stride } = convWindow(node);
    rows.push({
      layer: step.node,
      kernel: `${kernel[0]}x${kernel[1]}/${stride[0]} ${fast.plan.steps[j].call.kernel}`,
      strictMs,
      fastMs,
      speedup: strictMs / fastMs,
      strictMinMs: Math.min(...times[0][i]),
      fastMinMs: Math.min(...times[1][j]),
    });
  });
  const min = (xs: number[]): number => Math.min(...xs);
  const total = (p: number, of: (xs: number[]) => number): number => times[p].reduce((a, xs) => a + of(xs), 0);
  const totals = {
    strictMs: total(0, median),
    fastMs: total(1, median),
    strictMinMs: total(0, min),
    fastMinMs: total(1, min),
  };
  return { rows, totals };
}

interface NetworkRow {
  precision: "strict" | "fast";
  threads: number;
  medianMs: number;
  minMs: number;
  outputSha256: string;
}

async function network(): Promise<{
  rows: NetworkRow[];
  profile: Record<string, Record<string, number>>;
  winogradLayers: readonly string[];
  winogradReason: string;
}> {
  const configs = (["strict", "fast"] as const).flatMap((precision) =>
    [1, 2].map((threads) => ({ precision, threads })),
  );
  const nets = [];
  for (const c of configs) nets.push(await GoogLeNet.load({ build, threads: c.threads, precision: c.precision }));
  try {
    const input = syntheticInput(3 * 224 * 224);
    for (const net of nets) for (let i = 0; i < 5; i++) await net.run(input);
    const times = nets.map((): number[] => []);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < nets.length; i++) {
        const t0 = performance.now();
        await nets[i].run(input);
        times[i].push(performance.now() - t0);
      }
    }
    const rows: NetworkRow[] = [];
    for (let i = 0; i < nets.length; i++) {
      const { probabilities } = await nets[i].run(input);
      rows.push({
        ...configs[i],
        medianMs: median(times[i]),
        minMs: Math.min(...times[i]),
        outputSha256: floatsSha(probabilities),
      });
    }
    const profile: Record<string, Record<string, number>> = {};
    for (let i = 0; i < nets.length; i++) {
      if (configs[i].threads !== 1) continue;
      const p: Profile = new Map();
      for (let r = 0; r < 5; r++) await nets[i].run(input, p);
      profile[configs[i].precision] = Object.fromEntries([...p].map(([op, ms]) => [op, ms / 5]));
    }
    const chosen = nets[configs.findIndex((c) => c.precision === "fast")].capabilities;
    return { rows, profile, winogradLayers: chosen.winogradLayers, winogradReason: chosen.winogradReason };
  } finally {
    await Promise.all(nets.map((n) => n.dispose()));
  }
}

const { rows: layerRows, totals } = await layers();
const net = await network();
const f = (x: number): string => x.toFixed(2).padStart(7);
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
console.log(`${runtimeLabel()}, ${build} build, ${rounds} rounds; per layer: batch 1, 224x224, 1 thread`);
console.log(
  `${"layer".padEnd(22)} ${"window, fast kernel".padEnd(22)} median: strict ms  fast ms  speed-up | min: strict  fast  speed-up`,
);
for (const r of layerRows) {
  console.log(
    `${r.layer.padEnd(22)} ${r.kernel.padEnd(22)} ${f(r.strictMs)}   ${f(r.fastMs)}  ${ratio(r.strictMs, r.fastMs)} | ` +
      `${f(r.strictMinMs)} ${f(r.fastMinMs)}  ${ratio(r.strictMinMs, r.fastMinMs)}`,
  );
}
const wino = layerRows.filter((r) => r.kernel.endsWith("winogradConv"));
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const w = {
  strict: sum(wino.map((r) => r.strictMs)),
  fast: sum(wino.map((r) => r.fastMs)),
  strictMin: sum(wino.map((r) => r.strictMinMs)),
  fastMin: sum(wino.map((r) => r.fastMinMs)),
};
console.log(
  `Winograd layers: medians ${w.strict.toFixed(2)} -> ${w.fast.toFixed(2)} ms (${ratio(w.strict, w.fast)}), ` +
    `minimums ${w.strictMin.toFixed(2)} -> ${w.fastMin.toFixed(2)} ms (${ratio(w.strictMin, w.fastMin)})`,
);
console.log(
  `every step: medians ${totals.strictMs.toFixed(2)} -> ${totals.fastMs.toFixed(2)} ms (${ratio(totals.strictMs, totals.fastMs)}), ` +
    `minimums ${totals.strictMinMs.toFixed(2)} -> ${totals.fastMinMs.toFixed(2)} ms (${ratio(totals.strictMinMs, totals.fastMinMs)}); ` +
    `the Winograd layers are ${((100 * w.strictMin) / totals.strictMinMs).toFixed(0)}% of strict's minimums`,
);
console.log(
  `\nwhole network (alternating rounds); fast mode's load chose ${net.winogradLayers.length} Winograd layers: ${net.winogradReason}`,
);
for (const r of net.rows) {
  console.log(
    `  ${r.precision.padEnd(6)} ${r.threads} thread(s): median ${f(r.medianMs)} ms, min ${f(r.minMs)} ms, output ${r.outputSha256.slice(0, 16)}`,
  );
}
for (const threads of [1, 2]) {
  const s = net.rows.find((r) => r.precision === "strict" && r.threads === threads)!;
  const fr = net.rows.find((r) => r.precision === "fast" && r.threads === threads)!;
  console.log(
    `  fast / strict speed at ${threads} thread(s): median ${ratio(s.medianMs, fr.medianMs)}, min ${ratio(s.minMs, fr.minMs)}`,
  );
}
console.log("\nper-op profile at 1 thread (ms per image):");
for (const [precision, p] of Object.entries(net.profile)) {
  const ops = Object.entries(p).filter(([op]) => op !== "wait");
  console.log(`  ${precision.padEnd(6)} ${ops.map(([op, ms]) => `${op} ${ms.toFixed(2)}`).join(", ")}`);
}
if (opts.json) {
  const result = {
    runtime: runtimeLabel(),
    build,
    rounds,
    layers: layerRows,
    steps: totals,
    network: net.rows,
    winogradLayers: net.winogradLayers,
    winogradReason: net.winogradReason,
    profile: net.profile,
  };
  writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${opts.json}`);
}
