// The TFLite export (src/model/formats/tfliteExport.ts) run by LiteRT.js (@litertjs/core, TFLite +
// XNNPACK in wasm, 1 thread) in Node: GoogLeNet written by the CLI's export-tflite gives a photo's
// probabilities and top-5 of inception-wasm (strict) and of onnxruntime-node on the ONNX export
// within the tolerances derived below; a small seeded graph that takes every padding path of the
// export (explicit PAD, PADV2 with -inf, SAME, VALID) and a fully connected layer over a 2x2 input
// (HWC column order) matches the float64 reference; bad export arguments are typed errors.
//
// Tolerances. Logits: two float32 passes of the same network differ by the network policy of
// test/support/tolerance.ts (networkTolerance: 3 sigma of sqrt(reduction depth) roundings per
// pass, plus Caffe's running-sum LRN term for each pass that sums that way: TFLite's LRN kernel
// keeps a running sum over the channels like Caffe's and onnxruntime's; ours sums each window
// afresh). Probabilities, from logits within d of each other (p = softmax(z), p' = softmax(z'),
// |z'_j - z_j| <= d for every j): p'_i / p_i = e^(z'_i - z_i) / sum_j p_j e^(z'_j - z_j) lies in
// [e^-2d, e^2d], so |p'_i - p_i| <= p_i * expm1(2d); plus each side's own float32 softmax, at
// most, relative to p_i: the rounding of z_i - max moving exp by expm1(u * zMax), exp itself
// (EXP_F32_ULPS ulps, 2u each), a float32 sum of n terms (gamma(n)) and the division (u); and
// 2^-149 for quotients that round to subnormals.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as lrt from "@litertjs/core";
import * as ort from "onnxruntime-node";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chwToHwc } from "../bench/enginesWeb.js";
import { runReferenceGraph } from "../src/host/engine/reference.js";
import { ArgumentError, WeightsError } from "../src/host/errors.js";
import type { Graph } from "../src/host/ir/graph.js";
import { inferShapes } from "../src/host/ir/shapes.js";
import { expectedWeights, type TensorMap } from "../src/host/ir/tensors.js";
import { exportOnnx } from "../src/model/formats/onnxExport.js";
import { exportTflite, TFLITE_FILE_IDENTIFIER } from "../src/model/formats/tfliteExport.js";
import { GoogLeNet, topClasses } from "../src/node/index.js";
import { ROOT } from "./support/app.js";
import { matWeights, photoCases } from "./support/data.js";
import { startLitertNode } from "./support/litert.js";
import { announceSeed, randomArray, rngFor } from "./support/rng.js";
import {
  caffeLrnErrors,
  EXP_F32_ULPS,
  F32_MIN_SUBNORMAL,
  gamma,
  networkTolerance,
  reductionDepths,
  U32,
} from "./support/tolerance.js";

const CLI = join(ROOT, "dist", "src", "cli", "main.js");
const exec = promisify(execFile);
const seed = announceSeed("tflite-export");

const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};
const maxAbsDiff = (a: Float32Array, b: ArrayLike<number>): number =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const top5 = (p: Float32Array): number[] => topClasses(p, 5, []).map((c) => c.index);

/** Largest allowed |p'_i - p_i| for softmax outputs of logits within `d` (the header's derivation); `z` the logits. */
function probTolerance(p: number, d: number, z: ArrayLike<number>): number {
  const zs = Array.from(z);
  const zMax = Math.max(...zs) - Math.min(...zs);
  const ownRounding = Math.expm1(U32 * zMax) + 2 * EXP_F32_ULPS * U32 + gamma(zs.length) + U32;
  return p * (Math.expm1(2 * d) + 2 * ownRounding) + F32_MIN_SUBNORMAL;
}

/** Runs a LiteRT.js model on one CHW image (size x size, `channels`): its outputs by signature name. */
async function runLitert(
  model: lrt.CompiledModel,
  input: string,
  chw: Float32Array,
  channels: number,
  size: number,
): Promise<Record<string, Float32Array>> {
  const hwc = new Float32Array(chw.length);
  chwToHwc(chw, hwc, channels, size * size);
  const x = new lrt.Tensor(hwc, [1, size, size, channels]);
  const out = await model.run({ [input]: x }).finally(() => x.delete());
  const result: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(out)) {
    result[name] = t.toTypedArray() as Float32Array;
    t.delete();
  }
  return result;
}

let glue = "";
test.before(async () => {
  glue = await startLitertNode(lrt, false);
});
test.after(async () => {
  lrt.unloadLiteRt();
  await rm(glue, { recursive: true, force: true });
});

