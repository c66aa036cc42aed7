// Weights: MAT folder reading (real BVLC data), the IWNET format (round trip and malformed
// files), shape checks, the missing-data error, the IWNET cache and conversion.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { WeightsError } from "../src/host/errors.js";
import { decodeWeightFile, encodeWeightFile } from "../src/model/formats/iwnet.js";
import { convertMatDirectory, loadWeights, readMatWeights, resolveDataDir } from "../src/node/weights.js";
import { checkTensors, type TensorMap } from "../src/host/ir/tensors.js";

const dataDir = resolveDataDir();
const tmp = mkdtempSync(join(tmpdir(), "iwnet-test-"));
const expectedOf = (tensors: TensorMap) => [...tensors].map(([name, t]) => ({ name, shape: t.shape }));
const bits = (data: Float32Array): Uint32Array => new Uint32Array(data.buffer, data.byteOffset, data.length);

function assertSameTensors(actual: TensorMap, expected: TensorMap): void {
  assert.equal([...actual.keys()], [...expected.keys()]);
  for (const [name, t] of expected) {
    const a = actual.get(name)!;
    assert.equal(a.shape, t.shape, name);
    assert.ok(
      bits(a.data).every((b, i) => b === bits(t.data)[i]),
      `${name}: identical bits`,
    );
  }
}

