// Fast mode (precision: "fast", Winograd F(4x4, 3x3) and F(2x2, 5x5) for the 3x3 and 5x5
// convolutions that measure faster so at load) end to end on the real BVLC weights: the layer
// choice is one per process, the same bits at every thread count, batch position and batch size
// (hashes), every labelled photo keeps its top-5 classes and its top-1 label, and the option is
// checked; the layer choice makes no wasm instance or memory of its own.
// The Caffe blob comparison in fast mode is in network.test.ts; the kernel's bound in
// kernelsWinograd.test.ts.

import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chooseWinogradLayers } from "../src/host/engine/winogradChoice.js";
import { ArgumentError } from "../src/host/errors.js";
import { winogradCandidates } from "../src/host/plan/winogradLayers.js";
import { compileKernels, scratchKernels } from "../src/host/wasm/kernels.js";
import { chooseTile } from "../src/host/wasm/tiles.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { GoogLeNet } from "../src/node/index.js";
import { nodeRuntime } from "../src/node/runtime.js";
import { assertBatchBits } from "./support/batching.js";
import { matWeights as mat, photoCases } from "./support/data.js";

const top5 = (p: Float32Array): number[] =>
  Array.from(p.keys())
    .sort((a, b) => p[b] - p[a] || a - b)
    .slice(0, 5);

for (const build of ["baseline", "relaxed"] as const) {
  test(`${build}, fast: every image gets the bits of run() alone at every thread count, batch position and batch size`, async () => {
    const w = await mat();
    const net = await GoogLeNet.load({ weights: w, threads: 1, build, precision: "fast" });
    const other = await GoogLeNet.load({ weights: w, threads: 2, build, precision: "fast" });
    try {
      const { precision, winogradLayers, winogradReason } = net.capabilities;
      assert.is(precision, "fast");
      // The chosen layers: candidates in graph order (which ones is the load's measurement), the
      // same for every load of the process.
      const candidates = winogradCandidates(googlenetGraph()).map((n) => n.name);
      assert.equal(
        winogradLayers,
        candidates.filter((n) => winogradLayers.includes(n)),
      );
      assert.ok(winogradLayers.length > 0, `no layer measured faster as Winograd: ${winogradReason}`);
      assert.match(winogradReason, /measured|probe table/);
      assert.equal(other.capabilities.winogradLayers, winogradLayers, "a second load of the process");
      console.log(
        `  ${build}: ${winogradLayers.length} of ${candidates.length} candidates run Winograd (${winogradReason.slice(0, 60)}...)`,
      );
    } finally {
      await Promise.all([net.dispose(), other.dispose()]);
    }
    const want = await assertBatchBits({ weights: w, build, precision: "fast" }, [
      [2, 1],
      [1, 8],
      [2, 8],
      [2, 3],
    ]);
    console.log(
      `  ${build}: ${want.length} inputs, first ${want[0].slice(0, 16)}, identical at 1/2 threads, batches 1/3/8`,
    );
  });
}

test("the layer choice measures on the load's scratch instance: it makes no instance or memory of its own", async () => {
  const compiled = await compileKernels("baseline", nodeRuntime);
  const { tile } = chooseTile(compiled, "auto", "tile");
  scratchKernels(compiled); // the load's, made by its self-test or tile probe before the choice
  const made = { instances: 0, memories: 0 };
  const { Instance, Memory } = WebAssembly;
  WebAssembly.Instance = new Proxy(Instance, {
    construct: (target, args) => (made.instances++, Reflect.construct(target, args)),
  });
  WebAssembly.Memory = new Proxy(Memory, {
    construct: (target, args) => (made.memories++, Reflect.construct(target, args)),
  });
  let choice;
  try {
    // A fresh map of this process's choices and no probe table: the candidates are measured.
    choice = await chooseWinogradLayers(compiled, googlenetGraph(), 224, tile, undefined, new Map());
  } finally {
    WebAssembly.Instance = Instance;
    WebAssembly.Memory = Memory;
  }
  assert.match(choice.reason, /^measured/);
  assert.equal(made, { instances: 0, memories: 0 }, "instances and memories made while choosing");
});

test("every labelled photo keeps its strict top-5 classes and its reference top-1 in fast mode", async () => {
  const w = await mat();
  const strict = await GoogLeNet.load({ weights: w, threads: 1 });
  const fast = await GoogLeNet.load({ weights: w, threads: 1, precision: "fast" });
  try {
    assert.is(strict.capabilities.precision, "strict");
    assert.equal(strict.capabilities.winogradLayers, []);
    let maxDiff = 0;
    for (const photo of photoCases()) {
      const bytes = new Uint8Array(readFileSync(photo.file));
      const s = await strict.probabilities(bytes);
      const f = await fast.probabilities(bytes);
      assert.equal(top5(f).slice().sort(), top5(s).slice().sort(), `${photo.file}: fast top-5 set`);
      assert.is(top5(f)[0], photo.top1, `${photo.file}: fast top-1`);
      for (let i = 0; i < s.length; i++) maxDiff = Math.max(maxDiff, Math.abs(s[i] - f[i]));
    }
    console.log(`  ${photoCases().length} photos; largest |p_fast - p_strict| ${maxDiff.toExponential(2)}`);
  } finally {
    await Promise.all([strict.dispose(), fast.dispose()]);
  }
});

test("precision is checked: anything but strict or fast is an ArgumentError naming the option", async () => {
  const e = await GoogLeNet.load({ precision: "winograd" as never }).catch((x: unknown) => x);
  assert.instance(e, ArgumentError);
  assert.match((e as Error).message, /precision/);
  assert.match((e as Error).message, /"strict" or "fast"/);
});

test.run();
