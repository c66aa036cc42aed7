// MAT level-5 reader: the real BVLC GoogLeNet files, hand-built files for the format variants,
// and malformed inputs (each must throw WeightsError naming the file with expected/found wording).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { zlibSync } from "fflate";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { WeightsError } from "../src/host/errors.js";
import { readMat } from "../src/model/formats/mat.js";
import { readCaffeBlob, resolveDataDir } from "../src/node/weights.js";

const dataDir = resolveDataDir();
const params = (name: string): string => join(dataDir, "bvlc-params", name);
const blob = (name: string): string => join(dataDir, "caffe-blobs", name);

// ---- builders for hand-made MAT files ----

const miINT8 = 1,
  miUINT8 = 2,
  miINT16 = 3,
  miINT32 = 5,
  miUINT32 = 6,
  miSINGLE = 7,
  miDOUBLE = 9,
  miMATRIX = 14,
  miCOMPRESSED = 15;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function header(text = "MATLAB 5.0 MAT-file, test", endian = "IM"): Uint8Array {
  const h = new Uint8Array(128).fill(0x20);
  h.set(new TextEncoder().encode(text), 0);
  h.set([0x00, 0x01], 124);
  h.set(new TextEncoder().encode(endian), 126);
  return h;
}

/** A data element: small format when `small` and payload <= 4 bytes, else tag + payload padded to 8 (unless compressed). */
function element(type: number, payload: Uint8Array, small = false): Uint8Array {
  if (small && payload.length <= 4) {
    const e = new Uint8Array(8);
    new DataView(e.buffer).setUint32(0, (payload.length << 16) | type, true);
    e.set(payload, 4);
    return e;
  }
  const padded = type === miCOMPRESSED ? payload.length : Math.ceil(payload.length / 8) * 8;
  const e = new Uint8Array(8 + padded);
  const v = new DataView(e.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, payload.length, true);
  e.set(payload, 8);
  return e;
}

function matrix(o: {
  name: string;
  dims: number[];
  cls?: number;
  flags?: number;
  type?: number;
  values: ArrayLike<number>;
}): Uint8Array {
  const type = o.type ?? miSINGLE;
  const data =
    type === miDOUBLE
      ? new Uint8Array(Float64Array.from(o.values).buffer)
      : type === miUINT8
        ? Uint8Array.from(o.values)
        : type === miINT16
          ? new Uint8Array(Int16Array.from(o.values).buffer)
          : new Uint8Array(Float32Array.from(o.values).buffer);
  return element(
    miMATRIX,
    concat([
      element(miUINT32, new Uint8Array([o.cls ?? 7, o.flags ?? 0, 0, 0, 0, 0, 0, 0])),
      element(miINT32, new Uint8Array(Int32Array.from(o.dims).buffer)),
      element(miINT8, new TextEncoder().encode(o.name), true),
      element(type, data),
    ]),
  );
}

const compressed = (e: Uint8Array): Uint8Array => element(miCOMPRESSED, zlibSync(e));

function assertWeightsError(fn: () => unknown, file: string, ...patterns: RegExp[]): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, WeightsError);
    const message = (error as WeightsError).message;
    assert.ok(message.includes(file), `message names the file: ${message}`);
    for (const p of patterns) assert.match(message, p);
    return;
  }
  assert.unreachable("expected a WeightsError");
}

// ---- real data ----

test("conv1_7x7_s2_w.mat: weights (7, 7, 3, 64)", () => {
  const vars = readMat(readFileSync(params("conv1_7x7_s2_w.mat")), "conv1_7x7_s2_w.mat");
  assert.is(vars.length, 1);
  const [v] = vars;
  assert.is(v!.name, "weights");
  assert.equal(v!.dims, [7, 7, 3, 64]);
  assert.is(v!.data.length, 64 * 3 * 7 * 7);
  assert.ok(v!.data.every(Number.isFinite));
  assert.ok(v!.data.some((x) => x !== 0));
});

test("loss3_classifier_w.mat: weights (1024, 1000); bias (1000, 1)", () => {
  const [w] = readMat(readFileSync(params("loss3_classifier_w.mat")), "loss3_classifier_w.mat");
  assert.is(w!.name, "weights");
  assert.equal(w!.dims, [1024, 1000]);
  assert.is(w!.data.length, 1024000);
  const [b] = readMat(readFileSync(params("loss3_classifier_b.mat")), "loss3_classifier_b.mat");
  assert.is(b!.name, "bias");
  assert.equal(b!.dims, [1000, 1]);
  assert.is(b!.data.length, 1000);
});

test("caffe blobs: 1_data [3,227,227], 121_prob [1000] summing to 1, pool5 [1024,1,1]", async () => {
  const input = await readCaffeBlob(blob("1_data.mat"));
  assert.equal(input.shape, [3, 227, 227]);
  assert.is(input.data.length, 3 * 227 * 227);
  const prob = await readCaffeBlob(blob("121_prob.mat"));
  assert.equal(prob.shape, [1000]);
  const sum = prob.data.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-4, `sum ${sum}`);
  assert.ok(prob.data.every((p) => p >= 0));
  const pool5 = await readCaffeBlob(blob("119_pool5_7x7_s1.mat"));
  assert.equal(pool5.shape, [1024, 1, 1]);
});

// ---- format variants ----

