// Batching benchmark: images per second at batch 1 and batch 8, and one image's 144 crops run as
// batches against the same 144 crops run one call each. Medians of alternating rounds after warm-up.
// Then where a batched crop's time goes: the image's preparation (decode, the 4 resizes and 144
// crops) against the network, and per op (conv, pooling, LRN, FC, softmax, idle thread time) for
// 144 single calls and for the batches; and the whole probabilities(bytes, { crops: 144 }) call.
//
//   node dist/bench/batch.js [--threads 1] [--rounds 3] [--weights PATH] [--tile auto|4x8|...] [--clock wall|cpu] [--quick]
//
// --clock cpu: this process's CPU time instead of wall time (1 thread only: it leaves out the time
// other processes hold the core, on a shared machine). --quick: batch 1 against batch 8 only.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Profile } from "../src/host/exec/executor.js";
import { cropInputs } from "../src/model/image/crops.js";
import { decodeImage, GoogLeNet, resolveDataDir } from "../src/node/index.js";
import { runtimeLabel } from "../src/host/runtimeName.js";
import { clockKind, clockNow } from "./clock.js";
import { median } from "./stats.js";

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

const net = await GoogLeNet.load({ weights: dir, threads, maxBatch: 8, tile: opts.tile });
const bytes = new Uint8Array(readFileSync(join(dir, "photos", "coffee.png")));
const photo = decodeImage(bytes, "coffee.png");
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
  decode: [] as number[],
  cropInputs144: [] as number[],
  probabilities144: [] as number[],
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
  r.decode.push(await time(async () => decodeImage(bytes, "coffee.png")));
  r.cropInputs144.push(await time(async () => cropInputs(photo, 144)));
  r.probabilities144.push(await time(() => net.probabilities(bytes, { crops: 144 })));
}
// One profiled pass of each (the profile's timers slow a run a little; compare its shares, not its sum); not with --quick.
const single: Profile = new Map();
const batched: Profile = new Map();
const profiled = opts.quick
  ? { single: 0, batched: 0 }
  : {
      single: await time(async () => {
        for (const x of crops) await net.run(x, single);
      }),
      batched: await time(() => net.runBatch(crops, batched)),
    };
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
  console.log(
    `probabilities(bytes, { crops: 144 }): ${m.probabilities144.toFixed(0)} ms (${(m.probabilities144 / 144).toFixed(1)} ms/crop): ` +
      `decode ${m.decode.toFixed(1)} ms, 144 crop inputs ${m.cropInputs144.toFixed(1)} ms, network (batched) ${m.crops144Batched.toFixed(0)} ms`,
  );
  console.log("profiled pass, ms per crop: op | 144 single calls | batches of 8");
  const ops = [...new Set([...single.keys(), ...batched.keys()])];
  for (const op of ops) {
    console.log(
      `  ${op.padEnd(8)} ${((single.get(op) ?? 0) / 144).toFixed(2).padStart(7)} ${((batched.get(op) ?? 0) / 144).toFixed(2).padStart(7)}`,
    );
  }
  const sum = (p: Profile): number => [...p].filter(([op]) => op !== "wait").reduce((a, [, ms]) => a + ms, 0);
  console.log(
    `  ${"outside".padEnd(8)} ${((profiled.single - sum(single)) / 144).toFixed(2).padStart(7)} ${((profiled.batched - sum(batched)) / 144).toFixed(2).padStart(7)}` +
      "  (wall time outside kernels and joins: input checks, copies in and out, dispatch)",
  );
}
