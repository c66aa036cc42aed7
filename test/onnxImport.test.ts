// The ONNX importer on whole networks (onnxImport.ts, network.ts): the BVLC GoogLeNet in every
// exporter's form binds to GoogLeNet's own graph with the exact weights and gives the
// caffemodel's probabilities bit for bit; seeded BVLC-topology and torchvision-style graphs
// (BatchNormalization folded, transform_input preamble) match onnxruntime-node on the same input
// within the derived network tolerance (tolerance.ts); a graph outside the family is a typed
// error naming the node; external data is read only from inside the model's folder; the
// preprocessing follows the graph. Seeded: INCEPTION_WASM_SEED replays.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { WeightsError } from "../src/host/errors.js";
import { inferShapes } from "../src/host/ir/shapes.js";
import type { TensorMap } from "../src/host/ir/tensors.js";
import { decodeWeights } from "../src/model/formats/detect.js";
import { exportOnnx } from "../src/model/formats/onnxExport.js";
import { importOnnx } from "../src/model/formats/onnxImport.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../src/model/image/normalization.js";
import { resizeImage } from "../src/model/image/preprocess.js";
import { decodeImage } from "../src/model/image/decode.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { summarize } from "../src/model/network/summary.js";
import { GoogLeNet } from "../src/node/index.js";
import { encodeCaffemodel } from "./support/caffemodel.js";
import { matWeights, photoCases } from "./support/data.js";
import { encodeBvlcTorchOnnx, encodeTorchvisionOnnx } from "./support/onnxGraphs.js";
import { encodeOnnxModel, encodeZooOnnx, node } from "./support/onnxZoo.js";
import { announceSeed, randomArray, rngFor } from "./support/rng.js";
import { caffeLrnErrors, networkTolerance, reductionDepths } from "./support/tolerance.js";

const seed = announceSeed("onnx-import");
const mat = await matWeights();
const graph = googlenetGraph();
const tmp = mkdtempSync(join(tmpdir(), "onnx-import-test-"));

const bytesOf = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxAbsDiff = (a: Float32Array, b: Float32Array): number =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const top5 = (p: Float32Array): number[] =>
  Array.from(p.keys())
    .sort((a, b) => p[b]! - p[a]! || a - b)
    .slice(0, 5);

/** A GoogLeNet-layout map of seeded weights (He-uniform), for topology tests without the real weights. */
function seededBvlc(name: string): TensorMap {
  const rng = rngFor(seed, name);
  const out: TensorMap = new Map();
  for (const [key, t] of mat) {
    const fanIn = t.shape.length > 1 ? t.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const bound = t.shape.length > 1 ? Math.sqrt(6 / fanIn) : 0.05;
    out.set(key, { shape: t.shape, data: randomArray(rng, t.data.length, -bound, bound) });
  }
  return out;
}

/** The BVLC forms of `tensors`: the zoo's opsets and styles, GlobalAveragePool, our export, torch.onnx.export's. */
function bvlcForms(tensors: TensorMap): [string, Uint8Array][] {
  const globalPool = (nodes: ReturnType<typeof node>[]) =>
    nodes.map((n) => (n.opType === "AveragePool" ? { ...n, opType: "GlobalAveragePool", attribute: [] } : n));
  return [
    ["zoo opset 3 (float_data, Gemm)", encodeZooOnnx(tensors, { opset: 3, output: "prob_1", rawData: false })],
    ["zoo opset 8", encodeZooOnnx(tensors, { opset: 8, output: "prob_1", rawData: true })],
    ["zoo opset 9", encodeZooOnnx(tensors, { opset: 9, output: "prob_0", rawData: true })],
    [
      "zoo opset 12 (MatMul+Add)",
      encodeZooOnnx(tensors, { opset: 12, output: "prob_1", rawData: true, classifier: "MatMul+Add" }),
    ],
    [
      "zoo opset 9, GlobalAveragePool pool5",
      encodeZooOnnx(tensors, { opset: 9, output: "prob_1", rawData: true, editNodes: globalPool }),
    ],
    ["export-onnx (opset 13)", exportOnnx(graph, tensors, 224)],
    ["torch.onnx.export opset 11", encodeBvlcTorchOnnx(tensors, 11)],
    ["torch.onnx.export opset 17", encodeBvlcTorchOnnx(tensors, 17)],
    ["torch.onnx.export opset 21", encodeBvlcTorchOnnx(tensors, 21)],
  ];
}

