// Standard weight files: Caffe models (.caffemodel, V1 zoo layout and V2) and ONNX models (the
// model zoo's googlenet-*.onnx layout and our own export) decode to exactly the BVLC weights of
// the MAT files and give bit-identical probabilities; bad and foreign files give WeightsErrors
// naming the file and the layer or tensor; decoding the 53 MB V1 model is measured in a child
// process. Fixtures are generated in memory (test/support/caffemodel.ts, onnxZoo.ts).

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import onnxProto from "onnx-proto";
import protobuf from "protobufjs/minimal.js";
import { WeightsError } from "../src/host/errors.js";
import type { TensorMap } from "../src/host/ir/tensors.js";
import { GoogLeNet } from "../src/node/index.js";
import { decodeWeights, detectWeightFormat } from "../src/model/formats/detect.js";
import { encodeWeightFile } from "../src/model/formats/iwnet.js";
import { exportOnnx } from "../src/model/formats/onnxExport.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { readMatWeights } from "../src/node/weights.js";
import { encodeCaffeNet, encodeCaffemodel, type CaffeLayerSpec } from "./support/caffemodel.js";
import { DATA_DIR, photoCases } from "./support/data.js";
import { encodeOnnxModel, encodeZooOnnx, type InitializerSpec } from "./support/onnxZoo.js";
import { announceSeed, randomArray, rngFor } from "./support/rng.js";

const seed = announceSeed("formats");
const graph = googlenetGraph();
const mat = await readMatWeights(DATA_DIR);
const tmp = mkdtempSync(join(tmpdir(), "formats-test-"));
/** Decoded maps by fixture, for the probability comparison. */
const decoded = new Map<string, TensorMap>();

const bytesOf = (data: Float32Array): Buffer => Buffer.from(data.buffer, data.byteOffset, data.byteLength);
const sameBits = (a: Float32Array, b: Float32Array): boolean => bytesOf(a).equals(bytesOf(b));

/** Every tensor of the MAT weights, with the same shape and bits. */
function assertSameAsMat(tensors: TensorMap, what: string): void {
  assert.equal([...tensors.keys()].sort(), [...mat.keys()].sort(), `${what}: tensor names`);
  for (const [name, t] of mat) {
    const got = tensors.get(name)!;
    assert.equal(got.shape, t.shape, `${what}: ${name} shape`);
    assert.ok(sameBits(got.data, t.data), `${what}: ${name} bits`);
  }
}

/** The WeightsError `run` throws (any other outcome fails the test). */
async function weightsError(run: () => unknown): Promise<WeightsError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof WeightsError) return error;
    throw error;
  }
  assert.unreachable("expected a WeightsError");
  throw new Error("unreachable");
}

/** Awaits `run`, expecting a WeightsError about `file` and `tensor` whose message matches every pattern; returns it. */
async function assertWeightsError(
  run: () => unknown,
  file: string,
  tensor: string | undefined,
  ...patterns: RegExp[]
): Promise<string> {
  const error = await weightsError(run);
  assert.ok(error.message.startsWith(`${file}`), `names the file: ${error.message}`);
  assert.is(error.tensor, tensor, `tensor of: ${error.message}`);
  for (const p of patterns) assert.match(error.message, p);
  return error.message;
}

const v1 = encodeCaffemodel(mat, { version: 1, withTrainingLayers: true, rng: rngFor(seed, "v1") });
const ZOO_CAFFEMODEL_BYTES = 53_533_754;

