// The batching determinism check shared by the strict and fast suites: every photo (and the
// photos again in reverse order, so each lands on several batch positions) run alone on one
// thread, then through runBatch at each (threads, maxBatch) configuration; every image's
// logits and probabilities must keep their bits.

import { readFileSync } from "node:fs";
import * as assert from "uvu/assert";
import { GoogLeNet } from "../../src/node/index.js";
import type { LoadOptions } from "../../src/api/options.js";
import { floatsSha as sha, photoCases } from "./data.js";

/** Runs the check with load `options` (weights, build, precision); returns the per-input hashes ("logits probabilities"). */
export async function assertBatchBits(
  options: LoadOptions,
  configs: readonly (readonly [threads: number, maxBatch: number])[],
): Promise<string[]> {
  const photos = photoCases().map((p) => new Uint8Array(readFileSync(p.file)));
  const alone = await GoogLeNet.load({ ...options, threads: 1, maxBatch: 1 });
  let inputs: Float32Array[];
  const want: string[] = [];
  try {
    inputs = photos.map((bytes) => alone.toInput(bytes));
    inputs = [...inputs, ...inputs.slice().reverse()];
    for (const x of inputs) {
      const r = await alone.run(x);
      want.push(`${sha(r.logits)} ${sha(r.probabilities)}`);
    }
  } finally {
    await alone.dispose();
  }
  for (const [threads, maxBatch] of configs) {
    const net = await GoogLeNet.load({ ...options, threads, maxBatch });
    try {
      const got = (await net.runBatch(inputs)).map((r) => `${sha(r.logits)} ${sha(r.probabilities)}`);
      assert.equal(got, want, `${threads} thread(s), batches of ${maxBatch}`);
    } finally {
      await net.dispose();
    }
  }
  return want;
}
