// The ONNX export run by onnxruntime-node: the same probabilities, top-5 and (within the
// network tolerance policy) logits as inception-wasm, at 224 on a photo and at 227 on Caffe's
// input blob; and Caffe's pooling sizes expressed by the exported pads.

import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inferShapes } from "../src/host/ir/shapes.js";
import { GoogLeNet } from "../src/node/index.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { caffePoolPads, onnxPoolOutSize } from "../src/model/formats/onnxExport.js";
import { exportGoogLeNetOnnx } from "../src/node/exportOnnx.js";
import { readCaffeBlob } from "../src/node/weights.js";
import { BLOBS_DIR, photoCases } from "./support/data.js";
import { caffeLrnErrors, networkTolerance, reductionDepths } from "./support/tolerance.js";

const PROB_TOLERANCE = 1e-5;

const top5 = (p: Float32Array): number[] =>
  Array.from(p.keys())
    .sort((a, b) => p[b] - p[a] || a - b)
    .slice(0, 5);
const maxAbsDiff = (a: Float32Array, b: Float32Array): number =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

test("the exported pads give Caffe's ceil-mode pooling sizes at 224 and 227 (and odd sizes)", () => {
  const graph = googlenetGraph();
  for (const size of [224, 227, 231, 240]) {
    const shapes = inferShapes(graph, size, size);
    for (const node of graph.nodes) {
      if (node.op !== "maxPool" && node.op !== "avgPool") continue;
      const x = shapes.get(node.input)!,
        y = shapes.get(node.output)!;
      const pads = caffePoolPads(x.h, node.kernel, node.stride, node.pad);
      assert.is(
        onnxPoolOutSize(x.h, node.kernel, node.stride, pads),
        y.h,
        `${size}: ${node.name} ${x.h} -> ${y.h}, pads ${pads}`,
      );
    }
  }
  // Caffe's rule: the last window must start inside the image or the begin padding (5, k 2, s 2, pad 1: 3 windows, not 4).
  assert.equal(caffePoolPads(5, 2, 2, 1), [1, 0]);
  assert.is(onnxPoolOutSize(5, 2, 2, caffePoolPads(5, 2, 2, 1)), 3);
  assert.equal(caffePoolPads(5, 2, 3, 1), [1, 0]);
  assert.is(onnxPoolOutSize(5, 2, 3, caffePoolPads(5, 2, 3, 1)), 2);
});

/**
 * Exports the network for inputSize, runs it in onnxruntime-node and in inception-wasm (1 thread)
 * on `input`, and checks probabilities (1e-5), top-5, and logits: two float32 passes of the same
 * network differ by the policy of test/support/tolerance.ts (3 sigma of sqrt(reduction depth)
 * roundings per pass; onnxruntime's LRN keeps a running sum over channels like Caffe's, so
 * Caffe's LRN term applies).
 */
async function compareWithOrt(inputSize: number, input: (net: GoogLeNet) => Float32Array, what: string): Promise<void> {
  const file = join(tmpdir(), `inception-wasm-test-${process.pid}-${inputSize}.onnx`);
  const net = await GoogLeNet.load({ inputSize, threads: 1, keepActivations: true });
  try {
    await exportGoogLeNetOnnx(file, { inputSize });
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
    const x = input(net);
    const ours = await net.run(x);
    const graph = net.graph;
    const out = await session.run({ [graph.input]: new ort.Tensor("float32", x, [1, 3, inputSize, inputSize]) });
    await session.release();
    const prob = out[graph.probabilities].data as Float32Array;
    const logits = out[graph.logits].data as Float32Array;
    assert.equal(out[graph.probabilities].dims, [1, 1000]);

    const probDiff = maxAbsDiff(prob, ours.probabilities);
    const logitDiff = maxAbsDiff(logits, ours.logits);
    const shapes = inferShapes(graph, inputSize, inputSize);
    const depth = reductionDepths(graph, shapes).get(graph.logits)!;
    const lrn = caffeLrnErrors(graph, shapes, (t) => maxAbs(net.activation(t))).get(graph.logits)!;
    const logitTol = networkTolerance(depth, lrn, maxAbs(ours.logits));
    console.log(
      `\n${what} (${inputSize}, ${net.build} build): max|dprob| ${probDiff.toExponential(2)} (tolerance ${PROB_TOLERANCE}), ` +
        `max|dlogit| ${logitDiff.toExponential(2)} (tolerance ${logitTol.toExponential(2)}, max|logit| ${maxAbs(ours.logits).toFixed(2)}), ` +
        `top-5 ${top5(ours.probabilities).join(" ")}`,
    );
    assert.ok(
      probDiff <= PROB_TOLERANCE,
      `${what}: max |onnxruntime - inception-wasm| probability ${probDiff} > ${PROB_TOLERANCE}`,
    );
    assert.equal(top5(prob), top5(ours.probabilities), `${what}: top-5 classes`);
    assert.ok(logitDiff <= logitTol, `${what}: max |onnxruntime - inception-wasm| logit ${logitDiff} > ${logitTol}`);
  } finally {
    await net.dispose();
    await rm(file, { force: true });
  }
}

test("onnxruntime-node reproduces inception-wasm on a photo (224)", async () => {
  const photo = photoCases()[0];
  await compareWithOrt(224, (net) => net.toInput(new Uint8Array(readFileSync(photo.file)), photo.file), photo.file);
});

test("onnxruntime-node reproduces inception-wasm on Caffe's input blob (227)", async () => {
  const blob = await readCaffeBlob(join(BLOBS_DIR, "1_data.mat"));
  await compareWithOrt(227, () => blob.data, "caffe-blobs/1_data.mat");
});

test.run();