test("BVLC in every form binds to GoogLeNet's graph with the exact weights (GlobalAveragePool pool5 included)", async () => {
  for (const [what, bytes] of bvlcForms(mat)) {
    const tensors = await decodeWeights(bytes, `${what}.onnx`, graph);
    for (const [name, t] of mat)
      assert.ok(bytesOf(tensors.get(name)!.data).equals(bytesOf(t.data)), `${what}: ${name} bits`);
  }
});

test("the real BVLC weights in every form: the caffemodel's probabilities bit for bit, Caffe preprocessing, Table 1", async () => {
  const photos = photoCases();
  const run = async (weights: Uint8Array | TensorMap, what: string): Promise<Float32Array[]> => {
    const net = await GoogLeNet.load({ weights, threads: 1, warmUp: false });
    try {
      assert.equal(JSON.stringify(net.graph), JSON.stringify(graph), `${what}: GoogLeNet's own graph`);
      assert.is(net.capabilities.preprocessing.name, "caffe", what);
      assert.is(net.multiplyAdds, summarize(224).totalOps, `${what}: Table 1's multiply-adds`);
      const out: Float32Array[] = [];
      for (const p of photos) out.push(await net.probabilities(new Uint8Array(readFileSync(p.file)), { name: p.file }));
      return out;
    } finally {
      await net.dispose();
    }
  };
  const caffe = await run(
    encodeCaffemodel(mat, { version: 2, withTrainingLayers: false, rng: rngFor(seed, "caffe") }),
    "caffemodel",
  );
  photos.forEach((p, i) => console.log(`  caffemodel ${p.file.split("/").pop()}: top-5 ${top5(caffe[i]!).join(" ")}`));
  for (const [what, bytes] of bvlcForms(mat)) {
    const probs = await run(bytes, what);
    photos.forEach((p, i) => {
      assert.equal(top5(probs[i]!), top5(caffe[i]!), `${what} ${p.file}: top-5`);
      assert.ok(bytesOf(probs[i]!).equals(bytesOf(caffe[i]!)), `${what} ${p.file}: probabilities bit for bit`);
    });
  }
});

/**
 * Loads `bytes` (1 thread), runs a batch of two seeded input tensors through inception-wasm and
 * onnxruntime-node (one [2, 3, 224, 224] run where the batch dimension is dynamic, else one run
 * per image: the zoo's files declare batch 1), and checks the
 * outputs (logits, or probabilities of graphs ending in Softmax) within the network tolerance:
 * both passes differ by 3 sigma of sqrt(reduction depth) roundings each (tolerance.ts), the
 * depth counting folded weights twice; Caffe's LRN term applies to onnxruntime's running-sum LRN.
 */
async function compareWithOrt(
  bytes: Uint8Array,
  what: string,
  range: number,
  folded: boolean,
  dynamicBatch: boolean,
  ortBytes = bytes,
): Promise<GoogLeNet> {
  const net = await GoogLeNet.load({ weights: bytes, threads: 1, keepActivations: true, warmUp: false });
  const rng = rngFor(seed, what);
  const inputs = [0, 1].map(() => randomArray(rng, 3 * 224 * 224, -range, range));
  const ours = await net.runBatch(inputs);
  const imported = importOnnx(bytes, what);
  const session = await ort.InferenceSession.create(ortBytes, { intraOpNumThreads: 1 });
  const theirs = new Float32Array(2000);
  const feed = async (x: Float32Array, n: number, at: number): Promise<void> => {
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor("float32", x, [n, 3, 224, 224]) });
    const y = out[session.outputNames[0]!]!;
    assert.equal(y.dims, [n, 1000], `${what}: onnxruntime's output dims`);
    theirs.set(y.data as Float32Array, at);
  };
  if (dynamicBatch) {
    const both = new Float32Array(2 * inputs[0]!.length);
    both.set(inputs[0]!, 0);
    both.set(inputs[1]!, inputs[0]!.length);
    await feed(both, 2, 0);
  } else {
    for (const b of [0, 1]) await feed(inputs[b]!, 1, b * 1000);
  }
  await session.release();
  const g = net.graph;
  const shapes = inferShapes(g, 224, 224);
  const tensor = imported.softmax ? g.probabilities : g.logits;
  const depth = reductionDepths(g, shapes, folded).get(tensor)!;
  for (const b of [0, 1]) {
    await net.run(inputs[b]!); // for the activations of this image
    const lrn = caffeLrnErrors(g, shapes, (t) => maxAbs(net.activation(t))).get(tensor)!;
    const mine = imported.softmax ? ours[b]!.probabilities : ours[b]!.logits;
    const ref = theirs.subarray(b * 1000, (b + 1) * 1000);
    const tol = networkTolerance(depth, lrn, maxAbs(mine));
    const diff = maxAbsDiff(mine, ref);
    console.log(
      `  ${what} [${b}]: max|diff| ${diff.toExponential(2)}, tolerance ${tol.toExponential(2)}, max|out| ${maxAbs(mine).toExponential(2)}`,
    );
    if (ortBytes === bytes)
      assert.ok(diff <= tol, `${what} image ${b}: max |onnxruntime - inception-wasm| ${diff} > ${tol}`);
    else assert.ok(diff > tol, `${what} image ${b}: another model's outputs must differ: ${diff} <= ${tol}`);
    assert.ok(maxAbs(mine) > 0, `${what}: a non-zero output`);
  }
  return net;
}