test("caffemodel V1 (zoo training snapshot layout) decodes to the MAT weights; aligned blobs are views", async () => {
  console.log(`V1 caffemodel: ${v1.length} bytes (the zoo's bvlc_googlenet.caffemodel: ${ZOO_CAFFEMODEL_BYTES})`);
  const off = Math.abs(v1.length - ZOO_CAFFEMODEL_BYTES);
  assert.ok(off < 0.001 * ZOO_CAFFEMODEL_BYTES, `${v1.length} bytes: the zoo file's size within 0.1%`);
  assert.is(detectWeightFormat(v1, "bvlc_googlenet.caffemodel"), "caffemodel");
  const tensors = await decodeWeights(v1, "bvlc_googlenet.caffemodel", graph);
  assertSameAsMat(tensors, "V1");
  const views = [...tensors.values()].filter((t) => t.data.buffer === v1.buffer).length;
  assert.ok(views > 0 && views < tensors.size, `aligned blobs are views, the others copies (${views} views)`);
  decoded.set("caffemodel V1", tensors);

  const shifted = new Uint8Array(v1.length + 3);
  for (const offset of [1, 2, 3]) {
    shifted.set(v1, offset);
    const at = shifted.subarray(offset, offset + v1.length);
    assertSameAsMat(await decodeWeights(at, "shifted.caffemodel", graph), `offset ${offset}`);
  }
});

test("caffemodel V2 (string types, BlobShape), deploy and training nets; unpacked blob data", async () => {
  const deploy = encodeCaffemodel(mat, {
    version: 2,
    withTrainingLayers: false,
    rng: rngFor(seed, "v2"),
    unpacked: ["conv1/7x7_s2"],
  });
  const tensors = await decodeWeights(deploy, "deploy.caffemodel", graph);
  assertSameAsMat(tensors, "V2 deploy");
  decoded.set("caffemodel V2", tensors);
  const training = encodeCaffemodel(mat, {
    version: 2,
    withTrainingLayers: true,
    rng: rngFor(seed, "v2"),
    unpacked: ["inception_5b/pool_proj", "loss3/classifier"],
  });
  assertSameAsMat(await decodeWeights(training, "train.caffemodel", graph), "V2 training");
});

test("zoo ONNX: opset 3 float_data Gemm, opset 9 raw_data Gemm, opset 12 raw_data MatMul+Add", async () => {
  const variants = [
    { opset: 3, output: "prob_1", rawData: false, classifier: "Gemm" },
    { opset: 9, output: "prob_0", rawData: true, classifier: "Gemm" },
    { opset: 12, output: "prob_0", rawData: true, classifier: "MatMul+Add" },
  ] as const;
  for (const v of variants) {
    const file = `googlenet-${v.opset}.onnx`;
    const bytes = encodeZooOnnx(mat, v);
    assert.is(detectWeightFormat(bytes, file), "onnx");
    const tensors = await decodeWeights(bytes, file, graph);
    assertSameAsMat(tensors, `${file} (${v.rawData ? "raw_data" : "float_data"}, ${v.classifier})`);
    decoded.set(file, tensors);
  }
});

test("our export-onnx output loads", async () => {
  const tensors = await decodeWeights(exportOnnx(graph, mat, 224), "googlenet.onnx", graph);
  assertSameAsMat(tensors, "exportOnnx");
  decoded.set("export-onnx", tensors);
});

