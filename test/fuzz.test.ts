// Seeded fuzzing in the suite (test/support/fuzz.ts, fuzzRunner.ts): a few hundred mutated files per
// format: PNG, JPEG, MAT, IWPACK (1 MiB payload) and the full-size weight files (IWNET, caffemodel,
// ONNX: 28-54 MB each, about 0.1-0.2 s a case) within the suite's time budget. Fails on any crash, hang, untyped
// error or wrong success; `npm run fuzz -- --cases N --seed S` runs as many as wanted.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeImage } from "../src/model/image/decode.js";
import { PHOTOS_DIR } from "./support/data.js";
import { caseMutant, FAILURES, runCase, spliceIsContent, subjects } from "./support/fuzz.js";
import { formatReport, runFuzz } from "./support/fuzzRunner.js";
import { announceSeed } from "./support/rng.js";

const seed = announceSeed("fuzz");

for (const [formats, cases] of [
  [["png", "jpeg", "mat", "iwpack"], 300],
  [["iwnet", "caffemodel", "onnx"], 200],
] as const) {
  test(`fuzz ${formats.join(", ")}: ${cases} cases each, no crash, hang, untyped error or wrong success`, async () => {
    const report = await runFuzz({ formats, cases, seed, timeoutMs: 10_000, heapMb: 1024, parallel: 2 });
    console.log(formatReport(report, formats));
    for (const f of formats) {
      const t = report.table.get(f)!;
      assert.is(
        FAILURES.reduce((n, o) => n + t[o], 0),
        0,
        `${f}: ${JSON.stringify(t)}`,
      );
      assert.ok(t.typed > 0, `${f}: some mutations are rejected`);
    }
  });
}

test("a splice counts as content only inside JPEG scan data and when it forms no marker", () => {
  const src = new Uint8Array(readFileSync(join(PHOTOS_DIR, "fruits.jpg")));
  // fruits.jpg: the SOS segment is at 640 with length 12, so its entropy-coded data is [654, EOI).
  assert.equal([src[640], src[641], (src[642] << 8) | src[643]], [0xff, 0xda, 12]);
  const scan: [number, number][] = [[654, src.length - 2]];
  const duplicate = (at: number, n: number): Uint8Array => {
    const out = new Uint8Array(src.length + n);
    out.set(src.subarray(0, at + n));
    out.set(src.subarray(at), at + n);
    return out;
  };
  // Seed 696858189's jpeg case 110: the copy of [646, 672) lands at 672, inside the scan data; the
  // header before it is intact, so the splice is content. (jpeg-js decoded it to a different image;
  // the scan-data check now rejects it: the data goes on 28 bytes past the last MCU.)
  const inScan = duplicate(646, 26);
  assert.ok(spliceIsContent(scan, inScan, 672, 672, 26));
  assert.throws(() => decodeImage(inScan, "fruits.jpg dup"), /found 28 more bytes/);
  // The copy of [630, 644) lands at 644, inside the SOS header: structure.
  assert.not.ok(spliceIsContent(scan, duplicate(630, 14), 644, 644, 14));
  // A copy that brings an FF before a non-zero byte into the scan forms a marker: structure.
  const ff = src.indexOf(0xff, 700);
  assert.is(src[ff + 1], 0x00, "an FF 00 stuffing pair in the scan");
  assert.not.ok(spliceIsContent(scan, duplicate(ff, 1), ff + 1, ff + 1, 1));
  // A deletion of 5 bytes at 800, where no FF is near (asserted): content.
  assert.not.ok(src.subarray(795, 810).includes(0xff));
  const deleted = new Uint8Array(src.length - 5);
  deleted.set(src.subarray(0, 800));
  deleted.set(src.subarray(805), 800);
  assert.ok(spliceIsContent(scan, deleted, 800, 805, 0));
  // A deletion reaching from the header into the scan: structure.
  assert.not.ok(spliceIsContent(scan, deleted, 650, 655, 0));
});

