// One runtime's row of the runtime table (bench/runtimes.ts): load time, median run() of the
// benchmark input, median classify() of a photo, top-1. Browser-safe: the GoogLeNet class and the
// sources come from the caller, so the same code runs under every entry and bundle.

import type { GoogLeNet, ImageInput, WeightsSource } from "../src/index.js";
import { syntheticInput } from "../src/model/network/golden.js";
import { median } from "./stats.js";

export interface ProbeRow {
  threads: number;
  build: string;
  why: string;
  loadMs: number;
  runMs: number;
  classifyMs: number;
  top1: number;
}

/** Loads with `weights`, then times `runs` run() calls and `runs` classify(image()) calls (after one of each). */
export async function probe(
  Net: Pick<typeof GoogLeNet, "load">,
  weights: WeightsSource,
  image: () => ImageInput | Promise<ImageInput>,
  runs = 15,
): Promise<ProbeRow> {
  const t0 = performance.now();
  const net = await Net.load({ weights });
  const loadMs = performance.now() - t0;
  try {
    const input = syntheticInput(3 * net.inputSize * net.inputSize);
    await net.run(input);
    const run: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await net.run(input);
      run.push(performance.now() - t);
    }
    let top1 = -1;
    const classify: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const img = await image();
      const t = performance.now();
      top1 = (await net.classify(img, { topK: 1 }))[0].index;
      if (i > 0) classify.push(performance.now() - t);
    }
    return {
      threads: net.threads,
      build: net.build,
      why: net.capabilities.reason,
      loadMs,
      runMs: median(run),
      classifyMs: median(classify),
      top1,
    };
  } finally {
    await net.dispose();
  }
}
