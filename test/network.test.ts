// GoogLeNet end to end on the real BVLC weights: Caffe's own activations for every blob,
// the labelled photos, concurrency, determinism and errors of the public API.

import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ArgumentError, ImageError, InceptionError, WeightsError } from "../src/host/errors.js";
import { inferShapes } from "../src/host/ir/shapes.js";
import { GoogLeNet } from "../src/node/index.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { summarize } from "../src/model/network/summary.js";
import { loadWeights, readCaffeBlob } from "../src/node/weights.js";
import { BLOBS_DIR, photoCases } from "./support/data.js";
import { caffeLrnErrors, networkTolerance, reductionDepths, winogradErrors } from "./support/tolerance.js";
import { expectedWeights } from "../src/host/ir/tensors.js";

const sha256 = (a: Float32Array): string =>
  createHash("sha256")
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest("hex");

/** Caffe blob files (execution order) with our tensor name; `_split_` copies are skipped (they equal their source). */
function caffeBlobs(): { file: string; tensor: string }[] {
  const names = new Map(googlenetGraph().nodes.map((n) => [n.output.replace(/\//g, "_"), n.output]));
  return readdirSync(BLOBS_DIR)
    .filter((f) => f.endsWith(".mat") && !f.includes("_split_") && f !== "1_data.mat")
    .sort((a, b) => parseInt(a) - parseInt(b))
    .map((f) => {
      const tensor = names.get(f.replace(/^\d+_/, "").replace(/\.mat$/, ""));
      if (!tensor) throw new Error(`caffe blob ${f} matches no tensor of the graph`);
      return { file: join(BLOBS_DIR, f), tensor };
    });
}

async function compareWithCaffe(
  engine: "wasm" | "reference",
  build: "baseline" | "relaxed" | "auto",
  precision: "strict" | "fast" = "strict",
): Promise<void> {
  const input = await readCaffeBlob(join(BLOBS_DIR, "1_data.mat"));
  assert.equal(input.shape, [3, 227, 227]);
  const net = await GoogLeNet.load({ inputSize: 227, keepActivations: true, engine, build, precision });
  const graph = googlenetGraph();
  const shapes = inferShapes(graph, 227, 227);
  const blobs = caffeBlobs();
  const caffe = new Map<string, Float32Array>();
  for (const { file, tensor } of blobs) caffe.set(tensor, (await readCaffeBlob(file)).data);
  const maxAbsOf = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const depths = reductionDepths(graph, shapes);
  const lrnErrors = caffeLrnErrors(graph, shapes, (t) => maxAbsOf(caffe.get(t)!));
  const fastErrors = winogradErrors(graph, shapes, net.capabilities.winogradLayers);
  try {
    await net.run(input.data);
    const rows: string[] = [];
    for (const { tensor } of blobs) {
      const want = caffe.get(tensor)!;
      const got = net.activation(tensor);
      assert.is(got.length, want.length, `${tensor}: element count`);
      let maxAbs = 0,
        maxErr = 0,
        worst = 0;
      for (let i = 0; i < want.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(want[i]));
        const e = Math.abs(got[i] - want[i]);
        if (e > maxErr) {
          maxErr = e;
          worst = i;
        }
      }
      const tol = networkTolerance(depths.get(tensor)!, lrnErrors.get(tensor)!, maxAbs, fastErrors.get(tensor)!);
      rows.push(
        `${tensor.padEnd(26)} max|err| ${maxErr.toExponential(2)}  (tolerance ${tol.toExponential(2)}, max|x| ${maxAbs.toPrecision(4)})`,
      );
      assert.ok(
        maxErr <= tol,
        `${engine}/${net.build}/${precision} ${tensor}: |ours - caffe| = ${maxErr} at ${worst} (ours ${got[worst]}, caffe ${want[worst]}) > tolerance ${tol}`,
      );
    }
    const top5 = (p: Float32Array): number[] =>
      Array.from(p.keys())
        .sort((a, b) => p[b] - p[a] || a - b)
        .slice(0, 5);
    assert.equal(top5(net.activation("prob")), top5(caffe.get("prob")!), "top-5 classes equal Caffe's");
    console.log(`\n${engine} ${net.build} ${precision} vs Caffe, every blob:\n${rows.join("\n")}`);
  } finally {
    await net.dispose();
  }
}

test("every Caffe blob is reproduced (relaxed build when available)", async () => {
  await compareWithCaffe("wasm", "auto");
});

test("every Caffe blob is reproduced (baseline build)", async () => {
  await compareWithCaffe("wasm", "baseline");
});

test("fast mode (Winograd 3x3) reproduces every Caffe blob within its derived bound (relaxed build when available)", async () => {
  await compareWithCaffe("wasm", "auto", "fast");
});

test("fast mode reproduces every Caffe blob within its derived bound (baseline build)", async () => {
  await compareWithCaffe("wasm", "baseline", "fast");
});

test("the float64 reference engine reproduces every Caffe blob too", async () => {
  await compareWithCaffe("reference", "auto");
});

test("every listed photo gets its reference top-1 class", async () => {
  const net = await GoogLeNet.load();
  try {
    for (const photo of photoCases()) {
      const top = await net.classify(new Uint8Array(readFileSync(photo.file)), { topK: 5, name: photo.file });
      assert.is(top.length, 5);
      assert.is(
        top[0].index,
        photo.top1,
        `${photo.file}: top-1 ${top[0].index} (${top[0].label}), expected ${photo.top1} (${photo.top1Label})`,
      );
      assert.ok(top[0].label.startsWith(photo.top1Label.split(" ")[0]), `${photo.file}: label ${top[0].label}`);
      for (let i = 1; i < 5; i++) assert.ok(top[i - 1].probability >= top[i].probability, "sorted by probability");
    }
  } finally {
    await net.dispose();
  }
});

test("summary totals are GoogLeNet's exact parameter and multiply-add counts", () => {
  const s = summarize(224);
  assert.is(s.totalParams, 6_998_552);
  assert.is(s.totalOps, 1_582_671_872);
  assert.is(s.rows.filter((r) => r.type === "inception").length, 9);
  const row = s.rows.find((r) => r.name === "inception_4c")!;
  assert.equal(
    [row.n1x1, row.n3x3reduce, row.n3x3, row.n5x5reduce, row.n5x5, row.poolProj],
    [128, 128, 256, 24, 64, 64],
  );
  assert.is(row.output, "14x14x512");
});

test("the same input gives the same bits on every run; concurrent calls each get their own result", async () => {
  const net = await GoogLeNet.load();
  try {
    const inputs = photoCases()
      .slice(0, 3)
      .map((p) => net.toInput(new Uint8Array(readFileSync(p.file)), p.file));
    const serial: string[] = [];
    for (const x of inputs) serial.push(sha256((await net.run(x)).probabilities));
    for (let r = 0; r < 2; r++) {
      const again = await Promise.all(inputs.map((x) => net.run(x)));
      assert.equal(
        again.map((o) => sha256(o.probabilities)),
        serial,
      );
    }
  } finally {
    await net.dispose();
  }
});

test("bad weights: missing folder, wrong bytes, missing tensor, wrong shape", async () => {
  const missing = "/nonexistent/googlenet";
  const e1 = await GoogLeNet.load({ weights: missing }).catch((e: unknown) => e);
  assert.instance(e1, WeightsError);
  assert.match((e1 as Error).message, missing);
  assert.match((e1 as Error).message, "INCEPTION_WASM_DATA");

  const e2 = await GoogLeNet.load({
    weights: new TextEncoder().encode(
      "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>not found</body></html>",
    ),
    labels: new Array(1000).fill("x"),
  }).catch((e: unknown) => e);
  assert.instance(e2, WeightsError);
  assert.match((e2 as Error).message, /found an HTML page/);

  const { tensors } = await loadWeights({ expected: expectedWeights(googlenetGraph(), 224, 224) });
  const withoutOne = new Map(tensors);
  withoutOne.delete("inception_4c_3x3.weight");
  const e3 = await GoogLeNet.load({ weights: withoutOne }).catch((e: unknown) => e);
  assert.instance(e3, WeightsError);
  assert.is((e3 as WeightsError).tensor, "inception_4c_3x3.weight");
  const wrongShape = new Map(tensors);
  wrongShape.set("conv1_7x7_s2.bias", { shape: [63], data: new Float32Array(63) });
  const e4 = await GoogLeNet.load({ weights: wrongShape }).catch((e: unknown) => e);
  assert.instance(e4, WeightsError);
  assert.match((e4 as Error).message, /expected shape \[64\], found \[63\]/);
});

test("bad inputs: non-image bytes, zero-sized pixels, wrong tensor length, bad topK, use after dispose", async () => {
  const net = await GoogLeNet.load();
  try {
    const e1 = await net
      .classify(new TextEncoder().encode("<!DOCTYPE html>"), { name: "page.html" })
      .catch((e: unknown) => e);
    assert.instance(e1, ImageError);
    assert.match((e1 as Error).message, "page.html");
    const e2 = await net
      .classify({ width: 0, height: 0, data: new Uint8Array(0) }, { name: "empty" })
      .catch((e: unknown) => e);
    assert.instance(e2, ImageError);
    const e3 = await net.run(new Float32Array(10)).catch((e: unknown) => e);
    assert.instance(e3, ArgumentError);
    assert.match((e3 as Error).message, /150528/);
    const e4 = await net.classify(new Float32Array(3 * 224 * 224), { topK: 0 }).catch((e: unknown) => e);
    assert.instance(e4, ArgumentError);
    // The network still works after rejected calls.
    const ok = await net.classify(new Float32Array(3 * 224 * 224), { topK: 1 });
    assert.is(ok.length, 1);
  } finally {
    await net.dispose();
  }
  const e5 = await net.run(new Float32Array(3 * 224 * 224)).catch((e: unknown) => e);
  assert.instance(e5, InceptionError);
  assert.match((e5 as Error).message, /disposed/);
});

test.run();
