// Preprocessing scratch reused across calls (src/model/image/workspace.ts): decoding and crops through
// one workspace give the bits fresh arrays give, image after image of different sizes (nothing of a
// larger earlier image shows through), the workspace does not grow when an image of a size it has
// seen comes back, and a network's classify calls (each in flight with its own workspace) give the
// bits of fresh preprocessing, serial or concurrent.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { averageProbabilities, cropInputs, type CropCount } from "../src/model/image/crops.js";
import { decodeImage, type DecodeOptions } from "../src/model/image/decode.js";
import { Workspace } from "../src/model/image/workspace.js";
import { GoogLeNet } from "../src/node/index.js";
import { floatsSha as sha, PHOTOS_DIR } from "./support/data.js";
import { createHash } from "node:crypto";

const photo = (name: string): Uint8Array => new Uint8Array(readFileSync(join(PHOTOS_DIR, name)));
const bytesSha = (a: Uint8Array | Uint8ClampedArray): string =>
  createHash("sha256")
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest("hex");

/** One preprocessing case: a file, how it is decoded (full size or scaled to a short side) and its crops. */
interface Case {
  file: string;
  minShortSide: number;
  crops: CropCount;
}

// Big, small, big again (eagle.jpg decoded whole is 773x512; scaled, 387x256), a PNG between, every crop protocol.
const SEQUENCE: Case[] = [
  { file: "eagle.jpg", minShortSide: Number.POSITIVE_INFINITY, crops: 1 },
  { file: "sample_input.jpg", minShortSide: 256, crops: 1 },
  { file: "eagle.jpg", minShortSide: Number.POSITIVE_INFINITY, crops: 1 },
  { file: "chelsea.png", minShortSide: 256, crops: 1 },
  { file: "eagle.jpg", minShortSide: 256, crops: 10 },
  { file: "coffee.png", minShortSide: 256, crops: 144 },
  { file: "sample_input.jpg", minShortSide: 256, crops: 10 },
  { file: "eagle.jpg", minShortSide: 352, crops: 144 },
  { file: "fruits.jpg", minShortSide: 256, crops: 1 },
];

/** Hashes of the decoded pixels and of every crop's input, through `workspace` or fresh arrays. */
function preprocess(c: Case, workspace?: Workspace): string[] {
  const options: DecodeOptions = { minShortSide: c.minShortSide, workspace };
  const rgba = decodeImage(photo(c.file), c.file, options);
  const pixels = `${rgba.width}x${rgba.height} ${bytesSha(rgba.data)}`;
  return [pixels, ...cropInputs(rgba, c.crops, 224, "antialias", workspace).map(sha)];
}

test("decode and crops through one reused workspace: the bits of fresh arrays, image after image", () => {
  const workspace = new Workspace();
  const sizes: number[] = [];
  for (const c of SEQUENCE) {
    const want = preprocess(c);
    const got = preprocess(c, workspace);
    assert.equal(got, want, `${c.file} (short side ${c.minShortSide}, ${c.crops} crops) after the images before it`);
    sizes.push(workspace.bytes);
  }
  // Grow-only: the third case (the first again) needs no slot larger than the first two took.
  assert.is(sizes[2], sizes[1], "eagle.jpg again after a smaller image: no growth");
  assert.ok(
    sizes.every((s, i) => i === 0 || s >= sizes[i - 1]),
    `never shrinks: ${sizes.join(", ")}`,
  );
  workspace.release();
  assert.is(workspace.bytes, 0);
});

test("a workspace's view is zero-filled and exactly the length asked, whatever its slot held", () => {
  const workspace = new Workspace();
  workspace.take(Float32Array, "a", 100).fill(7);
  const small = workspace.take(Float32Array, "a", 10);
  assert.is(small.length, 10);
  assert.ok(
    small.every((v) => v === 0),
    "no stale values",
  );
  const bigger = workspace.take(Float64Array, "a", 100); // 800 bytes: a new buffer
  assert.is(bigger.length, 100);
  assert.is(workspace.bytes, 800);
});

test("classify through the network's workspaces: fresh preprocessing's bits, serial and concurrent", async () => {
  const net = await GoogLeNet.load({ threads: 2 });
  try {
    /** Probabilities from fresh arrays: decode and crops without a workspace, then the runs. */
    const fresh = async (file: string, crops: CropCount): Promise<string> => {
      const rgba = decodeImage(photo(file), file, net.decodeOptions(crops));
      const inputs = cropInputs(rgba, crops, net.inputSize, net.resizeFilter);
      const all = (await net.runBatch(inputs)).map((r) => r.probabilities);
      return sha(all.length === 1 ? all[0] : averageProbabilities(all));
    };
    const calls: [string, CropCount][] = [
      ["coffee.png", 1],
      ["sample_input.jpg", 1],
      ["coffee.png", 1],
      ["eagle.jpg", 10],
      ["fruits.jpg", 1],
    ];
    const want: string[] = [];
    for (const [file, crops] of calls) want.push(await fresh(file, crops));
    const serial: string[] = [];
    for (const [file, crops] of calls) serial.push(sha(await net.probabilities(photo(file), { crops })));
    assert.equal(serial, want, "serial calls through the reused workspace");
    for (let round = 0; round < 2; round++) {
      const concurrent = await Promise.all(calls.map(([file, crops]) => net.probabilities(photo(file), { crops })));
      assert.equal(concurrent.map(sha), want, `concurrent calls, round ${round}`);
    }
  } finally {
    await net.dispose();
  }
});

test.run();