test("a JPEG component's table selector is content: another defined table gives a valid, different image", async () => {
  const rocket = (await subjects("jpeg", 0)).find((s) => s.name === "rocket.jpg")!;
  const covered = (p: number): boolean => rocket.unprotected.some(([a, b]) => p >= a && p < b);
  // rocket.jpg: SOF0 at 766 (3 components at 776, 779, 782: id, sampling, Tq), SOS at 1027 (Ns at
  // 1031, then id and Td/Ta for each component).
  const src = rocket.bytes;
  assert.equal([src[766], src[767], src[775], src[1027], src[1028], src[1031]], [0xff, 0xc0, 3, 0xff, 0xda, 3]);
  for (const tq of [778, 781, 784]) assert.ok(covered(tq), `Tq at ${tq} is content`);
  for (const tables of [1033, 1035, 1037]) assert.ok(covered(tables), `Td/Ta at ${tables} is content`);
  for (const structure of [775, 776, 777, 782, 783, 1031, 1032]) assert.not.ok(covered(structure), `${structure}`);
  // Seed 696858189's jpeg case 2935 flipped the third component's Tq 1 -> 0: table 0 is defined.
  const other = src.slice();
  other[784] = 0;
  const decoded = decodeImage(other, "rocket.jpg Tq 0");
  assert.is.not(decoded.data.join(), decodeImage(src, "rocket.jpg").data.join());
  other[784] = 3; // no table 3
  assert.throws(
    () => decodeImage(other, "rocket.jpg Tq 3"),
    /component 3: expected quantization table 3 defined before the first scan/,
  );
});

test("ONNX: a valid model of another meaning is 'changed', an invalid one must be rejected (seed 21's cases and others)", async () => {
  // Each flips a tag: 2165 and 6845 turn MaxPool's strides, ceil_mode into an unknown field 13
  // (ignored: strides 1, ceil_mode 0); 5232 turns a Conv's bias input into its name (no bias);
  // 5533 makes a BatchNormalization read layer0's running_var (same shape) instead of layer1's.
  // 6033 turns a Conv's name into a second output and 6835 a MaxPool attribute's type into 39:
  // invalid models the importer loaded until it checked outputs and attribute types. 7698 makes
  // an LRN's beta -0.75: valid ONNX that onnxruntime's LRN kernel refuses (beta > 0 only). 9723
  // pads a MaxPool by 16 past its 3x3 kernel (windows wholly in the padding have no value); 9805
  // makes a node name bytes that are not UTF-8.
  const want: [number, string][] = [
    [2165, "changed"],
    [6845, "changed"],
    [5232, "changed"],
    [5533, "changed"],
    [6033, "typed"],
    [6835, "typed"],
    [7698, "changed"],
    [9723, "typed"],
    [9805, "typed"],
  ];
  for (const [index, outcome] of want) {
    const r = await runCase("onnx", 21, index);
    assert.is(r.outcome, outcome, `case ${index} ${r.what}: ${r.detail}`);
  }
  // Seed 1345184313's case 83 renames a Gather's indices (torchvision's input transform) to a FLOAT
  // constant: invalid ONNX (indices are INT32 or INT64) that the importer loaded until it checked the type.
  const floatIndices = await runCase("onnx", 1345184313, 83);
  assert.is(floatIndices.outcome, "typed", `${floatIndices.what}: ${floatIndices.detail}`);
  assert.match(floatIndices.detail, /Gather .*'indices' expected INT32 or INT64 values, found FLOAT values/);
  // The oracle itself: the changed model with another result than the loader's, and the invalid
  // model (onnxruntime rejects it) whatever the result, are not valid changes.
  const valid = await caseMutant("onnx", 21, 2165);
  const key = await valid.subject.decode(valid.mutant.bytes, "case 2165");
  assert.ok(await valid.subject.validChange!(valid.mutant.bytes, key));
  assert.not.ok(await valid.subject.validChange!(valid.mutant.bytes, valid.subject.reference));
  const invalid = await caseMutant("onnx", 21, 6033);
  assert.not.ok(await invalid.subject.validChange!(invalid.mutant.bytes, invalid.subject.reference));
});

test.run();
