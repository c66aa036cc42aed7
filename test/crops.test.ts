// The test-time protocols (src/model/image/crops.ts): crop geometry against an independent float64
// reference, the mirror, 1 crop = the standard input, the labelled photos keep their top-1 under 10
// and 144 crops, bit-identical results at 1 and 2 threads, an ensemble of the same weights from two
// formats equal to the single model, and the eval command's table.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeImage } from "../src/model/image/decode.js";
import { cropInputs, cropViews, type CropView } from "../src/model/image/crops.js";
import { toNetworkInput } from "../src/model/image/preprocess.js";
import { ArgumentError, GoogLeNet, topClasses } from "../src/node/index.js";
import { encodeCaffemodel } from "./support/caffemodel.js";
import { DATA_DIR, floatsSha as sha, matWeights as mat, photoCases } from "./support/data.js";
import { rngFor } from "./support/rng.js";

/** Reference boxes written from the protocol texts, in float64 with explicit rounding, in a different loop order. */
function referenceBoxes(w: number, h: number, crops: 1 | 10 | 144): Set<string> {
  const key = (v: Omit<CropView, "mirror">, m: boolean): string =>
    `${v.resizeW}x${v.resizeH} ${v.x},${v.y} ${v.size}->${v.out}${m ? " m" : ""}`;
  const out = new Set<string>();
  const add = (v: Omit<CropView, "mirror">, mirrors: boolean[]): void => {
    for (const m of mirrors) out.add(key(v, m));
  };
  if (crops !== 144) {
    const offsets =
      crops === 1
        ? [[16, 16]]
        : [
            [0, 0],
            [0, 32],
            [32, 0],
            [32, 32],
            [16, 16],
          ];
    for (const [x, y] of offsets)
      add({ resizeW: 256, resizeH: 256, x, y, size: 224, out: 224 }, crops === 1 ? [false] : [false, true]);
    return out;
  }
  for (const scale of [352, 320, 288, 256]) {
    const [rw, rh] = w >= h ? [Math.round((w / h) * scale), scale] : [scale, Math.round((h / w) * scale)];
    const long = Math.max(rw, rh);
    for (const o of [long - scale, Math.floor((long - scale) / 2), 0]) {
      const [sx, sy] = rw >= rh ? [o, 0] : [0, o];
      for (const [dx, dy] of [
        [0, 0],
        [scale - 224, 0],
        [0, scale - 224],
        [scale - 224, scale - 224],
      ]) {
        add({ resizeW: rw, resizeH: rh, x: sx + dx, y: sy + dy, size: 224, out: 224 }, [true, false]);
      }
      const c = Math.floor((scale - 224) / 2);
      add({ resizeW: rw, resizeH: rh, x: sx + c, y: sy + c, size: 224, out: 224 }, [true, false]);
      add({ resizeW: rw, resizeH: rh, x: sx, y: sy, size: scale, out: 224 }, [true, false]);
    }
  }
  return out;
}

test("crop geometry: 1, 10 and 144 crops match the reference boxes (landscape, portrait, square)", () => {
  for (const [w, h] of [
    [500, 375],
    [375, 500],
    [400, 400],
    [4000, 3000],
    [257, 1000],
  ]) {
    for (const crops of [1, 10, 144] as const) {
      const views = cropViews(w, h, crops);
      assert.is(views.length, crops, `${w}x${h}, ${crops} crops`);
      const keys = views.map(
        (v) => `${v.resizeW}x${v.resizeH} ${v.x},${v.y} ${v.size}->${v.out}${v.mirror ? " m" : ""}`,
      );
      const unique = new Set(keys);
      const ref = referenceBoxes(w, h, crops);
      assert.equal([...unique].sort(), [...ref].sort(), `${w}x${h}, ${crops} crops`);
      for (const v of views)
        assert.ok(v.x + v.size <= v.resizeW && v.y + v.size <= v.resizeH, "inside the resized image");
      // Every crop's mirrored copy follows it (10 and 144).
      if (crops > 1)
        for (let i = 0; i < views.length; i += 2) assert.equal({ ...views[i], mirror: true }, views[i + 1]);
    }
  }
});

