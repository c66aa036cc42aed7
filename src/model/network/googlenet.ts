// GoogLeNet (Inception v1, BVLC Caffe `bvlc_googlenet` deploy topology) as data, after the
// paper's Table 1, and the op graph built from it. Layer and tensor names are Caffe's
// ("inception_4c/5x5_reduce"); weight tensors use the MAT file stems ("inception_4c_5x5_reduce").

import type { ConvNode, Graph, GraphNode } from "../../host/ir/graph.js";

/** One Inception module's widths, as in the paper's Table 1. */
export interface InceptionWidths {
  name: string;
  n1x1: number;
  n3x3reduce: number;
  n3x3: number;
  n5x5reduce: number;
  n5x5: number;
  poolProj: number;
}

/** The nine Inception modules (Table 1). */
export const INCEPTION_MODULES: readonly InceptionWidths[] = [
  { name: "inception_3a", n1x1: 64, n3x3reduce: 96, n3x3: 128, n5x5reduce: 16, n5x5: 32, poolProj: 32 },
  { name: "inception_3b", n1x1: 128, n3x3reduce: 128, n3x3: 192, n5x5reduce: 32, n5x5: 96, poolProj: 64 },
  { name: "inception_4a", n1x1: 192, n3x3reduce: 96, n3x3: 208, n5x5reduce: 16, n5x5: 48, poolProj: 64 },
  { name: "inception_4b", n1x1: 160, n3x3reduce: 112, n3x3: 224, n5x5reduce: 24, n5x5: 64, poolProj: 64 },
  { name: "inception_4c", n1x1: 128, n3x3reduce: 128, n3x3: 256, n5x5reduce: 24, n5x5: 64, poolProj: 64 },
  { name: "inception_4d", n1x1: 112, n3x3reduce: 144, n3x3: 288, n5x5reduce: 32, n5x5: 64, poolProj: 64 },
  { name: "inception_4e", n1x1: 256, n3x3reduce: 160, n3x3: 320, n5x5reduce: 32, n5x5: 128, poolProj: 128 },
  { name: "inception_5a", n1x1: 256, n3x3reduce: 160, n3x3: 320, n5x5reduce: 32, n5x5: 128, poolProj: 128 },
  { name: "inception_5b", n1x1: 384, n3x3reduce: 192, n3x3: 384, n5x5reduce: 48, n5x5: 128, poolProj: 128 },
];

/** LRN parameters of both norm layers (Caffe: local_size 5, alpha 1e-4, beta 0.75, k 1). */
export const LRN_PARAMS = { size: 5, alpha: 1e-4, beta: 0.75, k: 1 } as const;
/** ImageNet classes. */
export const CLASSES = 1000;
/** The default (and the paper's) input size; any size the network admits works (Caffe's blobs use 227). */
export const DEFAULT_INPUT_SIZE = 224;

function conv(name: string, input: string, outChannels: number, kernel: number, stride = 1, pad = 0): ConvNode {
  return {
    op: "conv",
    name,
    input,
    output: name,
    weights: name.replace(/\//g, "_"),
    outChannels,
    kernel,
    stride,
    pad,
    relu: true,
  };
}

function inception(m: InceptionWidths, input: string): GraphNode[] {
  const p = m.name;
  return [
    conv(`${p}/1x1`, input, m.n1x1, 1),
    conv(`${p}/3x3_reduce`, input, m.n3x3reduce, 1),
    conv(`${p}/3x3`, `${p}/3x3_reduce`, m.n3x3, 3, 1, 1),
    conv(`${p}/5x5_reduce`, input, m.n5x5reduce, 1),
    conv(`${p}/5x5`, `${p}/5x5_reduce`, m.n5x5, 5, 1, 2),
    { op: "maxPool", name: `${p}/pool`, input, output: `${p}/pool`, kernel: 3, stride: 1, pad: 1 },
    conv(`${p}/pool_proj`, `${p}/pool`, m.poolProj, 1),
    {
      op: "concat",
      name: `${p}/output`,
      inputs: [`${p}/1x1`, `${p}/3x3`, `${p}/5x5`, `${p}/pool_proj`],
      output: `${p}/output`,
    },
  ];
}

function maxPool(name: string, input: string): GraphNode {
  return { op: "maxPool", name, input, output: name, kernel: 3, stride: 2, pad: 0 };
}

/** The GoogLeNet graph (main classifier only; dropout is the identity at inference and omitted). */
export function googlenetGraph(): Graph {
  const nodes: GraphNode[] = [
    conv("conv1/7x7_s2", "data", 64, 7, 2, 3),
    maxPool("pool1/3x3_s2", "conv1/7x7_s2"),
    { op: "lrn", name: "pool1/norm1", input: "pool1/3x3_s2", output: "pool1/norm1", ...LRN_PARAMS },
    conv("conv2/3x3_reduce", "pool1/norm1", 64, 1),
    conv("conv2/3x3", "conv2/3x3_reduce", 192, 3, 1, 1),
    { op: "lrn", name: "conv2/norm2", input: "conv2/3x3", output: "conv2/norm2", ...LRN_PARAMS },
    maxPool("pool2/3x3_s2", "conv2/norm2"),
  ];
  let x = "pool2/3x3_s2";
  for (const m of INCEPTION_MODULES) {
    nodes.push(...inception(m, x));
    x = `${m.name}/output`;
    if (m.name === "inception_3b") {
      nodes.push(maxPool("pool3/3x3_s2", x));
      x = "pool3/3x3_s2";
    }
    if (m.name === "inception_4e") {
      nodes.push(maxPool("pool4/3x3_s2", x));
      x = "pool4/3x3_s2";
    }
  }
  nodes.push(
    { op: "avgPool", name: "pool5/7x7_s1", input: x, output: "pool5/7x7_s1", kernel: 7, stride: 1, pad: 0 },
    {
      op: "fc",
      name: "loss3/classifier",
      input: "pool5/7x7_s1",
      output: "loss3/classifier",
      weights: "loss3_classifier",
      outFeatures: CLASSES,
    },
    { op: "softmax", name: "prob", input: "loss3/classifier", output: "prob" },
  );
  return { input: "data", inputChannels: 3, nodes, logits: "loss3/classifier", probabilities: "prob" };
}
