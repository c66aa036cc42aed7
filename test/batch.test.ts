// Real batching: images run through every layer together ([C][batch][H][W] tensors, a GEMM's pixels
// spanning the batch), and each image's outputs have the bits it gets alone, at every batch position,
// batch size (chunks of maxBatch), thread count and on both builds.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { GoogLeNet } from "../src/node/index.js";
import { assertBatchBits } from "./support/batching.js";
import { floatsSha as sha, matWeights as mat } from "./support/data.js";

for (const build of ["baseline", "relaxed"] as const) {
  test(`${build}: runBatch gives every image the bits of run() alone, at every position and batch size, 1 and 2 threads`, async () => {
    await assertBatchBits({ weights: await mat(), build }, [
      [1, 8],
      [2, 8],
      [2, 3],
      [1, 5],
    ]);
  });
}

test("maxBatch is checked; a batch larger than maxBatch runs in chunks", async () => {
  const w = await mat();
  const e = await GoogLeNet.load({ weights: w, threads: 1, maxBatch: 0 }).catch((x: unknown) => x as Error);
  assert.match((e as Error).message, /maxBatch/);
  const net = await GoogLeNet.load({ weights: w, threads: 1, maxBatch: 2 });
  try {
    const out = await net.runBatch([
      new Float32Array(3 * 224 * 224),
      new Float32Array(3 * 224 * 224),
      new Float32Array(3 * 224 * 224),
    ]);
    assert.is(out.length, 3);
    assert.is(sha(out[2].probabilities), sha(out[0].probabilities));
  } finally {
    await net.dispose();
  }
});

test.run();
