// Test-only builders of Inception-v1 ONNX graphs as today's exporters write them (the model zoo's
// Caffe2 layout is onnxZoo.ts): the BVLC topology in torch.onnx.export's style (ceil-mode pools,
// GlobalAveragePool, the Shape/Gather/Unsqueeze/Concat/Reshape flatten of `x.view(x.size(0), -1)`,
// Gemm, Softmax, dynamic batch), and torchvision's GoogLeNet (convolutions without bias followed
// by BatchNormalization, no LRN, a 3x3 convolution in the "5x5" branch, ceil-mode max pools with a
// 2x2 pool4, GlobalAveragePool, Flatten, Gemm, logits, the transform_input preamble). Weights are
// seeded (He-uniform convolutions, BatchNormalization statistics near 1), or given (BVLC; optionally
// behind a preamble that takes ImageNet-normalized input).

import onnxProto from "onnx-proto";
import type { TensorMap } from "../../src/host/ir/tensors.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../src/model/image/normalization.js";
import { BGR_MEAN } from "../../src/model/image/preprocess.js";
import { INCEPTION_MODULES, LRN_PARAMS } from "../../src/model/network/googlenet.js";
import { encodeOnnxModel, node, type Attr, type InitializerSpec } from "./onnxZoo.js";
import { randomArray, type Rng } from "./rng.js";

const { onnx } = onnxProto;
const INT64 = onnx.TensorProto.DataType.INT64;

/** A Constant node's tensor attribute: INT64 values (scalar when dims is []) or FLOAT. */
function constTensor(dims: number[], values: number[], float = false): Attr {
  const data = float
    ? new Uint8Array(Float32Array.from(values).buffer)
    : new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
  return { name: "value", t: { dims, dataType: float ? onnx.TensorProto.DataType.FLOAT : INT64, rawData: data } };
}

/** Builds a graph node by node, naming tensors like torch.onnx.export (onnx::Conv_12, /conv1/Conv_output_0). */
class GraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: InitializerSpec[] = [];
  private count = 0;
  constructor(readonly opset: number) {}

  add(op: string, inputs: string[], attrs: Attr[] = [], outputs = 1, name = `/${op}_${this.count}`): string {
    const outs = Array.from({ length: outputs }, (_, i) => `${name}_output_${i}`);
    this.count++;
    this.nodes.push(node(op, inputs, outs, attrs, name));
    return outs[0]!;
  }

  weight(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, data });
    return name;
  }

  constant(dims: number[], values: number[], float = false): string {
    return this.add("Constant", [], [constTensor(dims, values, float)]);
  }

  /** Unsqueeze along `axes` (attribute before opset 13, an input since). */
  unsqueeze(x: string, axes: number[]): string {
    return this.opset >= 13
      ? this.add("Unsqueeze", [x, this.constant([axes.length], axes)])
      : this.add("Unsqueeze", [x], [{ name: "axes", ints: axes }]);
  }

  encode(input: string, output: string, outputDims: (number | string)[]): Uint8Array {
    return encodeOnnxModel({
      opset: this.opset,
      nodes: this.nodes,
      initializers: this.initializers,
      rawData: true,
      input: { name: input, dims: ["N", 3, 224, 224] },
      output: { name: output, dims: outputDims },
    });
  }
}

const pool = (kernel: number, stride: number, pad: number, ceil: boolean): Attr[] => [
  { name: "kernel_shape", ints: [kernel, kernel] },
  { name: "strides", ints: [stride, stride] },
  { name: "pads", ints: [pad, pad, pad, pad] },
  { name: "ceil_mode", i: ceil ? 1 : 0 },
];
const convAttrs = (kernel: number, stride: number, pad: number): Attr[] => [
  { name: "kernel_shape", ints: [kernel, kernel] },
  { name: "strides", ints: [stride, stride] },
  { name: "pads", ints: [pad, pad, pad, pad] },
  { name: "dilations", ints: [1, 1] },
  { name: "group", i: 1 },
];

/** Options of the BVLC graph in torch.onnx.export's style. */
export interface BvlcTorchOptions {
  /**
   * A preamble that takes ImageNet-normalized R, G, B (torchvision's convention) and makes Caffe's
   * B, G, R minus the ILSVRC mean from it, as a port that re-normalizes its input would: the BVLC
   * weights then classify images preprocessed the torchvision way.
   */
  imagenetInput?: boolean;
}

