// Thread scaling of the whole network, measured so that a machine shared with other jobs disturbs
// both sides alike: one process, one plan and memory (real BVLC weights, synthetic input, batch 1,
// 224x224), the serial executor and a worker pool of N threads alternating run by run (the order
// flips every round), wall clock. Prints each side's median and fastest run, and the median and
// quartiles of each round's serial / pool time (the scaling), per precision; the output's SHA-256
// must be the same for both executors (it is checked).
//
//   node dist/bench/scaling.js [--threads 2] [--precision strict,fast] [--rounds 40] [--build auto|baseline|relaxed]

import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { SerialExecutor, type Executor } from "../src/host/exec/executor.js";
import { WorkerPool } from "../src/host/exec/threadPool.js";
import { expectedWeights } from "../src/host/ir/tensors.js";
import type { Precision } from "../src/host/plan/winogradLayers.js";
import { runtimeLabel } from "../src/host/runtimeName.js";
import { compileKernels, type BuildChoice } from "../src/host/wasm/kernels.js";
import { chooseTile } from "../src/host/wasm/tiles.js";
import { syntheticInput } from "../src/model/network/golden.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { nodeRuntime } from "../src/node/runtime.js";
import { loadWeights } from "../src/node/weights.js";
import { floatsSha } from "../test/support/data.js";
import { plannedNetwork } from "./plannedNetwork.js";
import { intOption } from "./options.js";
import { median, quantile } from "./stats.js";

const { values: opts } = parseArgs({
  options: {
    threads: { type: "string", default: "2" },
    precision: { type: "string", default: "strict,fast" },
    rounds: { type: "string", default: "40" },
    build: { type: "string", default: "auto" },
  },
});
const threads = intOption("bench/scaling", "threads", opts.threads, 2);
const rounds = intOption("bench/scaling", "rounds", opts.rounds);
/** Untimed rounds first: every kernel leaves the engine's baseline tier, the pool's code is compiled. */
const WARMUP_ROUNDS = 6;

const graph = googlenetGraph();
const compiled = await compileKernels(opts.build as BuildChoice, nodeRuntime);
const tile = chooseTile(compiled, "auto", "tile").tile;
const { tensors } = await loadWeights({ expected: expectedWeights(graph, 224, 224) });
console.log(
  `${runtimeLabel()}, ${cpus()[0]?.model.trim()}, ${compiled.build} build, tile ${tile.name}, 1 vs ${threads} threads, ` +
    `${rounds} rounds, wall clock; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
);
for (const precision of opts.precision.split(",") as Precision[]) {
  const { plan, memory, kernels } = plannedNetwork(graph, compiled, tensors, { lanes: threads, precision, tile });
  const input = new Float32Array(memory.buffer, plan.input.ptr, 3 * 224 * 224);
  const output = new Float32Array(memory.buffer, plan.probabilities.ptr, 1000);
  const pool = await WorkerPool.create(compiled.module, memory, threads, nodeRuntime, kernels);
  const sides: { name: string; executor: Executor; ms: number[]; sha: Set<string> }[] = [
    { name: "1 thread", executor: new SerialExecutor(kernels), ms: [], sha: new Set() },
    { name: `${threads} threads`, executor: pool, ms: [], sha: new Set() },
  ];
  const ratios: number[] = [];
  try {
    for (let r = 0; r < WARMUP_ROUNDS + rounds; r++) {
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
        input.set(syntheticInput(input.length));
        const t0 = performance.now();
        await side.executor.run(plan);
        const ms = performance.now() - t0;
        side.sha.add(floatsSha(output));
        if (r >= WARMUP_ROUNDS) side.ms.push(ms);
      }
      if (r >= WARMUP_ROUNDS) ratios.push(sides[0].ms.at(-1)! / sides[1].ms.at(-1)!);
    }
  } finally {
    await pool.dispose();
  }
  const hashes = new Set(sides.flatMap((s) => [...s.sha]));
  if (hashes.size !== 1)
    throw new Error(`${precision}: outputs differ between runs or executors (${[...hashes].join(", ")})`);
  for (const s of sides) {
    console.log(
      `${precision.padEnd(6)} ${s.name.padEnd(9)} median ${median(s.ms).toFixed(1).padStart(6)} ms, fastest ${Math.min(
        ...s.ms,
      )
        .toFixed(1)
        .padStart(6)} ms`,
    );
  }
  const [one, many] = sides;
  console.log(
    `${precision.padEnd(6)} scaling: per round median ${median(ratios).toFixed(2)}x (quartiles ${quantile(ratios, 0.25).toFixed(2)}-${quantile(ratios, 0.75).toFixed(2)}), ` +
      `fastest / fastest ${(Math.min(...one.ms) / Math.min(...many.ms)).toFixed(2)}x; output ${[...hashes][0].slice(0, 16)} on both`,
  );
}