test("export-tflite's GoogLeNet in LiteRT.js: a photo's probabilities and top-5 of inception-wasm (strict) and onnxruntime-node", async () => {
  const dir = await mkdtemp(join(tmpdir(), "inception-wasm-tflite-"));
  const net = await GoogLeNet.load({ threads: 1, keepActivations: true });
  try {
    const file = join(dir, "googlenet.tflite");
    const { stdout } = await exec(process.execPath, [CLI, "export-tflite", file]);
    assert.match(stdout, /TFLite schema 3, NHWC, \d+ bytes/);
    const bytes = new Uint8Array(await readFile(file));
    assert.is(new TextDecoder().decode(bytes.subarray(4, 8)), TFLITE_FILE_IDENTIFIER);
    const model = await lrt.loadAndCompile(bytes, { accelerator: "wasm", cpuOptions: { numThreads: 1 } });

    const photo = photoCases()[0];
    const x = net.toInput(new Uint8Array(readFileSync(photo.file)), photo.file);
    const ours = await net.run(x);
    const graph = net.graph;
    const out = await runLitert(model, graph.input, x, 3, 224);
    model.delete();
    const logits = out[graph.logits],
      prob = out[graph.probabilities];
    assert.equal([logits.length, prob.length], [1000, 1000]);

    const session = await ort.InferenceSession.create(exportOnnx(graph, await matWeights(), 224), {
      intraOpNumThreads: 1,
    });
    const ortOut = await session.run({ [graph.input]: new ort.Tensor("float32", x, [1, 3, 224, 224]) });
    await session.release();
    const ortLogits = ortOut[graph.logits].data as Float32Array,
      ortProb = ortOut[graph.probabilities].data as Float32Array;

    const shapes = inferShapes(graph, 224, 224);
    const depth = reductionDepths(graph, shapes).get(graph.logits)!;
    const lrn = caffeLrnErrors(graph, shapes, (t) => maxAbs(net.activation(t))).get(graph.logits)!;
    const against = [
      { what: "inception-wasm (strict)", logits: ours.logits, prob: ours.probabilities, lrnPasses: 1 },
      { what: "onnxruntime-node", logits: ortLogits, prob: ortProb, lrnPasses: 2 },
    ];
    for (const ref of against) {
      const logitTol = networkTolerance(depth, ref.lrnPasses * lrn, maxAbs(ref.logits));
      const logitDiff = maxAbsDiff(logits, ref.logits);
      let worst = 0;
      for (let i = 0; i < 1000; i++)
        worst = Math.max(worst, Math.abs(prob[i] - ref.prob[i]) / probTolerance(ref.prob[i], logitTol, ref.logits));
      console.log(
        `\nLiteRT.js vs ${ref.what} on ${photo.file}: max|dprob| ${maxAbsDiff(prob, ref.prob).toExponential(2)} ` +
          `(worst |dprob| / tolerance ${worst.toFixed(4)}), max|dlogit| ${logitDiff.toExponential(2)} (tolerance ` +
          `${logitTol.toExponential(2)}), top-5 ${top5(prob).join(" ")} / ${top5(ref.prob).join(" ")}`,
      );
      assert.ok(logitDiff <= logitTol, `${ref.what}: max |dlogit| ${logitDiff} > ${logitTol}`);
      assert.ok(worst <= 1, `${ref.what}: a probability beyond its tolerance (worst ratio ${worst})`);
      assert.equal(top5(prob), top5(ref.prob), `${ref.what}: top-5`);
    }
  } finally {
    await net.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * An 8x8 network whose every layer takes another path of the export: conv 3x3 s2 p1 (SAME would
 * pad 0/1: an explicit PAD), conv 3x3 s1 p1 (SAME), max pool 3x3 s2 p1 (Caffe's 3 windows, SAME
 * gives 2: PADV2 with -inf), max pool 3x3 s1 p1 (SAME), average pool 2x2 s2 p1 (padded: PAD then
 * VALID, divisor 4 as Caffe's), concat, conv 1x1 without ReLU (VALID), LRN, average pool 2x2 s2
 * p0 over 3x3 (a ceil-mode window past the edge: SAME, dividing by the in-image taps as Caffe),
 * fc over a 2x2x8 input (columns in HWC order), softmax.
 */
function paddingPathsGraph(): Graph {
  const conv = (name: string, input: string, out: number, kernel: number, stride: number, pad: number, relu = true) =>
    ({ op: "conv", name, input, output: name, weights: name, outChannels: out, kernel, stride, pad, relu }) as const;
  return {
    input: "data",
    inputChannels: 3,
    logits: "fc",
    probabilities: "prob",
    nodes: [
      conv("c1", "data", 6, 3, 2, 1),
      conv("c2", "c1", 6, 3, 1, 1),
      { op: "maxPool", name: "p1", input: "c2", output: "p1", kernel: 3, stride: 2, pad: 1 },
      { op: "maxPool", name: "p2", input: "c2", output: "p2", kernel: 3, stride: 1, pad: 1 },
      { op: "avgPool", name: "p3", input: "p2", output: "p3", kernel: 2, stride: 2, pad: 1 },
      { op: "concat", name: "cat", inputs: ["p1", "p3"], output: "cat" },
      conv("c3", "cat", 8, 1, 1, 0, false),
      { op: "lrn", name: "norm", input: "c3", output: "norm", size: 5, alpha: 0.5, beta: 0.75, k: 2 },
      { op: "avgPool", name: "p4", input: "norm", output: "p4", kernel: 2, stride: 2, pad: 0 },
      { op: "fc", name: "fc", input: "p4", output: "fc", weights: "fc", outFeatures: 10 },
      { op: "softmax", name: "prob", input: "fc", output: "prob" },
    ],
  };
}

function randomWeights(graph: Graph, size: number, name: string): TensorMap {
  const rng = rngFor(seed, name);
  return new Map(
    expectedWeights(graph, size, size).map(({ name: n, shape }) => [
      n,
      {
        shape,
        data: randomArray(
          rng,
          shape.reduce((a, b) => a * b, 1),
          -0.5,
          0.5,
        ),
      },
    ]),
  );
}

test("every padding path of the export and an fc over 2x2 in LiteRT.js match the float64 reference (seeded)", async () => {
  const graph = paddingPathsGraph();
  const shapes = inferShapes(graph, 8, 8);
  assert.equal(
    ["c1", "p1", "p3", "p4"].map((t) => shapes.get(t)!.h),
    [4, 3, 3, 2],
    "Caffe's sizes the paths are chosen for",
  );
  const weights = randomWeights(graph, 8, "weights");
  const model = await lrt.loadAndCompile(exportTflite(graph, weights, 8), { accelerator: "wasm" });
  try {
    for (let k = 0; k < 3; k++) {
      const x = randomArray(rngFor(seed, `input ${k}`), 3 * 8 * 8, -2, 2);
      const want = runReferenceGraph(graph, weights, x, 8, 8);
      const got = await runLitert(model, "data", x, 3, 8);
      const depth = reductionDepths(graph, shapes).get("fc")!;
      const lrn = caffeLrnErrors(graph, shapes, (t) => maxAbs(want.get(t)!)).get("fc")!;
      const logitTol = networkTolerance(depth, lrn, maxAbs(want.get("fc")!));
      const diff = maxAbsDiff(got.fc, want.get("fc")!);
      const prob = want.get("prob")!;
      const probWorst = Math.max(
        ...Array.from(prob, (p, i) => Math.abs(got.prob[i] - p) / probTolerance(p, logitTol, want.get("fc")!)),
      );
      console.log(
        `input ${k}: max|dlogit| ${diff.toExponential(2)} (tolerance ${logitTol.toExponential(2)}), ` +
          `worst |dprob| / tolerance ${probWorst.toFixed(4)}`,
      );
      assert.ok(diff <= logitTol, `input ${k}: max |dlogit| ${diff} > ${logitTol}`);
      assert.ok(probWorst <= 1, `input ${k}: a probability beyond its tolerance (worst ratio ${probWorst})`);
    }
  } finally {
    model.delete();
  }
});

test("bad export arguments are typed errors naming the argument, node or tensor", async () => {
  const graph = paddingPathsGraph();
  const weights = randomWeights(graph, 8, "error weights");
  for (const size of [0, 8.5])
    assert.throws(
      () => exportTflite(graph, weights, size),
      (e: unknown) => e instanceof ArgumentError && /inputSize/.test((e as Error).message),
    );
  const missing = new Map(weights);
  missing.delete("c2.weight");
  assert.throws(
    () => exportTflite(graph, missing, 8),
    (e: unknown) => e instanceof WeightsError && /c2\.weight/.test((e as Error).message),
  );
  const variants: [string, (g: Graph) => void, RegExp][] = [
    ["an even LRN window", (g) => Object.assign(g.nodes[7], { size: 4 }), /norm: argument 'size'/],
    // 3x3 s2 p1 over 4: Caffe's last window passes the padded edge, its divisor has no TFLite form.
    [
      "a padded average pool past the padded edge",
      (g) => Object.assign(g.nodes[4], { kernel: 3 }),
      /p3: argument 'avgPool'/,
    ],
    [
      "a softmax over a 2x2 tensor",
      (g) => {
        g.nodes.splice(9, 2, { op: "softmax", name: "prob", input: "p4", output: "prob" });
        g.logits = "p4";
      },
      /prob: argument 'input'/,
    ],
    [
      "a per-axis window",
      (g) => Object.assign(g.nodes[0], { window: { kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] } }),
      /c1: argument 'window'/,
    ],
  ];
  for (const [what, change, message] of variants) {
    const g = paddingPathsGraph();
    change(g);
    assert.throws(
      () => exportTflite(g, weights, 8),
      (e: unknown) => e instanceof ArgumentError && message.test((e as Error).message),
      what,
    );
  }
});

test("CLI export-tflite: a folder as output, a missing argument and --input-size 0 are usage errors (exit 2)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "inception-wasm-tflite-cli-"));
  try {
    for (const args of [
      ["export-tflite", dir],
      ["export-tflite"],
      ["export-tflite", join(dir, "a.tflite"), "--input-size", "0"],
    ]) {
      const r = await exec(process.execPath, [CLI, ...args]).then(
        () => ({ code: 0, stderr: "" }),
        (e: { code: number; stderr: string }) => e,
      );
      assert.is(r.code, 2, args.join(" "));
      assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