test("onnxruntime-node: seeded BVLC topology in several forms, the same outputs within the network tolerance", async () => {
  const tensors = seededBvlc("bvlc");
  for (const [what, bytes] of bvlcForms(tensors).filter(([w]) => /opset 9|GlobalAveragePool|opset 17/.test(w))) {
    // Inputs of +-1 keep the seeded logits small: probabilities far from saturated (printed).
    const net = await compareWithOrt(bytes, what, 1, false, what.startsWith("torch"));
    await net.dispose();
  }
});

test("onnxruntime-node: torchvision-style GoogLeNet (BatchNormalization, no LRN, transform_input) within the tolerance", async () => {
  for (const [opset, transformInput] of [
    [11, false],
    [17, true],
  ] as const) {
    const what = `torchvision opset ${opset}${transformInput ? " transform_input" : ""}`;
    const bytes = encodeTorchvisionOnnx(rngFor(seed, what), { opset, transformInput });
    const net = await compareWithOrt(bytes, what, 2.5, true, true);
    try {
      const g = net.graph;
      assert.ok(!g.nodes.some((n) => n.op === "lrn"), `${what}: no LRN`);
      assert.is(
        g.nodes.filter((n) => n.op === "conv").length,
        57,
        `${what}: 57 convolutions, BatchNormalization folded`,
      );
      assert.ok(
        g.nodes.every((n) => n.op !== "conv" || n.relu),
        `${what}: every convolution has its ReLU fused`,
      );
      assert.ok(
        g.nodes.some((n) => n.op === "avgPool" && n.global),
        `${what}: a global average pool`,
      );
      assert.is(Boolean(g.inputTransform), transformInput, `${what}: the preamble as the graph's input map`);
      assert.is(net.capabilities.preprocessing.name, "imagenet", what);
      assert.match(net.capabilities.preprocessing.reason, transformInput ? /transform_input/ : /without LRN/);
      const cost = net.summary();
      const table = summarize(224, "strict", g);
      assert.not.ok(table.googlenet, `${what}: not GoogLeNet's Table 1`);
      assert.is(table.totalOps, cost.multiplyAddsPerImage, `${what}: the table's multiply-adds are the network's`);
      assert.is(table.totalParams, cost.parameters, `${what}: the table's parameters are the network's`);
      // torchvision's GoogLeNet: 6.6M parameters (BatchNormalization folded into biases), 1.5G multiply-adds.
      assert.ok(
        cost.multiplyAddsPerImage > 1.4e9 && cost.multiplyAddsPerImage < 1.6e9,
        `${what}: ${cost.multiplyAddsPerImage}`,
      );
      assert.ok(cost.parameters > 6.5e6 && cost.parameters < 6.7e6, `${what}: ${cost.parameters}`);
      assert.ok(
        table.rows.some((r) => r.patch === "7x7/1" && r.type === "avg pool"),
        `${what}: the global pool's row`,
      );
    } finally {
      await net.dispose();
    }
  }
});