test("weights are taken by structure, not by name: swapped names, reordered identical branches", async () => {
  // inception_3b's and inception_4c's 1x1 and 3x3_reduce convolutions have the same shape (128 x 256 and 128 x 512).
  const swapped = new Map<string, string>();
  for (const m of ["inception_3b", "inception_4c"]) {
    for (const k of ["w", "b"]) {
      swapped.set(`${m}/1x1_${k}_0`, `${m}/3x3_reduce_${k}_0`).set(`${m}/3x3_reduce_${k}_0`, `${m}/1x1_${k}_0`);
    }
  }
  const rename = (name: string): string => swapped.get(name) ?? name;
  const reduceFirst = (nodes: onnxProto.onnx.INodeProto[]): onnxProto.onnx.INodeProto[] => {
    const out = nodes.map((n) => ({ ...n, input: n.input!.map(rename) }));
    for (const m of ["inception_3b", "inception_4c"]) {
      // move 3x3_reduce's Conv and Relu before 1x1's
      const at = (output: string): number => out.findIndex((n) => n.output![0] === output);
      out.splice(at(`${m}/1x1_1`), 0, ...out.splice(at(`${m}/3x3_reduce_1`), 2));
    }
    return out;
  };
  const onnx = encodeZooOnnx(mat, {
    opset: 9,
    output: "prob_0",
    rawData: true,
    editNodes: reduceFirst,
    editInitializer: (i) => ({ ...i, name: rename(i.name) }),
  });
  assertSameAsMat(await decodeWeights(onnx, "renamed.onnx", graph), "renamed and reordered ONNX");
  const layerNames = new Map([
    ["inception_4c/1x1", "inception_4c/3x3_reduce"],
    ["inception_4c/3x3_reduce", "inception_4c/1x1"],
  ]);
  const caffe = encodeCaffemodel(mat, {
    version: 2,
    withTrainingLayers: false,
    rng: rngFor(seed, "renamed"),
    edit: (l) => ({ ...l, name: layerNames.get(l.name) ?? l.name }),
  });
  assertSameAsMat(await decodeWeights(caffe, "renamed.caffemodel", graph), "renamed Caffe layers");
});

test("IWNET is still detected and read", async () => {
  assertSameAsMat(await decodeWeights(await encodeWeightFile(mat), "weights.iwnet", graph), "IWNET");
});

test("the network's probabilities on a photo are bit-identical with MAT weights and every decoded file", async () => {
  const photo = photoCases()[0]!;
  const run = async (weights: TensorMap): Promise<Float32Array> => {
    const net = await GoogLeNet.load({ weights, threads: 1, warmUp: false });
    try {
      return (await net.run(net.toInput(new Uint8Array(readFileSync(photo.file)), photo.file))).probabilities;
    } finally {
      await net.dispose();
    }
  };
  const reference = await run(mat);
  assert.ok(decoded.size >= 6, `${decoded.size} decoded files`);
  for (const [what, tensors] of decoded) assert.ok(sameBits(await run(tensors), reference), `${what}: probabilities`);
});

// ---- bad and foreign files ----

test("a VGG-like caffemodel: the first layer differs (expected vs found)", async () => {
  const rng = rngFor(seed, "vgg");
  const blob = (shape: number[]) => ({
    shape,
    data: randomArray(
      rng,
      shape.reduce((a, b) => a * b, 1),
      -1,
      1,
    ),
  });
  const conv = (name: string, bottom: string, cin: number, cout: number): CaffeLayerSpec[] => [
    {
      name,
      type: "Convolution",
      bottoms: [bottom],
      tops: [name],
      conv: { outputs: cout, kernel: 3, stride: 1, pad: 1 },
      blobs: [blob([cout, cin, 3, 3]), blob([cout])],
    },
    { name: `relu${name.slice(4)}`, type: "ReLU", bottoms: [name], tops: [name] },
  ];
  const vgg = encodeCaffeNet(
    "VGG_ILSVRC_16_layers",
    [
      ...conv("conv1_1", "data", 3, 64),
      ...conv("conv1_2", "conv1_1", 64, 64),
      {
        name: "pool1",
        type: "Pooling",
        bottoms: ["conv1_2"],
        tops: ["pool1"],
        pool: { method: "MAX", kernel: 2, stride: 2, pad: 0 },
      },
      {
        name: "fc8",
        type: "InnerProduct",
        bottoms: ["pool1"],
        tops: ["fc8"],
        fc: { outputs: 1000 },
        blobs: [blob([1000, 64]), blob([1000])],
      },
      { name: "prob", type: "Softmax", bottoms: ["fc8"], tops: ["prob"] },
    ],
    { version: 1 },
  );
  assert.is(detectWeightFormat(vgg, "vgg16.caffemodel"), "caffemodel");
  const message = await assertWeightsError(
    () => decodeWeights(vgg, "vgg16.caffemodel", graph),
    "vgg16.caffemodel",
    "conv1_7x7_s2.weight",
    /Caffe model differs from GoogLeNet at conv1\/7x7_s2: /,
    /expected convolution 7x7 stride 2 pad 3, 64 outputs, then ReLU reading the network input; /,
    /found Convolution "conv1_1" 3x3 stride 1 pad 1, 64 outputs$/,
  );
  console.log(`VGG-like: ${message}`);
});

