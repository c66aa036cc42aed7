// The packed weights cache (warm start): a cold load packs and stores the weight region, a warm
// load reads and copies it and computes the same bits; a corrupt, truncated, stale or foreign
// entry is discarded and rebuilt, never loaded; the IWPACK checks are typed errors naming the file.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { WeightsError } from "../src/host/errors.js";
import { checkPackedWeights, encodePackedWeights, PACKED_HEADER_BYTES } from "../src/model/formats/iwpack.js";
import { encodeWeightFile } from "../src/model/formats/iwnet.js";
import { GoogLeNet, syntheticInput, floatsSha256 } from "../src/node/index.js";
import { matWeights } from "./support/data.js";

const tmp = mkdtempSync(join(tmpdir(), "packed-test-"));
const weightsFile = join(tmp, "googlenet.iwnet");
writeFileSync(weightsFile, await encodeWeightFile(await matWeights()));
const cacheDir = join(tmp, "cache");
const packedDir = join(cacheDir, "packed");
const input = syntheticInput(3 * 224 * 224);

/** Loads the weights file with the cache (1 thread, baseline: the same bits everywhere), runs the golden input. */
async function loadAndRun(options: { packedCache?: boolean } = {}): Promise<{ from: string; sha: string }> {
  const net = await GoogLeNet.load({ weights: weightsFile, cacheDir, threads: 1, build: "baseline", ...options });
  try {
    const { probabilities } = await net.run(input);
    return { from: net.loadTimes!.weightsFrom, sha: await floatsSha256(probabilities) };
  } finally {
    await net.dispose();
  }
}

const entry = (): string => {
  const files = readdirSync(packedDir);
  assert.equal(files.length, 1, `one entry: ${files.join(", ")}`);
  assert.match(files[0], /^[0-9a-f]{16}-baseline\.iwpack$/);
  return join(packedDir, files[0]);
};

const reference = await loadAndRun({ packedCache: false });

test("cold load packs and stores the region; warm load reads it and computes the same bits", async () => {
  assert.is(reference.from, "tensors");
  const cold = await loadAndRun();
  assert.match(cold.from, /^tensors \(packed cache: cannot read .*ENOENT/);
  assert.is(cold.sha, reference.sha);
  const warm = await loadAndRun();
  assert.is(warm.from, "packed cache");
  assert.is(warm.sha, reference.sha);
});

const corruptions: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
  ["a flipped payload bit", (b) => ((b[PACKED_HEADER_BYTES + 12345] ^= 0x10), b), /payload SHA-256/],
  ["a truncated file", (b) => b.subarray(0, b.length - 100), /expected a file of \d+ bytes, found \d+/],
  ["another layout key", (b) => ((b[20] ^= 1), b), /layout key/],
  ["another format version", (b) => ((b[8] = 9), b), /version 1, found 9/],
  ["a wrong magic", (b) => ((b[0] = 0), b), /magic/],
];
for (const [what, corrupt, reason] of corruptions) {
  test(`${what}: discarded and rebuilt, never loaded`, async () => {
    const file = entry();
    writeFileSync(file, corrupt(new Uint8Array(readFileSync(file))));
    const repaired = await loadAndRun();
    assert.match(repaired.from, /^tensors \(packed cache: /);
    assert.match(repaired.from, reason);
    assert.ok(repaired.from.includes(file), `names the file: ${repaired.from}`);
    assert.is(repaired.sha, reference.sha);
    const warm = await loadAndRun();
    assert.is(warm.from, "packed cache", "rebuilt entry loads");
    assert.is(warm.sha, reference.sha);
  });
}

test("checkPackedWeights: typed errors naming the file, expected vs found", async () => {
  const key = new Uint8Array(32).fill(7);
  const region = Uint8Array.from({ length: 1000 }, (_, i) => i * 31);
  const file = await encodePackedWeights(key, region);
  assert.equal([...(await checkPackedWeights(file, "x.iwpack", key, 1000))], [...region]);
  const cases: [Uint8Array, Uint8Array, number, RegExp][] = [
    [file, key, 999, /expected a file of 1127 bytes, found 1128/],
    [file, new Uint8Array(32), 1000, /expected layout key 0{64}, found (07){32}/],
    [Uint8Array.from(file).fill(1, 100, 101), key, 1000, /zero bytes/],
    [Uint8Array.from(file).fill(0, 500, 501), key, 1000, /payload SHA-256/],
  ];
  for (const [bytes, k, n, message] of cases) {
    try {
      await checkPackedWeights(bytes, "x.iwpack", k, n);
      assert.unreachable("expected a WeightsError");
    } catch (error) {
      assert.instance(error, WeightsError);
      assert.is((error as WeightsError).file, "x.iwpack");
      assert.match((error as Error).message, message);
    }
  }
});

test("packedCache: false neither reads nor writes the cache", async () => {
  rmSync(packedDir, { recursive: true, force: true });
  const r = await loadAndRun({ packedCache: false });
  assert.is(r.from, "tensors");
  assert.is(r.sha, reference.sha);
  assert.equal(readdirSync(cacheDir).includes("packed"), false);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
