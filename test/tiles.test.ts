// The GEMM register tile family on the whole network: every tile gives the same output bits (each
// reduces an element the same way, assembly/tiles.ts), at 1 and 2 threads and at every batch
// position; the tile option is checked; net.kernel, kernelReason and packLayout report the choice
// (the probe table that keeps "auto"'s choice between processes: tilesCache.test.ts).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { ArgumentError } from "../src/host/errors.js";
import { compileKernels, scratchKernels } from "../src/host/wasm/kernels.js";
import { UNTIMED_TILE, chooseTile, tileFamily } from "../src/host/wasm/tiles.js";
import { GoogLeNet } from "../src/node/index.js";
import { assertBatchBits } from "./support/batching.js";
import { matWeights as mat } from "./support/data.js";
import { nodeRuntime } from "../src/node/runtime.js";

const baseline = await compileKernels("baseline", nodeRuntime);
const family = tileFamily(scratchKernels(baseline).k);

test("the family has several tiles with distinct names; tiles of equal rows share a packing layout", () => {
  assert.ok(family.length >= 2, `${family.length} tiles`);
  assert.is(new Set(family.map((t) => t.name)).size, family.length);
  for (const a of family)
    for (const b of family) assert.is(a.packLayout === b.packLayout, a.rows === b.rows, `${a.name} vs ${b.name}`);
});

for (const build of ["baseline", "relaxed"] as const) {
  test(`${build}: every tile gives the 4x8 tile's bits alone, at every batch position, at 1 and 2 threads`, async () => {
    const w = await mat();
    const configs = [
      [1, 8],
      [2, 3],
    ] as const;
    // Per tile: each image alone, then in batches of 8 (1 thread) and 3 (2 threads), the same bits.
    const reference = await assertBatchBits({ weights: w, build, tile: family[0].name, warmUp: false }, configs);
    for (const tile of family.slice(1)) {
      const got = await assertBatchBits({ weights: w, build, tile: tile.name, warmUp: false }, configs);
      assert.equal(got, reference, `tile ${tile.name} against tile ${family[0].name}`);
      console.log(`  ${build} ${tile.name}: ${got.length} images at 1 and 2 threads, batches of 8 and 3: same bits`);
    }
  });
}

test("a requested tile runs and is reported: net.kernel, kernelReason, packLayout", async () => {
  for (const tile of family) {
    const net = await GoogLeNet.load({ weights: await mat(), threads: 1, tile: tile.name, warmUp: false });
    try {
      assert.is(net.kernel, tile.name);
      assert.is(net.kernelReason, "requested");
      assert.is(net.packLayout, tile.packLayout);
    } finally {
      await net.dispose();
    }
  }
});

test("tile probe (auto's probe, made now): the load-time probe picks a tile of the family and says why", async () => {
  const net = await GoogLeNet.load({ weights: await mat(), threads: 1, warmUp: false, tile: "probe" });
  try {
    assert.ok(
      family.some((t) => t.name === net.kernel),
      net.kernel,
    );
    assert.match(net.kernelReason, /^probe \(\d+ rounds/);
    for (const t of family) assert.match(net.kernelReason, new RegExp(`\\b${t.name} \\d+\\.\\d`));
    console.log(`  picked ${net.kernel}: ${net.kernelReason}`);
  } finally {
    await net.dispose();
  }
});

test("a clock that stands still while code runs (Cloudflare Workers) ends the probe with the untimed runtimes' tile", () => {
  const own = Object.getOwnPropertyDescriptor(performance, "now");
  Object.defineProperty(performance, "now", { value: () => 1234.5, configurable: true, writable: true });
  try {
    const chosen = chooseTile(baseline, "auto", "test");
    assert.ok(
      family.some((t) => t.name === UNTIMED_TILE),
      `${UNTIMED_TILE} is a tile of the build`,
    );
    assert.is(chosen.tile.name, UNTIMED_TILE);
    assert.match(chosen.reason, /clock did not advance/);
  } finally {
    if (own) Object.defineProperty(performance, "now", own);
    else delete (performance as { now?: unknown }).now;
  }
  assert.ok(performance.now() !== 1234.5, "performance.now restored");
});

test("an unknown tile is an ArgumentError naming the option and the tiles", async () => {
  for (const tile of ["5x5", "auto ", 48]) {
    const e = await GoogLeNet.load({ weights: await mat(), threads: 1, tile: tile as string }).catch((x: unknown) => x);
    assert.instance(e, ArgumentError, String(tile));
    assert.match((e as Error).message, /tile/);
    if (typeof tile === "string") for (const t of family) assert.match((e as Error).message, `"${t.name}"`);
  }
});

test.run();