/**
 * The BVLC GoogLeNet with `tensors` (the graph's names: MAT weights or seeded) as torch.onnx.export
 * writes a PyTorch port of it: ceil-mode max pools (pads 0 = Caffe's rounding), GlobalAveragePool,
 * the flatten as Shape -> Gather(0) -> Unsqueeze -> Concat(-1) -> Reshape, Gemm(transB), Softmax(axis 1).
 */
export function encodeBvlcTorchOnnx(tensors: TensorMap, opset: number, options: BvlcTorchOptions = {}): Uint8Array {
  const g = new GraphBuilder(opset);
  const conv = (x: string, layer: string, kernel: number, stride = 1, pad = 0): string => {
    const w = tensors.get(`${layer}.weight`)!,
      b = tensors.get(`${layer}.bias`)!;
    const y = g.add(
      "Conv",
      [x, g.weight(`${layer}.weight`, w.shape, w.data), g.weight(`${layer}.bias`, b.shape, b.data)],
      convAttrs(kernel, stride, pad),
    );
    return g.add("Relu", [y]);
  };
  const lrn = (x: string): string =>
    g.add(
      "LRN",
      [x],
      [
        { name: "size", i: LRN_PARAMS.size },
        { name: "alpha", f: LRN_PARAMS.alpha },
        { name: "beta", f: LRN_PARAMS.beta },
        { name: "bias", f: LRN_PARAMS.k },
      ],
    );
  let x = "data";
  if (options.imagenetInput) {
    // Caffe's input from ImageNet's, channel c of B, G, R: x[:, 2 - c] * 255 std + 255 mean - BGR_MEAN[c].
    const parts = [0, 1, 2].map((c) => {
      const rgb = 2 - c;
      const picked = g.unsqueeze(g.add("Gather", [x, g.constant([], [rgb])], [{ name: "axis", i: 1 }]), [1]);
      const scaled = g.add("Mul", [picked, g.constant([], [255 * IMAGENET_STD[rgb]!], true)]);
      return g.add("Add", [scaled, g.constant([], [255 * IMAGENET_MEAN[rgb]! - BGR_MEAN[c]!], true)]);
    });
    x = g.add("Concat", parts, [{ name: "axis", i: 1 }]);
  }
  x = conv(x, "conv1_7x7_s2", 7, 2, 3);
  x = lrn(g.add("MaxPool", [x], pool(3, 2, 0, true)));
  x = conv(x, "conv2_3x3_reduce", 1);
  x = g.add("MaxPool", [lrn(conv(x, "conv2_3x3", 3, 1, 1))], pool(3, 2, 0, true));
  for (const m of INCEPTION_MODULES) {
    const p = m.name;
    const branches = [
      conv(x, `${p}_1x1`, 1),
      conv(conv(x, `${p}_3x3_reduce`, 1), `${p}_3x3`, 3, 1, 1),
      conv(conv(x, `${p}_5x5_reduce`, 1), `${p}_5x5`, 5, 1, 2),
      conv(g.add("MaxPool", [x], pool(3, 1, 1, true)), `${p}_pool_proj`, 1),
    ];
    x = g.add("Concat", branches, [{ name: "axis", i: 1 }]);
    if (p === "inception_3b" || p === "inception_4e") x = g.add("MaxPool", [x], pool(3, 2, 0, true));
  }
  x = g.add("GlobalAveragePool", [x]);
  const batch = g.add("Gather", [g.add("Shape", [x]), g.constant([], [0])], [{ name: "axis", i: 0 }]);
  const shape = g.add("Concat", [g.unsqueeze(batch, [0]), g.constant([1], [-1])], [{ name: "axis", i: 0 }]);
  x = g.add("Reshape", [x, shape]);
  const w = tensors.get("loss3_classifier.weight")!,
    b = tensors.get("loss3_classifier.bias")!;
  x = g.add(
    "Gemm",
    [x, g.weight("fc.weight", w.shape, w.data), g.weight("fc.bias", b.shape, b.data)],
    [
      { name: "alpha", f: 1 },
      { name: "beta", f: 1 },
      { name: "transB", i: 1 },
    ],
  );
  const prob = g.add("Softmax", [x], [{ name: "axis", i: 1 }]);
  return g.encode("data", prob, ["N", 1000]);
}

