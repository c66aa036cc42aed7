// Fast mode's Winograd point products on each 8-column tile of the GEMM family, in one process:
// every Winograd candidate of GoogLeNet (batch 1, 224x224, one thread, seeded data) as one whole
// winogradConv call per product tile, rounds alternating which tile goes first; per tile the sum
// over the candidates of their median times (3x3 and 5x5 apart). The kernel takes a tile with
// 8 columns only when it is a variant (assembly/winograd.ts, productTile: a splat 4x8 runs 6x8),
// so the rows are the 6x8 the splat tiles run and each variant; the bits are the same on all.
//
//   node --experimental-wasm-relaxed-simd dist/bench/winogradTiles.js [--build relaxed] [--rounds 11] [--layers]
//   deno run -A --node-modules-dir=manual dist/bench/winogradTiles.js; bun --no-install dist/bench/winogradTiles.js

import { parseArgs } from "node:util";
import { inferShapes } from "../src/host/ir/shapes.js";
import { winogradCall, winogradCandidates } from "../src/host/plan/winogradLayers.js";
import { runtimeLabel } from "../src/host/runtimeName.js";
import { encodeCall, withScratch } from "../src/host/wasm/calls.js";
import { compileKernels, scratchKernels, warmUpKernels, type BuildName } from "../src/host/wasm/kernels.js";
import { tileFamily } from "../src/host/wasm/tiles.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { nodeRuntime } from "../src/node/runtime.js";
import { fill } from "./kernelTiming.js";
import { median } from "./stats.js";

const { values: opts } = parseArgs({
  options: {
    build: { type: "string", default: "relaxed" },
    rounds: { type: "string", default: "11" },
    layers: { type: "boolean", default: false },
  },
});
const rounds = Number(opts.rounds);
const WARM_ROUNDS = 2;

const graph = googlenetGraph();
const shapes = inferShapes(graph, 224, 224);
const compiled = await compileKernels(opts.build as BuildName, nodeRuntime);
const { k, memory, arena: newArena } = scratchKernels(compiled);
// The 6x8 (what splat tiles run) and every 8-column variant.
const tiles = tileFamily(k).filter((t) => t.cols === 8 && (t.rows === 6 || k.gemmTileLoads(t.id) !== 0));
for (const t of tiles) await warmUpKernels(compiled, t.id);
const arena = newArena();
const nodes = winogradCandidates(graph);
const largest = (bytes: (n: (typeof nodes)[number]) => number): number => Math.max(...nodes.map(bytes));
const filled = (bytes: number, seed: number): number => {
  const ptr = arena.alloc(bytes);
  fill(new Float32Array(memory.buffer, ptr, bytes / 4), seed);
  return ptr;
};
const planeBytes = (n: (typeof nodes)[number], c: number): number => {
  const s = shapes.get(n.input)!;
  return c * s.h * s.w * 4;
};
const src = filled(
  largest((n) => planeBytes(n, shapes.get(n.input)!.c)),
  1,
);
const dst = filled(
  largest((n) => planeBytes(n, n.outChannels)),
  2,
);
const u = filled(
  largest((n) => k.winogradFilterBytes(n.outChannels, shapes.get(n.input)!.c)),
  3,
);
const bias = filled(
  largest((n) => n.outChannels * 4),
  4,
);
const scratch = arena.alloc(largest((n) => k.winogradScratchBytes(shapes.get(n.input)!.c)));
const calls = nodes.map((n) =>
  tiles.map((t) => {
    const x = { ptr: src, shape: shapes.get(n.input)! };
    const y = { ptr: dst, shape: shapes.get(n.output)! };
    return encodeCall(withScratch(winogradCall(n, x, y, { w: u, b: bias }, 1, t.id), scratch));
  }),
);
const times = nodes.map(() => tiles.map((): number[] => []));
for (let r = 0; r < WARM_ROUNDS + rounds; r++) {
  calls.forEach((perTile, i) => {
    for (let j = 0; j < tiles.length; j++) {
      const which = (j + r) % tiles.length;
      const t0 = performance.now();
      k.winogradConv(...perTile[which]);
      if (r >= WARM_ROUNDS) times[i][which].push(performance.now() - t0);
    }
  });
}
console.log(
  `${runtimeLabel()}, ${opts.build} build, ${rounds} rounds; ms, medians summed over the ${nodes.length} candidates`,
);
const sum = (of: (i: number) => boolean, j: number): number =>
  times.reduce((a, perTile, i) => a + (of(i) ? median(perTile[j]) : 0), 0);
const side = (i: number): number => nodes[i].kernel;
for (const [j, t] of tiles.entries()) {
  const all = sum(() => true, j);
  console.log(
    `  ${t.name.padEnd(9)} ${all.toFixed(2)} (3x3 ${sum((i) => side(i) === 3, j).toFixed(2)}, 5x5 ${sum((i) => side(i) === 5, j).toFixed(2)}), ` +
      `${(all / sum(() => true, 0)).toFixed(3)}x of ${tiles[0].name}`,
  );
}
if (opts.layers)
  nodes.forEach((n, i) =>
    console.log(`  ${n.name.padEnd(18)} ${times[i].map((xs) => median(xs).toFixed(3)).join("  ")}`),
  );