test("the comparison fails for a wrong import: the graph without its transform_input against the graph with it", async () => {
  // The same seed gives the same weights with and without the preamble (it draws no random numbers).
  const what = "torchvision opset 17 transform_input";
  const without = encodeTorchvisionOnnx(rngFor(seed, what), { opset: 17, transformInput: false });
  const withPreamble = encodeTorchvisionOnnx(rngFor(seed, what), { opset: 17, transformInput: true });
  const net = await compareWithOrt(without, `${what} (dropped)`, 2.5, true, true, withPreamble);
  await net.dispose();
});

/** Loads each model as bytes and checks that the load fails with a WeightsError matching its pattern. */
async function expectLoadErrors(cases: [string, Uint8Array, RegExp][]): Promise<void> {
  for (const [file, model, pattern] of cases) {
    let error: unknown;
    await GoogLeNet.load({ weights: model, threads: 1, warmUp: false }).then(
      (net) => net.dispose(),
      (e: unknown) => (error = e),
    );
    assert.instance(error, WeightsError, `${file}: ${String(error)}`);
    assert.match((error as WeightsError).message, pattern, file);
    console.log(`  ${file}: ${(error as Error).message.slice(0, 200)}`);
  }
}

test("a graph outside the family: a typed error naming the first unsupported node; nothing loads", async () => {
  const bytes = (edit: (nodes: ReturnType<typeof node>[]) => ReturnType<typeof node>[]) =>
    encodeZooOnnx(mat, { opset: 12, output: "prob_1", rawData: true, editNodes: edit });
  const cases: [string, Uint8Array, RegExp][] = [
    [
      "sigmoid.onnx",
      bytes((nodes) => nodes.map((n, i) => (i === 1 ? { ...n, opType: "Sigmoid" } : n))),
      /ONNX node Sigmoid "conv1\/7x7_s2_2" \(node #2\): 'op_type' expected one of Conv, BatchNormalization, .*found Sigmoid$/,
    ],
    [
      "grouped.onnx",
      bytes((nodes) =>
        nodes.map((n, i) => (i === 0 ? { ...n, attribute: [...n.attribute!, { name: "group", type: 2, i: 2 }] } : n)),
      ),
      /ONNX node Conv "conv1\/7x7_s2_1" \(node #1\): 'group' expected 1 \(no grouped convolution\), found 2$/,
    ],
    [
      "dilated.onnx",
      bytes((nodes) =>
        nodes.map((n, i) =>
          i === 2 ? { ...n, attribute: [...n.attribute!, { name: "dilations", type: 7, ints: [2, 2] }] } : n,
        ),
      ),
      /ONNX node MaxPool "pool1\/3x3_s2_1" \(node #3\): 'dilations' expected all 1 \(no dilation\), found \[2,2\]$/,
    ],
    [
      "unknown-attribute.onnx",
      bytes((nodes) =>
        nodes.map((n, i) => (i === 3 ? { ...n, attribute: [...n.attribute!, { name: "axis", type: 2, i: 1 }] } : n)),
      ),
      /ONNX node LRN "pool1\/norm1_1" \(node #4\): 'attribute' expected one of alpha, beta, bias, size, found axis$/,
    ],
  ];
  await expectLoadErrors(cases);
});

test("a node the ONNX checker rejects is a typed error naming it, never loaded in part (fuzz seed 21 cases 6033, 6835)", async () => {
  type Nodes = ReturnType<typeof node>[];
  const bytes = (edit: (nodes: Nodes) => Nodes) =>
    encodeZooOnnx(mat, { opset: 12, output: "prob_1", rawData: true, editNodes: edit });
  const at = (index: number, edit: (n: Nodes[number]) => Nodes[number]) => (nodes: Nodes) =>
    nodes.map((n, i) => (i === index ? edit(n) : n));
  const withAttribute = (index: number, name: string, a: object) =>
    at(index, (n) => ({ ...n, attribute: [...n.attribute!.filter((x) => x.name !== name), { name, ...a }] }));
  /** The model with the first byte of the first `text` turned into C3 (a UTF-8 lead byte the next byte does not continue). */
  const notUtf8 = (model: Uint8Array, text: string): Uint8Array => {
    const out = model.slice();
    out[Buffer.from(out).indexOf(text)] = 0xc3;
    return out;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    // Case 6033: a flipped tag made the Conv's name a second output; the Conv loaded.
    [
      "two-outputs.onnx",
      bytes(at(0, (n) => ({ ...n, output: [...n.output!, "conv1/extra"] }))),
      /ONNX node Conv "conv1\/7x7_s2_1" \(node #1\): 'outputs' expected 1 at opset 12, found 2$/,
    ],
    [
      "four-inputs.onnx",
      bytes(at(0, (n) => ({ ...n, input: [...n.input!, n.input![2]!] }))),
      /ONNX node Conv "conv1\/7x7_s2_1" \(node #1\): 'inputs' expected 2 to 3 at opset 12, found 4$/,
    ],
    // Case 6835: MaxPool's kernel_shape with type 39 (no AttributeType) loaded as INTS.
    [
      "no-such-type.onnx",
      bytes(withAttribute(2, "kernel_shape", { type: 39, ints: [3, 3] })),
      /node #3 attribute "kernel_shape" at byte \d+: expected a type \(AttributeProto.type, 1 to 14\), found 39$/,
    ],
    [
      "type-and-value-disagree.onnx",
      bytes(withAttribute(2, "kernel_shape", { type: 2, ints: [3, 3] })),
      /node #3 attribute "kernel_shape" at byte \d+: type INT expected its value in field 3, found field 8$/,
    ],
    [
      "wrong-type.onnx",
      bytes(withAttribute(3, "size", { type: 1, f: 5 })),
      /ONNX node LRN "pool1\/norm1_1" \(node #4\): 'size' expected type INT, found FLOAT$/,
    ],
    [
      "attribute-twice.onnx",
      bytes(at(3, (n) => ({ ...n, attribute: [...n.attribute!, n.attribute![0]!] }))),
      /node #4 attribute "\w+" at byte \d+: expected one attribute of this name on the node, found two$/,
    ],
    [
      "undefined-input.onnx",
      bytes((nodes) => nodes.map((n) => (n.opType === "Dropout" ? { ...n, input: [...n.input!, "nowhere"] } : n))),
      /ONNX node Dropout "[^"]+" \(node #\d+\): 'inputs\[1\]' expected a graph input, an initializer or an earlier node's output, found "nowhere"$/,
    ],
    // conv1 writes the graph input's name, which its ReLU then reads.
    [
      "output-redefined.onnx",
      bytes((nodes) => [{ ...nodes[0]!, output: ["data_0"] }, { ...nodes[1]!, input: ["data_0"] }, ...nodes.slice(2)]),
      /ONNX node Conv "data_0" \(node #1\): 'outputs\[0\]' expected a name no other value has, found "data_0" again$/,
    ],
    // Cases 9723, 9973: a pool whose windows can lie wholly in the padding (no value) loaded.
    [
      "pad-as-large-as-kernel.onnx",
      bytes(withAttribute(2, "pads", { type: 7, ints: [0, 0, 0, 3] })),
      /ONNX node MaxPool "pool1\/3x3_s2_1" \(node #3\): 'pads' expected each less than its axis's kernel_shape \[3,3\], found \[0,0,0,3\]$/,
    ],
    // Case 9805: a name that is not UTF-8 (C3 6F) read as U+FFFD "o" (onnx-proto reads "ï").
    [
      "not-utf8.onnx",
      notUtf8(
        bytes((nodes) => nodes),
        "conv1/7x7_s2_1",
      ),
      /node #1, field 2 at byte \d+: expected UTF-8 text \(a string field\), found bytes that are not UTF-8 \(c36f6e76/,
    ],
  ];
  await expectLoadErrors(cases);
});

test("external data: read from beside the model; absolute, '..', backslash and symlinked-out locations are rejected", async () => {
  const rng = rngFor(seed, "external");
  const what = "torchvision opset 13";
  const base = encodeTorchvisionOnnx(rng, { opset: 13, transformInput: false });
  const spec = (location: string, offset: number): Uint8Array =>
    withExternalFc(base, { location, offset, length: 4 * 1000 * 1024 });
  const dir = join(tmp, "model");
  mkdirSync(join(dir, "sub"), { recursive: true });
  const fc = importOnnx(base, what).weights;
  // The fc weight as stored ([1000, 1024], not transposed: transB 1), after 16 bytes of padding.
  const stored = fcStored(base);
  writeFileSync(join(dir, "sub", "weights.bin"), Buffer.concat([Buffer.alloc(16), bytesOf(stored)]));
  writeFileSync(join(dir, "model.onnx"), spec("sub/weights.bin", 16));
  const external = await GoogLeNet.load({ weights: join(dir, "model.onnx"), threads: 1, warmUp: false });
  const inside = await GoogLeNet.load({ weights: base, threads: 1, warmUp: false });
  try {
    const x = randomArray(rng, 3 * 224 * 224, -2, 2);
    assert.ok(
      bytesOf((await external.run(x)).logits).equals(bytesOf((await inside.run(x)).logits)),
      "same logits bits",
    );
  } finally {
    await external.dispose();
    await inside.dispose();
  }
  assert.ok(fc.size > 0);
  mkdirSync(join(tmp, "outside"), { recursive: true });
  writeFileSync(join(tmp, "outside", "w.bin"), bytesOf(stored));
  symlinkSync(join(tmp, "outside", "w.bin"), join(dir, "link.bin"));
  const hostile: [string, RegExp][] = [
    ["/etc/passwd", /found an absolute path/],
    [join(tmp, "outside", "w.bin"), /found an absolute path/],
    ["../outside/w.bin", /found a '\.\.' segment/],
    ["sub/../../outside/w.bin", /found a '\.\.' segment/],
    ["sub\\..\\..\\outside\\w.bin", /found a backslash/],
    ["C:/Windows/w.bin", /found an absolute path/],
    ["", /found an empty location/],
    ["link.bin", /expected a file inside the model's folder/],
    ["missing.bin", /cannot read/],
  ];
  for (const [location, pattern] of hostile) {
    writeFileSync(join(dir, "hostile.onnx"), spec(location, 0));
    let error: unknown;
    await GoogLeNet.load({ weights: join(dir, "hostile.onnx"), threads: 1, warmUp: false }).then(
      (net) => net.dispose(),
      (e: unknown) => (error = e),
    );
    assert.instance(error, WeightsError, `${location}: ${String(error)}`);
    assert.match((error as Error).message, pattern, `${location}: ${(error as Error).message}`);
  }
  // Bytes (no folder): external data is an error naming the file to load by path.
  let error: unknown;
  await GoogLeNet.load({ weights: spec("sub/weights.bin", 16), threads: 1, warmUp: false }).catch(
    (e: unknown) => (error = e),
  );
  assert.match((error as Error).message, /load the model by path/);
});

/** The torchvision model's fc.weight values as stored in the file. */
function fcStored(bytes: Uint8Array): Float32Array {
  const model = importOnnx(bytes, "fc");
  const fc = model.graph.nodes.find((n) => n.op === "fc")!;
  return model.weights.get(`${fc.name}.weight`)!.data; // transB 1: stored as [out, in], alpha 1: the same bits
}

/** `bytes` re-encoded with fc.weight stored externally (the rest unchanged). */
function withExternalFc(bytes: Uint8Array, external: { location: string; offset: number; length: number }): Uint8Array {
  const spec = decodeSpec(bytes);
  return encodeOnnxModel({
    ...spec,
    initializers: spec.initializers.map((i) =>
      i.name === "fc.weight" ? { ...i, data: new Float32Array(0), external } : i,
    ),
  });
}

/** An encoded model's spec (nodes, initializers, input, output) via onnx-proto. */
function decodeSpec(bytes: Uint8Array): Parameters<typeof encodeOnnxModel>[0] {
  // biome-ignore lint/suspicious/noExplicitAny: onnx-proto's decoded message
  const m: any = onnxDecode(bytes);
  const dims = (v: { type: { tensorType: { shape: { dim: { dimValue?: number; dimParam?: string }[] } } } }) =>
    v.type.tensorType.shape.dim.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
  return {
    opset: Number(m.opsetImport[0].version),
    nodes: m.graph.node,
    rawData: true,
    initializers: m.graph.initializer.map(
      (t: { name: string; dims: number[]; dataType: number; rawData: Uint8Array }) => ({
        name: t.name,
        dims: t.dims.map(Number),
        dataType: t.dataType,
        data: t.dataType === 1 ? new Float32Array(Uint8Array.from(t.rawData).buffer) : Uint8Array.from(t.rawData),
      }),
    ),
    input: { name: m.graph.input[0].name, dims: dims(m.graph.input[0]) },
    output: { name: m.graph.output[0].name, dims: dims(m.graph.output[0]) },
  };
}

const onnxDecode = (bytes: Uint8Array): unknown => onnxProto.onnx.ModelProto.decode(bytes);

test("preprocessing: ImageNet mean/std of a short-side-256 centre crop for torchvision-style graphs, overridable", async () => {
  const bytes = encodeTorchvisionOnnx(rngFor(seed, "preprocessing"), { opset: 13, transformInput: true });
  const options = { weights: bytes, threads: 1, warmUp: false, scaledJpeg: false } as const;
  const net = await GoogLeNet.load(options);
  const caffe = await GoogLeNet.load({ ...options, preprocessing: "caffe" });
  try {
    assert.is(caffe.capabilities.preprocessing.name, "caffe");
    assert.is(caffe.capabilities.preprocessing.reason, "the preprocessing load option");
    const photo = photoCases().find((p) => p.file.endsWith(".png"))!;
    const encoded = new Uint8Array(readFileSync(photo.file));
    const got = net.toInput(encoded, photo.file);
    // Independent reference: torchvision's Resize(256) (short side, aspect kept), CenterCrop(224),
    // ToTensor (/255), Normalize(mean, std), R, G, B planes, in float64.
    const rgba = decodeImage(encoded, photo.file, { maxPixels: 1 << 26, minShortSide: Number.POSITIVE_INFINITY });
    const landscape = rgba.width >= rgba.height;
    const w = landscape ? Math.round((rgba.width * 256) / rgba.height) : 256;
    const h = landscape ? 256 : Math.round((rgba.height * 256) / rgba.width);
    const planes = resizeImage(rgba, w, h, "antialias").data;
    const x0 = Math.floor((w - 224) / 2),
      y0 = Math.floor((h - 224) / 2);
    let worst = 0;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 224; y++) {
        for (let x = 0; x < 224; x++) {
          const want = (planes[c * w * h + (y + y0) * w + x + x0]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;
          worst = Math.max(worst, Math.abs(got[c * 224 * 224 + y * 224 + x]! - want));
        }
      }
    }
    // Ours rounds twice: the Caffe tensor p - mean (|.| <= 255: u * 255, then scaled by at most
    // 1 / (255 * 0.224)) and the mapped value (|.| <= 2.7: u * 2.7), u = 2^-24.
    const bound = 2 ** -24 * (1 / 0.224 + 2.7);
    console.log(
      `  ImageNet normalization of ${photo.file}: max |ours - reference| ${worst.toExponential(2)} (bound ${bound.toExponential(2)})`,
    );
    assert.ok(worst <= bound, `max |ours - reference| ${worst} > ${bound}`);
    assert.ok(!bytesOf(caffe.toInput(encoded, photo.file)).equals(bytesOf(got)), "the override changes the input");
  } finally {
    await net.dispose();
    await caffe.dispose();
  }
});

test("the real BVLC weights behind an ImageNet-input preamble: torchvision-style preprocessing gives every photo's class", async () => {
  // No torchvision weights can be had here; this graph takes ImageNet-normalized R, G, B and maps it
  // back to Caffe's input before conv1, so the real weights judge the "imagenet" path end to end
  // (short side 256, centre crop, /255, mean/std, R, G, B). Its LRN makes detection say "caffe": the
  // load option overrides it, and the Caffe tensor fed to the same graph is the control that fails.
  const bytes = encodeBvlcTorchOnnx(mat, 17, { imagenetInput: true });
  const options = { weights: bytes, threads: 1, warmUp: false } as const;
  const net = await GoogLeNet.load({ ...options, preprocessing: "imagenet" });
  const control = await GoogLeNet.load(options);
  try {
    assert.is(net.capabilities.preprocessing.name, "imagenet");
    assert.is(control.capabilities.preprocessing.name, "caffe");
    let controlRight = 0;
    for (const p of photoCases()) {
      const image = new Uint8Array(readFileSync(p.file));
      const [best] = await net.classify(image, { name: p.file, topK: 1 });
      const [wrong] = await control.classify(image, { name: p.file, topK: 1 });
      console.log(
        `  ${p.file.split("/").pop()}: imagenet ${best!.index} (${best!.probability.toFixed(3)}), caffe tensor ${wrong!.index}, reference ${p.top1}`,
      );
      assert.is(best!.index, p.top1, `${p.file}: the ImageNet-preprocessed class`);
      if (wrong!.index === p.top1) controlRight++;
    }
    assert.ok(
      controlRight < photoCases().length / 2,
      `the control (wrong preprocessing) right on ${controlRight} photos`,
    );
  } finally {
    await net.dispose();
    await control.dispose();
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