/** Options of the torchvision-style GoogLeNet. */
export interface TorchvisionOptions {
  opset: number;
  /** torchvision's transform_input (pretrained weights): ImageNet-normalized input re-normalized per channel. */
  transformInput: boolean;
}

/** torchvision.models.googlenet's eval graph (aux heads unused), seeded weights, ending in logits [N, 1000]. */
export function encodeTorchvisionOnnx(rng: Rng, options: TorchvisionOptions): Uint8Array {
  const g = new GraphBuilder(options.opset);
  let layers = 0;
  const channels = new Map<string, number>([["x", 3]]);
  /** BasicConv2d: Conv (no bias) -> BatchNormalization(eps 0.001) -> Relu. */
  const basic = (x: string, out: number, kernel: number, stride = 1, pad = 0): string => {
    const inC = channels.get(x)!;
    const fanIn = inC * kernel * kernel;
    const bound = Math.sqrt(6 / fanIn);
    const id = `layer${layers++}`;
    const w = g.weight(`${id}.conv.weight`, [out, inC, kernel, kernel], randomArray(rng, out * fanIn, -bound, bound));
    const y = g.add("Conv", [x, w], convAttrs(kernel, stride, pad));
    const bn = ["weight", "bias", "running_mean", "running_var"].map((part, i) =>
      g.weight(
        `${id}.bn.${part}`,
        [out],
        randomArray(
          rng,
          out,
          ...([
            [0.5, 1.5],
            [-0.1, 0.1],
            [-0.1, 0.1],
            [0.5, 1.5],
          ][i] as [number, number]),
        ),
      ),
    );
    const z = g.add(
      "BatchNormalization",
      [y, ...bn],
      [
        { name: "epsilon", f: 0.001 },
        { name: "momentum", f: 0.9 },
      ],
    );
    const r = g.add("Relu", [z]);
    channels.set(r, out);
    return r;
  };
  const maxPool = (x: string, kernel: number, stride: number, pad = 0): string => {
    const y = g.add("MaxPool", [x], pool(kernel, stride, pad, true));
    channels.set(y, channels.get(x)!);
    return y;
  };
  let x = "x";
  if (options.transformInput) {
    // x_ch{c} = unsqueeze(x[:, c], 1) * (std_c / 0.5) + (mean_c - 0.5) / 0.5, then cat along 1.
    const mean = [0.485, 0.456, 0.406],
      std = [0.229, 0.224, 0.225];
    const parts = [0, 1, 2].map((c) => {
      const picked = g.unsqueeze(g.add("Gather", [x, g.constant([], [c])], [{ name: "axis", i: 1 }]), [1]);
      const scaled = g.add("Mul", [picked, g.constant([], [std[c]! / 0.5], true)]);
      return g.add("Add", [scaled, g.constant([], [(mean[c]! - 0.5) / 0.5], true)]);
    });
    x = g.add("Concat", parts, [{ name: "axis", i: 1 }]);
    channels.set(x, 3);
  }
  x = maxPool(basic(x, 64, 7, 2, 3), 3, 2);
  x = maxPool(basic(basic(x, 64, 1), 192, 3, 1, 1), 3, 2);
  for (const m of INCEPTION_MODULES) {
    const branches = [
      basic(x, m.n1x1, 1),
      basic(basic(x, m.n3x3reduce, 1), m.n3x3, 3, 1, 1),
      basic(basic(x, m.n5x5reduce, 1), m.n5x5, 3, 1, 1), // torchvision's "5x5" branch is a 3x3
      basic(maxPool(x, 3, 1, 1), m.poolProj, 1),
    ];
    x = g.add("Concat", branches, [{ name: "axis", i: 1 }]);
    channels.set(
      x,
      branches.reduce((s, b) => s + channels.get(b)!, 0),
    );
    if (m.name === "inception_3b") x = maxPool(x, 3, 2);
    if (m.name === "inception_4e") x = maxPool(x, 2, 2);
  }
  x = g.add("Flatten", [g.add("GlobalAveragePool", [x])], [{ name: "axis", i: 1 }]);
  const bound = 1 / Math.sqrt(1024);
  const w = g.weight("fc.weight", [1000, 1024], randomArray(rng, 1000 * 1024, -bound, bound));
  const b = g.weight("fc.bias", [1000], randomArray(rng, 1000, -bound, bound));
  const logits = g.add("Gemm", [x, w, b], [{ name: "transB", i: 1 }]);
  return g.encode("x", logits, ["N", 1000]);
}