async function assertRejects(
  promise: Promise<unknown>,
  file: string,
  tensor: string | undefined,
  ...patterns: RegExp[]
): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, WeightsError);
    const e = error as WeightsError;
    assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
    assert.is(e.tensor, tensor);
    if (tensor) assert.ok(e.message.includes(tensor), `message names the tensor: ${e.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return;
  }
  assert.unreachable("expected a WeightsError");
}

// Read once: the full BVLC weights (116 MAT files).
const all = await readMatWeights(dataDir);

test("readMatWeights: 116 tensors, 6,998,552 parameters, OIHW / [out, in] / [n] shapes", () => {
  assert.is(all.size, 116);
  assert.is(
    [...all.values()].reduce((n, t) => n + t.data.length, 0),
    6998552,
  );
  assert.equal(all.get("conv1_7x7_s2.weight")!.shape, [64, 3, 7, 7]);
  assert.equal(all.get("conv1_7x7_s2.bias")!.shape, [64]);
  assert.equal(all.get("inception_4c_5x5_reduce.weight")!.shape, [24, 512, 1, 1]);
  assert.equal(all.get("loss3_classifier.weight")!.shape, [1000, 1024]);
  assert.equal(all.get("loss3_classifier.bias")!.shape, [1000]);
  for (const [name, t] of all)
    assert.is(
      t.data.length,
      t.shape.reduce((a, b) => a * b, 1),
      name,
    );
});

test("IWNET round trip preserves names, order, shapes and bits; aligned data are views", async () => {
  const bytes = await encodeWeightFile(all);
  const decoded = await decodeWeightFile(bytes, "all.iwnet");
  assertSameTensors(decoded, all);
  for (const t of decoded.values()) {
    assert.is(t.data.buffer, bytes.buffer);
    assert.is(t.data.byteOffset % 64, 0);
  }
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  assertSameTensors(await decodeWeightFile(shifted.subarray(1), "shifted.iwnet"), all); // unaligned: copies
  assert.equal(await decodeWeightFile(await encodeWeightFile(new Map()), "empty.iwnet"), new Map());
});

// A small weight file for the malformation tests.
const small: TensorMap = new Map([
  ["a.weight", { shape: [2, 3, 1, 1], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
  ["a.bias", { shape: [2], data: Float32Array.from([0.5, -0.5]) }],
]);
const smallBytes = await encodeWeightFile(small);
const edited = (edit: (bytes: Uint8Array, view: DataView) => void): Uint8Array => {
  const bytes = smallBytes.slice();
  edit(bytes, new DataView(bytes.buffer));
  return bytes;
};
// Table entry 0 ("a.weight", rank 4) starts at byte 20: u16 + 8 name bytes + u8 rank + 4 dims.
const entry0Offset = 20 + 2 + 8 + 1 + 16;

test("IWNET: too short, truncated, wrong magic, wrong version", async () => {
  await assertRejects(
    decodeWeightFile(new Uint8Array(0), "empty.iwnet"),
    "empty.iwnet",
    undefined,
    /truncated: expected at least 52 bytes.*found 0/,
  );
  await assertRejects(
    decodeWeightFile(smallBytes.subarray(0, smallBytes.length - 10), "cut.iwnet"),
    "cut.iwnet",
    "a.bias",
    /outside the data area: expected within .*truncated/,
  );
  await assertRejects(decodeWeightFile(smallBytes.subarray(0, 60), "cut2.iwnet"), "cut2.iwnet", undefined, /truncated/);
  await assertRejects(
    decodeWeightFile(
      edited((b) => b.set([0x50, 0x4b, 0x03, 0x04], 0)),
      "zip.iwnet",
    ),
    "zip.iwnet",
    undefined,
    /not an inception-wasm weight file: expected magic 49574e4554000d0a .*found 504b0304540/,
  );
  await assertRejects(
    decodeWeightFile(
      edited((_, v) => v.setUint32(8, 2, true)),
      "v2.iwnet",
    ),
    "v2.iwnet",
    undefined,
    /unsupported format version: expected 1, found 2/,
  );
});

test("IWNET: flipped data byte fails the checksum; bad table entries name the tensor", async () => {
  const dataOffset = new DataView(smallBytes.buffer).getUint32(entry0Offset, true);
  await assertRejects(
    decodeWeightFile(
      edited((b) => {
        b[dataOffset + 5]! ^= 0x10;
      }),
      "flip.iwnet",
    ),
    "flip.iwnet",
    undefined,
    /checksum mismatch.*expected SHA-256 [0-9a-f]{16}\.\.\., found [0-9a-f]{16}\.\.\./,
  );
  await assertRejects(
    decodeWeightFile(
      edited((_, v) => v.setUint32(entry0Offset, 1 << 30, true)),
      "far.iwnet",
    ),
    "far.iwnet",
    "a.weight",
    /data offset: expected \d+ .*found 1073741824/,
  );
  await assertRejects(
    decodeWeightFile(
      edited((_, v) => v.setUint32(entry0Offset + 4, 5, true)),
      "count.iwnet",
    ),
    "count.iwnet",
    "a.weight",
    /element count does not match dims: expected 6 for shape \[2, 3, 1, 1\], found 5/,
  );
});

test("checkTensors: missing tensor and wrong shape name the tensor", async () => {
  checkTensors(small, [{ name: "a.bias", shape: [2] }], "small.iwnet");
  await assertRejects(
    Promise.resolve().then(() => checkTensors(small, [{ name: "b.bias", shape: [4] }], "small.iwnet")),
    "small.iwnet",
    "b.bias",
    /missing tensor b\.bias, expected shape \[4\]/,
  );
  await assertRejects(
    Promise.resolve().then(() => checkTensors(small, [{ name: "a.weight", shape: [2, 3, 3, 3] }], "small.iwnet")),
    "small.iwnet",
    "a.weight",
    /expected shape \[2,3,3,3\], found \[2,3,1,1\]/,
  );
});

test("nonexistent MAT folder says where it looked and how to set the location", async () => {
  const missing = join(tmp, "no-such-dir");
  const patterns = [
    /no such folder/,
    /INCEPTION_WASM_DATA/,
    /--weights/,
    /BVLC GoogLeNet weights as per-layer MAT files/,
  ];
  await assertRejects(readMatWeights(missing), missing, undefined, ...patterns);
  await assertRejects(loadWeights({ source: missing, cacheDir: tmp, expected: [] }), missing, undefined, ...patterns);
  await assertRejects(readMatWeights(tmp), tmp, undefined, /found a folder without them/);
});

// A small MAT folder (three files) for the cache tests.
const matDir = join(tmp, "mats");
mkdirSync(matDir);
for (const f of ["conv1_7x7_s2_w.mat", "conv1_7x7_s2_b.mat", "loss3_classifier_b.mat"]) {
  copyFileSync(join(dataDir, "bvlc-params", f), join(matDir, f));
}

test("cache: first load reads MATs, second uses the cache, corrupt cache is rebuilt", async () => {
  const cacheDir = join(tmp, "cache");
  const smallSet = new Map(
    [...all].filter(([name]) => name.startsWith("conv1_7x7_s2.") || name === "loss3_classifier.bias"),
  );
  const expected = expectedOf(smallSet);
  const first = await loadWeights({ source: matDir, cacheDir, expected });
  assert.is(first.cached, false);
  assert.is(first.from, matDir);
  assertSameTensors(first.tensors, new Map([...smallSet].sort(([a], [b]) => (a < b ? -1 : 1))));
  const second = await loadWeights({ source: matDir, cacheDir, expected });
  assert.is(second.cached, true);
  assert.match(second.from, /googlenet-[0-9a-f]{16}\.iwnet$/);
  assertSameTensors(second.tensors, first.tensors);

  const cacheBytes = readFileSync(second.from);
  cacheBytes[cacheBytes.length - 40]! ^= 0xff;
  writeFileSync(second.from, cacheBytes);
  const third = await loadWeights({ source: matDir, cacheDir, expected });
  assert.is(third.cached, false);
  assertSameTensors(third.tensors, first.tensors);
  assert.is((await loadWeights({ source: matDir, cacheDir, expected })).cached, true);

  // An IWNET file as source, and a shape mismatch naming the tensor.
  const direct = await loadWeights({ source: second.from, expected });
  assert.is(direct.cached, false);
  assertSameTensors(direct.tensors, first.tensors);
  await assertRejects(
    loadWeights({ source: matDir, cacheDir, expected: [{ name: "conv1_7x7_s2.weight", shape: [64, 3, 5, 5] }] }),
    matDir,
    "conv1_7x7_s2.weight",
    /expected shape \[64,3,5,5\], found \[64,3,7,7\]/,
  );
});

test("convertMatDirectory writes a decodable IWNET file", async () => {
  const out = join(tmp, "small.iwnet");
  const expected = [{ name: "conv1_7x7_s2.weight", shape: [64, 3, 7, 7] }];
  const result = await convertMatDirectory(matDir, out, expected);
  const bytes = readFileSync(out);
  assert.equal(result, { tensors: 3, bytes: bytes.length });
  assert.is((await decodeWeightFile(bytes, out)).size, 3);
});

test("real data folder: first load builds the cache, second uses it", async () => {
  const cacheDir = join(tmp, "cache-all");
  const expected = expectedOf(all);
  const first = await loadWeights({ source: dataDir, cacheDir, expected });
  assert.is(first.cached, false);
  assert.is(first.tensors.size, 116);
  const second = await loadWeights({ source: dataDir, cacheDir, expected });
  assert.is(second.cached, true);
  assertSameTensors(second.tensors, first.tensors);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