test("a truncated caffemodel: cut inside a field at several points, at a layer boundary, after the name", async () => {
  for (const cut of [5, 12, 1000, Math.floor(v1.length * 0.4), v1.length - 100, v1.length - 1]) {
    const file = `cut-${cut}.caffemodel`;
    const message = await assertWeightsError(
      () => decodeWeights(v1.subarray(0, cut), file, graph),
      file,
      undefined,
      /: NetParameter(, field \d+)? at byte \d+: truncated: .*\(the file ends early or is corrupt\)$/,
    );
    if (cut === Math.floor(v1.length * 0.4)) console.log(`cut at 40%: ${message}`);
  }
  // The end of the last complete layer before 75% of the file: every later layer is missing.
  const reader = protobuf.Reader.create(v1);
  let boundary = 0;
  while (reader.pos < v1.length * 0.75) {
    boundary = reader.pos;
    reader.skipType(reader.uint32() & 7);
  }
  const error = await weightsError(() => decodeWeights(v1.subarray(0, boundary), "boundary.caffemodel", graph));
  console.log(`cut at a layer boundary (byte ${boundary}): ${error.message}`);
  assert.ok(error.message.startsWith("boundary.caffemodel"));
  assert.match(error.message, /Caffe model differs from GoogLeNet at inception_\w+\/\w+: expected .* reading "[^"]+"/);
  assert.match(error.message, /found nothing that reads it \(the network ends there: .* or a truncated file\)/);
  // Only the net's name (field 1, 11 bytes): a complete message without layers.
  await assertWeightsError(
    () => decodeWeights(v1.subarray(0, 11), "name.caffemodel", graph),
    "name.caffemodel",
    undefined,
    /not a Caffe model with weights: expected NetParameter layers \(field 2 or 100\), found none/,
  );
});

test("a caffemodel missing a layer, with a wrong blob count, a misshapen blob, V1 and V2 layers", async () => {
  const edited = (edit: (layer: CaffeLayerSpec) => CaffeLayerSpec | undefined): Uint8Array =>
    encodeCaffemodel(mat, { version: 1, withTrainingLayers: false, rng: rngFor(seed, "edited"), edit });
  const missing = edited((l) => (l.name === "inception_4c/3x3" ? undefined : l));
  await assertWeightsError(
    () => decodeWeights(missing, "missing.caffemodel", graph),
    "missing.caffemodel",
    "inception_4c_3x3.weight",
    /differs from GoogLeNet at inception_4c\/3x3: /,
    /expected convolution 3x3 stride 1 pad 1, 256 outputs, then ReLU reading "inception_4c\/3x3_reduce"/,
  );
  const oneBlob = edited((l) => (l.name === "inception_3a/5x5" ? { ...l, blobs: l.blobs!.slice(0, 1) } : l));
  await assertWeightsError(
    () => decodeWeights(oneBlob, "blobs.caffemodel", graph),
    "blobs.caffemodel",
    "inception_3a_5x5.weight",
    /at inception_3a\/5x5: Convolution "inception_3a\/5x5" 5x5 stride 1 pad 2, 32 outputs: /,
    /expected 2 blobs \(weights and bias\), found 1$/,
  );
  const narrow = { shape: [1000, 512], data: new Float32Array(512_000) };
  const misshapen = edited((l) => (l.name === "loss3/classifier" ? { ...l, blobs: [narrow, l.blobs![1]!] } : l));
  await assertWeightsError(
    () => decodeWeights(misshapen, "shape.caffemodel", graph),
    "shape.caffemodel",
    "loss3_classifier.weight",
    /layer "loss3\/classifier" blob 0: /,
    /expected shape \[1000,1024\], found \[1,1,1000,512\]/,
  );
  // Protobuf merges concatenated messages: one net with both V1 `layers` and V2 `layer`.
  const relu: CaffeLayerSpec[] = [{ name: "relu", type: "ReLU", bottoms: ["data"], tops: ["data"] }];
  const both = Buffer.concat([encodeCaffeNet("a", relu, { version: 1 }), encodeCaffeNet("b", relu, { version: 2 })]);
  await assertWeightsError(
    () => decodeWeights(both, "both.caffemodel", graph),
    "both.caffemodel",
    undefined,
    /corrupt Caffe model: expected V1 `layers` or V2 `layer` fields, found both/,
  );
});

