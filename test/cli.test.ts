// The command line as a user runs it: summary totals, classify JSON, bench JSON's peak fraction, and a usage error.

import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { photoCases } from "./support/data.js";

const cli = join(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "cli", "main.js");
const run = promisify(execFile);

test("summary --json gives the exact totals", async () => {
  const { stdout } = await run(process.execPath, [cli, "summary", "--json"]);
  const s = JSON.parse(stdout) as { totalParams: number; totalOps: number; rows: unknown[] };
  assert.is(s.totalParams, 6_998_552);
  assert.is(s.totalOps, 1_582_671_872);
});

test("classify --json prints file, top classes and latency for each image", async () => {
  const photo = photoCases()[0];
  const { stdout } = await run(process.execPath, [
    cli,
    "classify",
    "--json",
    "--top",
    "3",
    "--threads",
    "1",
    photo.file,
  ]);
  const r = JSON.parse(stdout) as {
    cost: { multiplyAddsPerImage: number; weightBytes: number; memoryBytes: number };
    images: { file: string; top: { index: number; label: string; probability: number }[]; ms: number }[];
  };
  assert.is(r.cost.multiplyAddsPerImage, 1_582_671_872);
  // The loaded network's wasm memory holds the weights and more (it read 0 once: the summary was
  // taken after dispose()).
  assert.ok(r.cost.memoryBytes > r.cost.weightBytes, `memoryBytes ${r.cost.memoryBytes}`);
  assert.is(r.images.length, 1);
  assert.is(r.images[0].file, photo.file);
  assert.is(r.images[0].top.length, 3);
  assert.is(r.images[0].top[0].index, photo.top1);
  assert.ok(r.images[0].ms > 0);
});

test("--fast: classify says it runs fast mode and keeps the top-1; summary --fast lists the Winograd candidates", async () => {
  const photo = photoCases()[0];
  const { stdout } = await run(process.execPath, [cli, "classify", "--json", "--fast", "--threads", "1", photo.file]);
  const r = JSON.parse(stdout) as { precision: string; images: { top: { index: number }[] }[] };
  assert.is(r.precision, "fast");
  assert.is(r.images[0].top[0].index, photo.top1);
  const summary = JSON.parse((await run(process.execPath, [cli, "summary", "--json", "--fast"])).stdout) as {
    totalOps: number;
    fast: { layers: { name: string; ops: number; winogradOps: number }[]; totalOps: number };
  };
  assert.is(summary.totalOps, 1_582_671_872);
  assert.is(summary.fast.layers.length, 19); // conv2/3x3 and the 3x3 and 5x5 branch of 9 modules
  const conv2 = summary.fast.layers.find((l) => l.name === "conv2/3x3")!;
  // 56x56 in 14 x 14 tiles of 4x4, 36 products each, 64 inputs x 192 outputs
  assert.is(conv2.winogradOps, 36 * 14 * 14 * 64 * 192);
  const b5 = summary.fast.layers.find((l) => l.name === "inception_3b/5x5")!;
  // 28x28 in 14 x 14 tiles of 2x2 (F(2x2, 5x5)), 36 products each, 32 inputs x 96 outputs
  assert.is(b5.winogradOps, 36 * 14 * 14 * 32 * 96);
  assert.is(
    summary.fast.totalOps,
    summary.totalOps - summary.fast.layers.reduce((s, l) => s + l.ops - l.winogradOps, 0),
  );
});

test("bench --json quotes GFLOP/s as a fraction of the register-only peak of the build that ran", async () => {
  const { stdout } = await run(process.execPath, [
    cli,
    "bench",
    "--json",
    "--runs",
    "2",
    "--warmup",
    "1",
    "--threads",
    "1",
  ]);
  const r = JSON.parse(stdout) as {
    registerPeak: { build: string; gflops: number };
    results: { build: string; threads: number; gflops: number; fractionOfPeak: number }[];
  };
  assert.ok(r.registerPeak.gflops > 0 && Number.isFinite(r.registerPeak.gflops), `peak ${r.registerPeak.gflops}`);
  for (const x of r.results) {
    assert.is(x.build, r.registerPeak.build);
    assert.ok(Math.abs(x.fractionOfPeak - x.gflops / (x.threads * r.registerPeak.gflops)) < 1e-12);
  }
});

test("a bad option is a clear usage error with a non-zero exit", async () => {
  const e = await run(process.execPath, [cli, "classify", "--top", "zero", "x.jpg"]).catch(
    (err: unknown) => err as { code: number; stderr: string },
  );
  assert.is((e as { code: number }).code, 2); // usage mistakes exit 2
  assert.match((e as { stderr: string }).stderr, /--top: expected an integer in 1..1000, found "zero"/);
});

test("classify --tile runs that tile and reports it; --tile probe probes afresh; a malformed --tile is a usage error", async () => {
  const photo = photoCases()[0];
  const { stdout } = await run(process.execPath, [
    cli,
    "classify",
    "--json",
    "--tile",
    "3x16",
    "--threads",
    "1",
    photo.file,
  ]);
  const r = JSON.parse(stdout) as { kernel: string; kernelReason: string; images: { top: { index: number }[] }[] };
  assert.is(r.kernel, "3x16");
  assert.is(r.kernelReason, "requested");
  assert.is(r.images[0].top[0].index, photo.top1);
  const probed = await run(process.execPath, [
    cli,
    "classify",
    "--json",
    "--tile",
    "probe",
    "--threads",
    "1",
    photo.file,
  ]);
  const p = JSON.parse(probed.stdout) as { kernel: string; kernelReason: string };
  assert.match(p.kernelReason, new RegExp(`^probe \\(.*\\b${p.kernel} \\d.*; a fresh probe \\(tile "probe"\\)`));
  const e = await run(process.execPath, [cli, "classify", "--tile", "big", photo.file]).catch(
    (err: unknown) => err as { code: number; stderr: string },
  );
  assert.is((e as { code: number }).code, 2);
  assert.match((e as { stderr: string }).stderr, /--tile: expected auto, probe or a tile such as 4x8, found "big"/);
});

test.run();