test("plain miMATRIX, small-element name, miDOUBLE/miUINT8 real parts, compressed equals plain", () => {
  const a = matrix({ name: "a", dims: [2, 3], cls: 6, type: miDOUBLE, values: [1, 2, 3, 4.5, -5, 6] });
  const b = matrix({ name: "bytes", dims: [1, 3], cls: 9, type: miUINT8, values: [0, 7, 255] });
  const c = matrix({ name: "long_name", dims: [2, 1], values: [0.25, -1] });
  const plain = readMat(concat([header(), a, b, c]), "plain.mat");
  assert.equal(
    plain.map((v) => v.name),
    ["a", "bytes", "long_name"],
  );
  assert.equal(
    plain.map((v) => v.dims),
    [
      [2, 3],
      [1, 3],
      [2, 1],
    ],
  );
  assert.equal(Array.from(plain[0]!.data), [1, 2, 3, 4.5, -5, 6]);
  assert.equal(Array.from(plain[1]!.data), [0, 7, 255]);
  assert.equal(Array.from(plain[2]!.data), [0.25, -1]);
  const packed = readMat(concat([header(), compressed(a), compressed(b), compressed(c)]), "packed.mat");
  assert.equal(packed, plain);
});

// ---- malformed inputs ----

const realBias = new Uint8Array(readFileSync(params("conv1_7x7_s2_b.mat"))); // a copy: Buffer.slice() would not copy

test("empty file and truncated header", () => {
  assertWeightsError(
    () => readMat(new Uint8Array(0), "empty.mat"),
    "empty.mat",
    /expected a 128-byte header, found 0 bytes/,
  );
  assertWeightsError(
    () => readMat(realBias.subarray(0, 100), "short.mat"),
    "short.mat",
    /expected a 128-byte header, found 100 bytes/,
  );
});

test("wrong header text, big-endian, bad endian indicator", () => {
  assertWeightsError(
    () => readMat(concat([header("MATLAB 7.3 MAT-file"), realBias.subarray(128)]), "v73.mat"),
    "v73.mat",
    /expected header text "MATLAB 5\.0 MAT-file", found "MATLAB 7\.3 MAT-file"/,
  );
  assertWeightsError(
    () => readMat(header(undefined, "MI"), "big.mat"),
    "big.mat",
    /big-endian.*expected endian indicator "IM", found "MI"/,
  );
  assertWeightsError(
    () => readMat(header(undefined, "XX"), "odd.mat"),
    "odd.mat",
    /expected endian indicator "IM", found "XX"/,
  );
});

test("truncated compressed element and truncated tag", () => {
  assertWeightsError(
    () => readMat(realBias.subarray(0, 200), "cut.mat"),
    "cut.mat",
    /truncated top-level element at byte 128: expected \d+ bytes of data, found 64/,
  );
  assertWeightsError(
    () => readMat(realBias.subarray(0, 132), "cuttag.mat"),
    "cuttag.mat",
    /truncated top-level element.*expected an 8-byte tag, found 4 bytes/,
  );
  assertWeightsError(
    () => readMat(concat([header(), element(miCOMPRESSED, new Uint8Array([0x78, 0x9c, 0x03]))]), "tiny.mat"),
    "tiny.mat",
    /compressed element of 3 bytes: expected a zlib stream of at least 6 bytes .*found 3/,
  );
});

test("corrupted zlib bytes: stream error or Adler-32 mismatch", () => {
  const badHeader = realBias.slice();
  badHeader[136] = 0x00; // zlib CMF byte
  assertWeightsError(() => readMat(badHeader, "zhead.mat"), "zhead.mat", /zlib inflate failed/);
  const badBody = realBias.slice();
  for (let i = 160; i < 176; i++) badBody[i]! ^= 0x5a;
  assertWeightsError(() => readMat(badBody, "zbody.mat"), "zbody.mat", /zlib/);
  const badSum = realBias.slice();
  badSum[badSum.length - 1]! ^= 0x01; // last byte of the Adler-32 trailer
  assertWeightsError(
    () => readMat(badSum, "zsum.mat"),
    "zsum.mat",
    /zlib checksum mismatch: expected Adler-32 0x[0-9a-f]{8}, found 0x[0-9a-f]{8}/,
  );
});

test("data length not matching dims names the variable", () => {
  const m = matrix({ name: "weights", dims: [2, 3], values: [1, 2, 3, 4, 5] });
  assertWeightsError(
    () => readMat(concat([header(), m]), "len.mat"),
    "len.mat",
    /variable "weights": dims \[2, 3\] need 6 miSINGLE values \(24 bytes\), found 20 bytes/,
  );
  assertWeightsError(
    () => readMat(concat([header(), compressed(m)]), "lenz.mat"),
    "lenz.mat",
    /variable "weights".*found 20 bytes/,
  );
});

test("complex, sparse, char and unsupported real types are rejected", () => {
  const file = (m: Uint8Array): Uint8Array => concat([header(), m]);
  assertWeightsError(
    () => readMat(file(matrix({ name: "z", dims: [1, 1], flags: 0x08, values: [1] })), "complex.mat"),
    "complex.mat",
    /variable "z": expected a real single array, found a complex one/,
  );
  assertWeightsError(
    () => readMat(file(matrix({ name: "s", dims: [1, 1], cls: 5, values: [1] })), "sparse.mat"),
    "sparse.mat",
    /variable "s": expected a double, single or uint8 array, found class sparse/,
  );
  assertWeightsError(
    () => readMat(file(matrix({ name: "t", dims: [1, 1], cls: 4, values: [1] })), "char.mat"),
    "char.mat",
    /found class char/,
  );
  assertWeightsError(
    () => readMat(file(matrix({ name: "i", dims: [1, 2], cls: 6, type: miINT16, values: [1, 2] })), "int16.mat"),
    "int16.mat",
    /variable "i": expected real part of type miSINGLE \(7\), miDOUBLE \(9\) or miUINT8 \(2\), found type 3/,
  );
  assertWeightsError(
    () => readMat(concat([header(), element(miUINT32, new Uint8Array(8))]), "other.mat"),
    "other.mat",
    /expected miMATRIX \(14\) or miCOMPRESSED \(15\), found type 6/,
  );
});

test.run();