test("an ONNX model of another network, and a zoo model with floor-mode pooling", async () => {
  const rng = rngFor(seed, "small");
  const init = (name: string, dims: number[]) => ({
    name,
    dims,
    data: randomArray(
      rng,
      dims.reduce((a, b) => a * b, 1),
      -1,
      1,
    ),
  });
  const small = encodeOnnxModel({
    opset: 13,
    rawData: true,
    input: { name: "input", dims: [1, 3, 32, 32] },
    output: { name: "logits", dims: [1, 10] },
    initializers: [
      init("conv.weight", [16, 3, 3, 3]),
      init("conv.bias", [16]),
      init("fc.weight", [10, 16384]),
      init("fc.bias", [10]),
    ],
    nodes: [
      {
        name: "conv",
        opType: "Conv",
        input: ["input", "conv.weight", "conv.bias"],
        output: ["c"],
        attribute: [{ name: "pads", type: onnxProto.onnx.AttributeProto.AttributeType.INTS, ints: [1, 1, 1, 1] }],
      },
      { name: "relu", opType: "Relu", input: ["c"], output: ["r"] },
      { name: "flatten", opType: "Flatten", input: ["r"], output: ["f"] },
      {
        name: "fc",
        opType: "Gemm",
        input: ["f", "fc.weight", "fc.bias"],
        output: ["logits"],
        attribute: [{ name: "transB", type: onnxProto.onnx.AttributeProto.AttributeType.INT, i: 1 }],
      },
    ],
  });
  const message = await assertWeightsError(
    () => decodeWeights(small, "small.onnx", graph),
    "small.onnx",
    "conv1_7x7_s2.weight",
    /ONNX model \(opset 13\) differs from GoogLeNet at conv1\/7x7_s2: /,
    /expected convolution 7x7 stride 2 pad 3, 64 outputs, then ReLU reading the network input; /,
    /found Conv "conv" 3x3 stride 1 pad 1, 16 outputs$/,
  );
  console.log(`other ONNX network: ${message}`);
  const floor = encodeZooOnnx(mat, { opset: 9, output: "prob_0", rawData: true, stridePoolPads: [0, 0, 0, 0] });
  await assertWeightsError(
    () => decodeWeights(floor, "floor.onnx", graph),
    "floor.onnx",
    undefined,
    // Floor-mode pools shrink every map: the graph itself no longer fits a 224 x 224 input.
    /ONNX node AveragePool "pool5\/7x7_s1_1" \(node #139\): 'input' expected an input this op can run on, /,
    /found 6x6 \(gives 0x0 here\)/,
  );
});

test("ONNX initializers that are not FLOAT or not in the file; a truncated ONNX model", async () => {
  const zoo = (edit: Partial<InitializerSpec>) =>
    encodeZooOnnx(mat, {
      opset: 9,
      output: "prob_0",
      rawData: true,
      editInitializer: (i) => (i.name === "conv1/7x7_s2_w_0" ? { ...i, ...edit } : i),
    });
  const half = zoo({ dataType: 10, data: new Uint8Array(2 * 9408) });
  await assertWeightsError(
    () => decodeWeights(half, "half.onnx", graph),
    "half.onnx",
    "conv1/7x7_s2_w_0",
    /initializer "conv1\/7x7_s2_w_0": expected data type FLOAT \(1\), found FLOAT16 \(10\)/,
  );
  await assertWeightsError(
    () => decodeWeights(zoo({ external: true }), "external.onnx", graph),
    "external.onnx",
    "conv1/7x7_s2_w_0",
    /initializer "conv1\/7x7_s2_w_0": expected the values inside the model, /,
    /found them in an external data file/,
  );
  const bytes = encodeZooOnnx(mat, { opset: 9, output: "prob_0", rawData: true });
  await assertWeightsError(
    () => decodeWeights(bytes.subarray(0, bytes.length >> 1), "cut.onnx", graph),
    "cut.onnx",
    undefined,
    /ModelProto, field 7 at byte \d+: truncated: graph needs \d+ bytes from byte \d+, found \d+/,
  );
});

test("an HTML error page saved as .onnx, a Git LFS pointer, an empty file, unknown bytes", async () => {
  const page = new TextEncoder().encode(
    "\n  <!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>" + "<body>No such file</body></html>",
  );
  await assertWeightsError(
    () => decodeWeights(page, "googlenet-9.onnx", graph),
    "googlenet-9.onnx",
    undefined,
    /expected a weight file, found an HTML page titled "404 Not Found" \(a failed or redirected download/,
  );
  const xhtml = new TextEncoder().encode('<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"></html>');
  await assertWeightsError(
    () => decodeWeights(xhtml, "googlenet.caffemodel", graph),
    "googlenet.caffemodel",
    undefined,
    /expected a weight file, found an HTML page \(a failed/,
  );
  const lfs = new TextEncoder().encode("version https://git-lfs.github.com/spec/v1\noid sha256:4c6c1b\nsize 1\n");
  await assertWeightsError(
    () => decodeWeights(lfs, "bvlc_googlenet.caffemodel", graph),
    "bvlc_googlenet.caffemodel",
    undefined,
    /found text starting "version https:\/\/git-lfs.github.com\/spec\/v1" \(a Git LFS pointer/,
  );
  await assertWeightsError(
    () => decodeWeights(new Uint8Array(0), "empty.onnx", graph),
    "empty.onnx",
    undefined,
    /empty file: expected an IWNET file .*, an ONNX model .* or a Caffe model/,
  );
  const zip = Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00);
  await assertWeightsError(
    () => decodeWeights(zip, "model.zip", graph),
    "model.zip",
    undefined,
    /unrecognized weight file \(10 bytes, starting 504b030414000000\): /,
    /expected an IWNET file \(magic "IWNET\\0\\r\\n"\), an ONNX model \(ModelProto protobuf\) or a Caffe model/,
  );
});

test("decoding the 53 MB V1 caffemodel: load time and peak RSS (child process)", () => {
  const file = join(tmp, "bvlc_googlenet.caffemodel");
  writeFileSync(file, v1);
  const script = fileURLToPath(new URL("support/decodeChild.js", import.meta.url));
  const child = spawnSync(process.execPath, [script, file], { encoding: "utf8" });
  assert.is(child.status, 0, child.stderr);
  const r = JSON.parse(child.stdout) as {
    bytes: number;
    tensors: number;
    views: number;
    readMs: number;
    decodeMs: number;
    rssBefore: number;
    rssPeak: number;
  };
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  console.log(
    `53 MB V1 caffemodel: read ${r.readMs.toFixed(0)} ms, decode ${r.decodeMs.toFixed(0)} ms, ` +
      `${r.tensors} tensors (${r.views} views into the file), peak RSS ${mb(r.rssBefore)} MB before, ` +
      `${mb(r.rssPeak)} MB after (+${mb(r.rssPeak - r.rssBefore)} MB for a ${mb(r.bytes)} MB file)`,
  );
  assert.is(r.tensors, 116);
  assert.ok(r.rssPeak - r.rssBefore < 3 * r.bytes, `peak RSS increase ${r.rssPeak - r.rssBefore} < 3 x ${r.bytes}`);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
