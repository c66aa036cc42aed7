// Batching benchmark: images per second at batch 1 and batch 8, and one image's 144 crops run as
// batches against the same 144 crops run one call each. Medians of alternating rounds after warm-up.
//
//   node dist/bench/batch.js [--threads 1] [--rounds 3] [--weights PATH] [--tile auto|4x8|...] [--clock wall|cpu] [--quick]
//
// --clock cpu: this process's CPU time instead of wall time (1 thread only: it leaves out the time
// other processes hold the core, on a shared machine). --quick: batch 1 against batch 8 only.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cropInputs } from "../src/model/image/crops.js";
import { decodeImage, GoogLeNet, resolveDataDir } from "../src/node/index.js";
import { runtimeLabel } from "../src/host/runtime.js";
import { clockKind, clockNow } from "./clock.js";

const { values: opts } = parseArgs({
  options: {
    threads: { type: "string", default: "1" },
    rounds: { type: "string", default: "3" },
    weights: { type: "string" },
    tile: { type: "string", default: "auto" },
    clock: { type: "string", default: "wall" },
    quick: { type: "boolean", default: false },
  },
});
const threads = Number(opts.threads);
if (opts.clock === "cpu" && threads !== 1) throw new Error("--clock cpu: measures one thread only (--threads 1)");
const now = clockNow(clockKind(opts.clock));
const rounds = Number(opts.rounds);
const dir = resolveDataDir(opts.weights);
const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const net = await GoogLeNet.load({ weights: dir, threads, maxBatch: 8, tile: opts.tile });
const photo = decodeImage(new Uint8Array(readFileSync(join(dir, "photos", "coffee.png"))), "coffee.png");
const crops = cropInputs(photo, 144);
const eight = crops.slice(0, 8);
const time = async (job: () => Promise<unknown>): Promise<number> => {
  const t0 = now();
  await job();
  return now() - t0;
};
await net.runBatch(eight); // plans and pages for batch 8
const r = {
  batch1: [] as number[],
  batch8: [] as number[],
  crops144Batched: [] as number[],
  crops144Single: [] as number[],
};
for (let i = 0; i < rounds; i++) {
  r.batch1.push(
    await time(async () => {
      for (const x of eight) await net.run(x);
    }),
  );
  r.batch8.push(await time(() => net.runBatch(eight)));
  if (opts.quick) continue;
  r.crops144Single.push(
    await time(async () => {
      for (const x of crops) await net.run(x);
    }),
  );
  r.crops144Batched.push(await time(() => net.runBatch(crops)));
}
await net.dispose();
const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)])) as Record<keyof typeof r, number>;
console.log(
  `${runtimeLabel()}, ${net.build} build, tile ${net.kernel} (${net.kernelReason}), ${threads} thread(s), ${rounds} rounds (medians), ${opts.clock} clock`,
);
console.log(`8 images one by one: ${m.batch1.toFixed(0)} ms (${((8 * 1000) / m.batch1).toFixed(2)} img/s)`);
console.log(
  `8 images as one batch: ${m.batch8.toFixed(0)} ms (${((8 * 1000) / m.batch8).toFixed(2)} img/s), ` +
    `${(m.batch1 / m.batch8).toFixed(2)}x`,
);
if (!opts.quick) {
  console.log(
    `144 crops, one call each: ${m.crops144Single.toFixed(0)} ms (${(m.crops144Single / 144).toFixed(1)} ms/crop)`,
  );
  console.log(
    `144 crops in batches of 8: ${m.crops144Batched.toFixed(0)} ms (${(m.crops144Batched / 144).toFixed(1)} ms/crop), ` +
      `${(m.crops144Single / m.crops144Batched).toFixed(2)}x`,
  );
}