test("crop inputs: 1 crop is the standard input; a mirrored crop is its crop flipped left-right, exactly", () => {
  const rgba = decodeImage(new Uint8Array(readFileSync(photoCases()[0].file)), "photo");
  assert.is(sha(cropInputs(rgba, 1)[0]), sha(toNetworkInput(rgba)));
  for (const crops of [10, 144] as const) {
    const inputs = cropInputs(rgba, crops);
    assert.is(inputs.length, crops);
    for (let i = 0; i < inputs.length; i += 2) {
      const a = inputs[i],
        b = inputs[i + 1];
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < 224; y++) {
          for (let x = 0; x < 224; x++) {
            const p = c * 224 * 224 + y * 224;
            if (a[p + x] !== b[p + 223 - x]) assert.unreachable(`crop ${i}: (${c}, ${y}, ${x}) is not mirrored`);
          }
        }
      }
    }
  }
});

test("resizeFilter: the load option reaches every crop's resize; bilinear is the 2x2 resize; a bad filter is an ArgumentError", async () => {
  const rgba = decodeImage(new Uint8Array(readFileSync(photoCases()[0].file)), "photo");
  const w = await mat();
  const net = await GoogLeNet.load({ weights: w, threads: 1, resizeFilter: "bilinear" });
  try {
    assert.is(net.resizeFilter, "bilinear");
    assert.is(sha(net.toInput(rgba)), sha(toNetworkInput(rgba, { filter: "bilinear" })));
    assert.is.not(sha(toNetworkInput(rgba, { filter: "bilinear" })), sha(toNetworkInput(rgba)));
    const bilinear10 = cropInputs(rgba, 10, 224, "bilinear");
    const antialias10 = cropInputs(rgba, 10);
    assert.is(sha(bilinear10[8]), sha(toNetworkInput(rgba, { filter: "bilinear" })), "10-crop centre = 1-crop input");
    assert.ok(
      bilinear10.every((b, i) => sha(b) !== sha(antialias10[i])),
      "every crop resized with the filter",
    );
  } finally {
    await net.dispose();
  }
  for (const resizeFilter of ["lanczos", 1, null]) {
    try {
      await GoogLeNet.load({ weights: w, threads: 1, resizeFilter: resizeFilter as "bilinear" });
      assert.unreachable(`resizeFilter ${resizeFilter} loaded`);
    } catch (e) {
      assert.ok(e instanceof ArgumentError && /resizeFilter/.test((e as Error).message), String(e));
    }
  }
});

/**
 * How many of the most probable classes must include the photo's label: its top-1, except eagle.jpg
 * with 144 crops. Its centre crop is a near tie (photos.tsv: bald eagle 0.531, kite 0.458) whose winner
 * depends on the resize (one crop, full decode: bald eagle 0.540 antialiased, 0.909 bilinear), and the
 * paper's larger scales vote kite (`node dist/bench/cropVotes.js eagle.jpg`: kite wins the 288, 320
 * and 352 scales; all 144: kite 0.461, bald eagle 0.387). With the bilinear resize rocket.jpg flips
 * instead (mosque). Kept here so that any other change to the 144 crops still fails.
 */
const labelWithin = (file: string, crops: number): number => (crops === 144 && basename(file) === "eagle.jpg" ? 2 : 1);

test("every labelled photo keeps its top-1 with 1, 10 and 144 crops (see labelWithin); 1 and 2 threads give the same bits", async () => {
  const w = await mat();
  const one = await GoogLeNet.load({ weights: w, threads: 1 });
  const two = await GoogLeNet.load({ weights: w, threads: 2 });
  try {
    for (const [i, p] of photoCases().entries()) {
      const bytes = new Uint8Array(readFileSync(p.file));
      const line: string[] = [];
      for (const crops of [1, 10, 144] as const) {
        const t0 = performance.now();
        const probs = await two.probabilities(bytes, { crops });
        const ms = performance.now() - t0;
        const top = topClasses(probs, labelWithin(p.file, crops), two.labels).map((c) => c.index);
        assert.ok(top.includes(p.top1), `${basename(p.file)}, ${crops} crops: top ${top} lacks ${p.top1}`);
        line.push(`${crops} crops ${probs[p.top1].toFixed(4)} (${ms.toFixed(0)} ms)`);
        // Every photo's 10 crops (batches of 8 and 2), the first photo's 144 too, at 1 thread.
        if (crops === 10 || (crops === 144 && i === 0))
          assert.is(sha(await one.probabilities(bytes, { crops })), sha(probs), `${crops} crops: 1 vs 2 threads`);
      }
      console.log(`  ${basename(p.file).padEnd(17)} top-1 ${p.top1}: ${line.join(", ")}`);
    }
  } finally {
    await one.dispose();
    await two.dispose();
  }
});

