// Ensembles share one engine: the models' weights side by side in one wasm memory, one activation
// arena, one worker pool. Each model's outputs must have the bits of that model loaded alone (any
// batch, 1 and 2 threads), the ensemble's probabilities the float64 mean of the models' in order,
// and the memory must be far less than two separate networks'. In fast mode each weight set holds
// its own Winograd filters; a model named by path has its own packed cache entry in any position.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ArgumentError } from "../src/host/errors.js";
import type { TensorMap } from "../src/host/ir/tensors.js";
import { averageProbabilities, cropInputs } from "../src/model/image/crops.js";
import { decodeImage } from "../src/model/image/decode.js";
import { encodeWeightFile } from "../src/model/formats/iwnet.js";
import { GoogLeNet, syntheticInput } from "../src/node/index.js";
import { floatsSha as sha, matWeights as mat, photoCases } from "./support/data.js";
import { announceSeed, rngFor } from "./support/rng.js";

const seed = announceSeed("ensemble");

/**
 * The BVLC weights with every value scaled by a seeded factor in [0.98, 1.02): a second model whose
 * every layer differs, so a step that read the other model's weights would change the outputs.
 */
function perturbed(w: TensorMap): TensorMap {
  const rng = rngFor(seed, "perturbed weights");
  return new Map(
    [...w].map(([name, t]) => [name, { shape: t.shape, data: t.data.map((v) => v * (0.98 + 0.04 * rng())) }]),
  );
}

const MB = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

test("each model of an ensemble gives the bits of that model alone (batches 1 and 10, 1 and 2 threads); the mean is in order", async () => {
  const a = await mat();
  const b = perturbed(a);
  const bytes = new Uint8Array(readFileSync(photoCases()[2].file));
  const hashes = new Map<number, string[]>();
  for (const threads of [1, 2]) {
    const ensemble = await GoogLeNet.loadEnsemble([a, b], { threads });
    const alone = [await GoogLeNet.load({ weights: a, threads }), await GoogLeNet.load({ weights: b, threads })];
    try {
      assert.is(ensemble.models, 2);
      const loaded = { ensemble: ensemble.memoryBytes, one: alone[0].memoryBytes };
      const crops = cropInputs(decodeImage(bytes, "photo"), 10);
      const seen: string[] = [];
      for (let m = 0; m < 2; m++) {
        for (const inputs of [crops.slice(0, 1), crops]) {
          const got = await ensemble.runBatch(inputs, undefined, m);
          const want = await alone[m].runBatch(inputs);
          got.forEach((r, i) => {
            assert.is(sha(r.logits), sha(want[i].logits), `model ${m}, ${inputs.length} inputs, #${i}, logits`);
            assert.is(sha(r.probabilities), sha(want[i].probabilities), `model ${m}, #${i}, probabilities`);
            seen.push(sha(r.probabilities));
          });
        }
      }
      // The models differ (else this test could not tell their weights apart).
      assert.is.not(seen[0], seen[11]);
      const p = await ensemble.probabilities(bytes, { crops: 10 });
      const means = [
        await alone[0].probabilities(bytes, { crops: 10 }),
        await alone[1].probabilities(bytes, { crops: 10 }),
      ];
      assert.is(sha(p), sha(averageProbabilities(means)), "ensemble = float64 mean of the models' 10-crop means");
      seen.push(sha(p));
      hashes.set(threads, seen);
      // One memory: the second model adds its weights only, not a second activation arena.
      const ran = {
        ensemble: ensemble.memoryBytes,
        one: alone[0].memoryBytes,
        two: alone[0].memoryBytes + alone[1].memoryBytes,
      };
      const weights = ensemble.summary().weightBytes / 2;
      console.log(
        `  ${threads} thread(s), wasm memory after load (batch 1): ensemble ${MB(loaded.ensemble)}, one model ${MB(loaded.one)}, ` +
          `two models ${MB(2 * loaded.one)}; after 10 crops (batch 8): ensemble ${MB(ran.ensemble)}, one ${MB(ran.one)}, two ${MB(ran.two)}`,
      );
      assert.ok(ran.ensemble < ran.two, "an ensemble takes less memory than two networks");
      assert.ok(ran.ensemble - ran.one < 1.1 * weights + 65536, "the second model adds about its weights");
    } finally {
      await ensemble.dispose();
      await Promise.all(alone.map((n) => n.dispose()));
    }
  }
  assert.equal(hashes.get(1), hashes.get(2), "1 and 2 threads give the same bits");
});

test("a weight set outside the ensemble is an ArgumentError naming model", async () => {
  const net = await GoogLeNet.load({ weights: await mat(), threads: 1, warmUp: false });
  try {
    const x = new Float32Array(3 * 224 * 224);
    for (const model of [1, -1, 0.5]) {
      try {
        await net.run(x, undefined, model);
        assert.unreachable(`model ${model} accepted`);
      } catch (error) {
        assert.instance(error, ArgumentError);
        assert.match((error as Error).message, "model");
      }
    }
  } finally {
    await net.dispose();
  }
});

test("fast mode, mixed sources: each set keeps its Winograd filters; a path model's packed entry is shared with its load alone", async () => {
  const a = await mat();
  const b = perturbed(a);
  const tmp = mkdtempSync(join(tmpdir(), "ensemble-test-"));
  try {
    const file = join(tmp, "googlenet.iwnet");
    writeFileSync(file, await encodeWeightFile(a));
    const cacheDir = join(tmp, "cache");
    const input = syntheticInput(3 * 224 * 224);
    const common = { cacheDir, threads: 1, build: "baseline", precision: "fast", warmUp: false } as const;
    const shas = async (net: GoogLeNet): Promise<string[]> => {
      const out: string[] = [];
      for (let m = 0; m < net.models; m++) out.push(sha((await net.run(input, undefined, m)).probabilities));
      return out;
    };
    const alone: string[] = [];
    for (const weights of [a, b]) {
      const net = await GoogLeNet.load({ ...common, weights });
      alone.push(...(await shas(net)));
      assert.equal(net.capabilities.winogradLayers.length > 0, true);
      await net.dispose();
    }
    assert.is.not(alone[0], alone[1]);
    const cases: [string, (string | TensorMap)[], RegExp, string[]][] = [
      ["cold", [file, b], /^model 0: tensors \(packed cache: cannot read .*; model 1: tensors$/, alone],
      ["warm", [file, b], /^model 0: packed cache; model 1: tensors$/, alone],
      ["warm, the path model second", [b, file], /^model 0: tensors; model 1: packed cache$/, [alone[1], alone[0]]],
    ];
    for (const [what, sources, from, want] of cases) {
      const net = await GoogLeNet.loadEnsemble(sources, common);
      try {
        assert.is(net.capabilities.precision, "fast");
        assert.match(net.loadTimes!.weightsFrom, from, what);
        assert.equal(await shas(net), want, `${what}: each model's bits alone`);
      } finally {
        await net.dispose();
      }
    }
    assert.equal(readdirSync(join(cacheDir, "packed")).length, 1, "one entry for the path model");
    const single = await GoogLeNet.load({ ...common, weights: file });
    assert.is(single.loadTimes!.weightsFrom, "packed cache", "the ensemble's entry serves the model alone");
    assert.equal(await shas(single), [alone[0]]);
    await single.dispose();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
