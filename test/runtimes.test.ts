// Smoke test that runs unchanged under every runtime `npm test` runs it in (see run.ts): the
// host Node, Node 22, 24 and 26 (devDependencies), Deno and Bun.
// - The weights are the BVLC reference weights (the golden set's hash).
// - Auto build, 1 thread: the relaxed build (on Node 20 only with the V8 flag), two listed
//   photos get their reference top-1; then 2 threads (the worker pool:
//   worker_threads in Node, Web Workers in Deno and Bun) give the same probability bits.
// - Baseline build, 1 and 2 threads: the golden set's reference bits (src/model/network/golden.ts),
//   the same SHA-256 in every runtime. The auto build's golden hashes are printed, not compared
//   across runtimes (fused multiply-add may round differently by CPU and engine).
// - Node: a child traced by V8 optimises no wasm function after load() (the warm-up got every
//   kernel out of the baseline tier).
// - Node 20 only (run.ts starts it with --experimental-wasm-relaxed-simd): in child processes,
//   auto takes the baseline without the flag and says exactly why, and with it the relaxed
//   build, on 2 threads (workers inherit the V8 flag).
// The runner counts a process that does not exit on its own after dispose as crashed.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { InceptionError } from "../src/host/errors.js";
import { expectedWeights, type TensorMap } from "../src/host/ir/tensors.js";
import { runtimeLabel, runtimeName } from "../src/host/runtimeName.js";
import { GoogLeNet } from "../src/node/index.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { GOLDEN, floatsSha256, goldenInput, weightsSha256 } from "../src/model/network/golden.js";
import { loadWeights } from "../src/node/weights.js";
import { photoCases } from "./support/data.js";

const label = runtimeLabel();
const nodeMajor = runtimeName() === "node" ? Number(process.versions.node.split(".")[0]) : undefined;
const RELAXED_FLAG = "--experimental-wasm-relaxed-simd";
/** Node 20 validates relaxed SIMD only with a V8 flag on its command line; Node 22+, Deno and Bun without. */
const relaxedExpected = nodeMajor === undefined || nodeMajor >= 22 || process.execArgv.includes(RELAXED_FLAG);
const photos = photoCases()
  .slice(0, 2)
  .map((p) => ({ ...p, bytes: new Uint8Array(readFileSync(p.file)) }));
const expected = expectedWeights(googlenetGraph(), GOLDEN.inputSize, GOLDEN.inputSize);
let weights: TensorMap | undefined;

/** Loads on `threads`, classifies every photo (checking its top-1) and returns the probability hashes. */
async function classifyAll(threads: number): Promise<string[]> {
  const t0 = performance.now();
  const net = await GoogLeNet.load({ threads });
  const loaded = performance.now();
  const hashes: string[] = [];
  try {
    assert.is(net.threads, threads, `threads (${net.capabilities.reason})`);
    assert.is(net.build, relaxedExpected ? "relaxed" : "baseline", `"auto" on ${label} (${net.buildReason})`);
    for (const photo of photos) {
      const [top] = await net.classify(photo.bytes, { topK: 1, name: photo.file });
      assert.is(
        top.index,
        photo.top1,
        `${photo.file}: top-1 ${top.index} (${top.label}), expected ${photo.top1} (${photo.top1Label})`,
      );
      hashes.push(await floatsSha256((await net.run(net.toInput(photo.bytes, photo.file))).probabilities));
    }
    console.log(
      `  ${label}, ${threads} thread(s): build ${net.build} (${net.buildReason}); ` +
        `load ${(loaded - t0).toFixed(0)} ms, ${photos.length} classify + ${photos.length} run ` +
        `${(performance.now() - loaded).toFixed(0)} ms`,
    );
  } finally {
    await net.dispose();
  }
  const e = await net.run(new Float32Array(3 * 224 * 224)).catch((error: unknown) => error);
  assert.instance(e, InceptionError, "run after dispose rejects");
  return hashes;
}

/** The golden inputs' "logits probabilities" hashes under `build` on `threads`. */
async function goldenHashes(build: "baseline" | "auto", threads: number): Promise<{ build: string; hashes: string[] }> {
  assert.ok(weights, "the weights test ran first");
  const net = await GoogLeNet.load({ weights, build, threads });
  try {
    assert.is(net.threads, threads, `threads (${net.capabilities.reason})`);
    const hashes: string[] = [];
    for (const input of GOLDEN.inputs) {
      const { logits, probabilities } = await net.run(goldenInput(input));
      hashes.push(`${await floatsSha256(logits)} ${await floatsSha256(probabilities)}`);
    }
    return { build: net.build, hashes };
  } finally {
    await net.dispose();
  }
}