test("an ensemble of the same weights from two formats equals the single model exactly", async () => {
  const w = await mat();
  const caffemodel = encodeCaffemodel(w, { version: 1, withTrainingLayers: true, rng: rngFor(7, "ensemble") });
  const single = await GoogLeNet.load({ weights: w, threads: 1 });
  const ensemble = await GoogLeNet.loadEnsemble([w, caffemodel], { threads: 1 });
  try {
    const bytes = new Uint8Array(readFileSync(photoCases()[1].file));
    for (const crops of [1, 10] as const) {
      assert.is(sha(await ensemble.probabilities(bytes, { crops })), sha(await single.probabilities(bytes, { crops })));
    }
    // The cost: every model runs every crop; GoogLeNet's 6,998,552 parameters as float32 per model.
    const cost = ensemble.summary(10);
    assert.equal(
      [cost.models, cost.passesPerImage, cost.multiplyAddsPerImage, cost.parameters, cost.weightBytes],
      [2, 20, 20 * 1_582_671_872, 2 * 6_998_552, 8 * 6_998_552],
    );
    assert.is(single.summary(10).multiplyAddsPerImage, 10 * 1_582_671_872);
  } finally {
    await single.dispose();
    await ensemble.dispose();
  }
});

test("eval prints the Table 3 layout; an ensemble of two formats has the single model's errors", async () => {
  const dir = await mkdtemp(join(tmpdir(), "inception-wasm-eval-"));
  try {
    const labels = join(dir, "labels.txt");
    await writeFile(
      labels,
      photoCases()
        .map((p) => `${basename(p.file)} ${p.top1}`)
        .join("\n"),
    );
    const caffemodel = join(dir, "bvlc_googlenet.caffemodel");
    await writeFile(
      caffemodel,
      encodeCaffemodel(await mat(), { version: 2, withTrainingLayers: false, rng: rngFor(7, "eval") }),
    );
    const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
    const photos = join(DATA_DIR, "photos");
    const args = [
      cli,
      "eval",
      photos,
      "--labels",
      labels,
      "--crops",
      "1",
      "--ensemble",
      `${join(DATA_DIR, "bvlc-params")},${caffemodel}`,
    ];
    const { stdout } = await promisify(execFile)(process.execPath, [...args, "--json"], { maxBuffer: 1 << 24 });
    const r = JSON.parse(stdout) as {
      images: number;
      rows: { models: number; crops: number; top1Error: number; top5Error: number }[];
    };
    assert.is(r.images, photoCases().length);
    assert.equal(
      r.rows.map((x) => [x.models, x.crops]),
      [
        [1, 1],
        [2, 1],
      ],
    );
    assert.is(r.rows[0].top1Error, 0);
    assert.is(r.rows[1].top1Error, r.rows[0].top1Error);
    assert.is(r.rows[1].top5Error, r.rows[0].top5Error);
    const { stdout: table } = await promisify(execFile)(process.execPath, args, { maxBuffer: 1 << 24 });
    assert.match(
      table,
      "| models | crops | cost (passes/image) | G multiply-adds/image | weights MB | seconds | top-1 error | top-5 error | compared to base |",
    );
    assert.match(table, /\| 2 \| 1 \| 2 \| 3\.2 \| 56\.0 \| [0-9.]+ \| 0\.00 % \| 0\.00 % \| 0\.00 % \|/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