test(`${label}: the weights are the BVLC reference weights of the golden set`, async () => {
  weights = (await loadWeights({ expected })).tensors;
  assert.is(await weightsSha256(weights, expected), GOLDEN.weightsSha256, "SHA-256 of the weights (canonical order)");
});

let oneThread: string[] = [];

test(`${label}: on 1 thread, the auto build gives two photos their reference top-1`, async () => {
  oneThread = await classifyAll(1);
});

test(`${label}: on 2 threads, the same top-1 and the same SHA-256 of the probabilities as on 1`, async () => {
  assert.is(oneThread.length, photos.length, "the 1-thread test ran first");
  assert.equal(await classifyAll(2), oneThread, "SHA-256 of each photo's probabilities, 2 threads vs 1");
});

test(`${label}: the baseline build reproduces the golden bits on 1 and 2 threads`, async () => {
  const want = GOLDEN.baseline.map((o) => `${o.logitsSha256} ${o.probabilitiesSha256}`);
  for (const threads of [1, 2]) {
    const { hashes } = await goldenHashes("baseline", threads);
    GOLDEN.inputs.forEach((input, i) => {
      assert.is(hashes[i], want[i], `${input.name}, ${threads} thread(s): SHA-256 of the logits and probabilities`);
    });
  }
});

test(`${label}: the auto build gives the same golden bits on 1 and 2 threads (printed for comparison)`, async () => {
  const one = await goldenHashes("auto", 1);
  const two = await goldenHashes("auto", 2);
  assert.equal(two.hashes, one.hashes, "SHA-256 of the golden outputs, 2 threads vs 1");
  GOLDEN.inputs.forEach((input, i) => console.log(`  ${label} ${one.build} ${input.name}: ${one.hashes[i]}`));
});

if (nodeMajor !== undefined) {
  test(`${label}: after load() every kernel is optimised: no wasm function tiers up in later runs`, async () => {
    // V8 prints a line per compiled wasm function and tier; a line for an optimised (TurboFan)
    // function after load() would mean it ran unoptimised in a real run first.
    const classifier = new URL("../src/node/index.js", import.meta.url).href;
    const script = `import { GoogLeNet } from ${JSON.stringify(classifier)};
      const net = await GoogLeNet.load({ threads: 1 });
      await new Promise((r) => setTimeout(r, 200)); // compilations started in load() finish
      console.log("=== loaded");
      for (let i = 0; i < 3; i++) await net.run(new Float32Array(3 * 224 * 224));
      await net.dispose();`;
    const flags = process.execArgv.filter((a) => a === RELAXED_FLAG);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [...flags, "--trace-wasm-compilation-times", "--input-type=module", "-e", script],
      { maxBuffer: 1 << 24 },
    );
    const [during, after] = stdout.split("=== loaded");
    assert.ok(after !== undefined, "the child reached the end of load()");
    const optimised = (text: string): string[] => text.match(/#\d+ using TurboFan/g) ?? [];
    assert.ok(optimised(during).length >= 8, `V8 traced the kernels' optimisation during load():\n${during}`);
    assert.equal(optimised(after), [], "wasm functions optimised only after load()");
  });
}

if (nodeMajor !== undefined && nodeMajor <= 20) {
  test(`${label}: auto takes the baseline, saying why, without ${RELAXED_FLAG}; relaxed with it`, async () => {
    const cli = join(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "cli", "main.js");
    for (const flags of [[], [RELAXED_FLAG]]) {
      const args = [...flags, cli, "verify", "--json", "--threads", "2"];
      const { stdout } = await promisify(execFile)(process.execPath, args);
      const report = JSON.parse(stdout) as { pass: boolean; threads: number; auto: { build: string; reason: string } };
      assert.is(report.threads, 2, `threads with flags [${flags}]`);
      assert.ok(report.pass, `verify passes with flags [${flags}]`);
      if (flags.length > 0) {
        assert.is(report.auto.build, "relaxed", report.auto.reason);
      } else {
        assert.is(report.auto.build, "baseline");
        assert.is(
          report.auto.reason,
          "relaxed SIMD is not supported by this runtime: " +
            `Node ${process.versions.node} validates it only when started with \`node ${RELAXED_FLAG}\` ` +
            "(Node 22 and later without a flag)",
        );
      }
    }
  });
}

test.run();
