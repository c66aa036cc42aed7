// Test-only encoder of Caffe models (.caffemodel, a NetParameter protobuf) like the model zoo's
// bvlc_googlenet.caffemodel, which cannot be downloaded here: V1 `layers` (enum types, legacy
// 4-D blob dims, the training snapshot's data layer, loss1/loss2 heads with their own weights,
// loss and accuracy layers, and the Split layers Caffe inserts for blobs with several readers)
// or V2 `layer` (string types, BlobShape). Field numbers from BVLC caffe's caffe.proto.

import protobuf from "protobufjs/minimal.js";
import type { Graph } from "../../src/host/ir/graph.js";
import { inferShapes } from "../../src/host/ir/shapes.js";
import type { TensorMap } from "../../src/host/ir/tensors.js";
import { googlenetGraph } from "../../src/model/network/googlenet.js";
import { randomArray, type Rng } from "./rng.js";

const { Writer } = protobuf;
type ProtoWriter = InstanceType<typeof Writer>;

/** One layer to encode. Types are V2 names ("Convolution"); V1 files store them as enums. */
export interface CaffeLayerSpec {
  name: string;
  type: string;
  bottoms: string[];
  tops: string[];
  /** Blobs in their natural shape (conv OIHW, fc [out, in], bias [n]); V1 stores legacy 4-D dims. */
  blobs?: { shape: number[]; data: Float32Array }[];
  conv?: { outputs: number; kernel: number; stride: number; pad: number };
  pool?: { method: "MAX" | "AVE"; kernel: number; stride: number; pad: number };
  lrn?: { size: number; alpha: number; beta: number };
  fc?: { outputs: number };
  dropout?: number;
  lossWeight?: number;
  topK?: number;
  /** A training data layer (include phase TRAIN, LMDB source, mirror and crop). */
  data?: boolean;
}

/** Options of encodeCaffeNet. `unpacked`: names of layers whose blob data use the unpacked float encoding. */
export interface CaffeNetOptions {
  version: 1 | 2;
  unpacked?: readonly string[];
}

/** V1LayerParameter.LayerType of the V2 type names used here. */
const V1_TYPE: Readonly<Record<string, number>> = {
  Accuracy: 1,
  Concat: 3,
  Convolution: 4,
  Data: 5,
  Dropout: 6,
  InnerProduct: 14,
  LRN: 15,
  Pooling: 17,
  ReLU: 18,
  Softmax: 20,
  SoftmaxWithLoss: 21,
  Split: 22,
};

/** Layer field numbers per version (V1LayerParameter, LayerParameter). */
const FIELDS = {
  1: {
    bottom: 2,
    top: 3,
    name: 4,
    type: 5,
    blobs: 6,
    concat: 9,
    conv: 10,
    data: 11,
    dropout: 12,
    fc: 17,
    lrn: 18,
    pool: 19,
    accuracy: 27,
    include: 32,
    lossWeight: 35,
    transform: 36,
  },
  2: {
    name: 1,
    type: 2,
    bottom: 3,
    top: 4,
    lossWeight: 5,
    blobs: 7,
    include: 8,
    transform: 100,
    accuracy: 102,
    concat: 104,
    conv: 106,
    data: 107,
    dropout: 108,
    fc: 117,
    lrn: 118,
    pool: 121,
  },
} as const;

const LD = 2,
  VARINT = 0,
  FIXED32 = 5;
const tag = (field: number, wire: number): number => (field << 3) | wire;

/** A nested message written by `body` as length-delimited field `field`. */
function nested(w: ProtoWriter, field: number, body: (w: ProtoWriter) => void): void {
  w.uint32(tag(field, LD)).fork();
  body(w);
  w.ldelim();
}

/** Serializes a NetParameter named `name` with these layers (V1 `layers` or V2 `layer`). */
export function encodeCaffeNet(name: string, layers: readonly CaffeLayerSpec[], options: CaffeNetOptions): Uint8Array {
  const w = Writer.create();
  w.uint32(tag(1, LD)).string(name);
  const unpacked = new Set(options.unpacked ?? []);
  for (const layer of layers) {
    const field = options.version === 1 ? 2 : 100;
    nested(w, field, (lw) => writeLayer(lw, layer, options.version, unpacked.has(layer.name)));
  }
  return w.finish();
}

/** Writes a layer's fields in field-number order, as Caffe (C++ protobuf) does. */
function writeLayer(w: ProtoWriter, layer: CaffeLayerSpec, version: 1 | 2, unpacked: boolean): void {
  const f = FIELDS[version];
  type Field = [number, (w: ProtoWriter) => void];
  const text = (field: number, value: string): Field => [field, (x) => x.uint32(tag(field, LD)).string(value)];
  const fields: Field[] = [
    text(f.name, layer.name),
    version === 1
      ? [f.type, (x) => x.uint32(tag(f.type, VARINT)).int32(V1_TYPE[layer.type]!)]
      : text(f.type, layer.type),
    ...layer.bottoms.map((b) => text(f.bottom, b)),
    ...layer.tops.map((t) => text(f.top, t)),
    ...(layer.blobs ?? []).map(
      (b): Field => [f.blobs, (x) => nested(x, f.blobs, (bw) => writeBlob(bw, b, version, unpacked))],
    ),
  ];
  const add = (field: number, body: (w: ProtoWriter) => void): void => {
    fields.push([field, (x) => nested(x, field, body)]);
  };
  if (layer.conv) {
    const c = layer.conv;
    add(f.conv, (x) => {
      x.uint32(tag(1, VARINT)).uint32(c.outputs);
      if (c.pad) x.uint32(tag(3, VARINT)).uint32(c.pad);
      x.uint32(tag(4, VARINT)).uint32(c.kernel);
      if (c.stride !== 1) x.uint32(tag(6, VARINT)).uint32(c.stride);
      nested(x, 7, (fw) => fw.uint32(tag(1, LD)).string("xavier").uint32(tag(6, FIXED32)).float(0.03));
      nested(x, 8, (fw) => fw.uint32(tag(1, LD)).string("constant").uint32(tag(2, FIXED32)).float(0.2));
    });
  }
  if (layer.pool) {
    const p = layer.pool;
    add(f.pool, (x) => {
      x.uint32(tag(1, VARINT))
        .uint32(p.method === "MAX" ? 0 : 1)
        .uint32(tag(2, VARINT))
        .uint32(p.kernel)
        .uint32(tag(3, VARINT))
        .uint32(p.stride);
      if (p.pad) x.uint32(tag(4, VARINT)).uint32(p.pad);
    });
  }
  if (layer.lrn) {
    const l = layer.lrn;
    add(f.lrn, (x) =>
      x
        .uint32(tag(1, VARINT))
        .uint32(l.size)
        .uint32(tag(2, FIXED32))
        .float(l.alpha)
        .uint32(tag(3, FIXED32))
        .float(l.beta),
    );
  }
  if (layer.fc) {
    const outputs = layer.fc.outputs;
    add(f.fc, (x) => {
      x.uint32(tag(1, VARINT)).uint32(outputs);
      nested(x, 3, (fw) => fw.uint32(tag(1, LD)).string("xavier"));
      nested(x, 4, (fw) => fw.uint32(tag(1, LD)).string("constant").uint32(tag(2, FIXED32)).float(0));
    });
  }
  if (layer.dropout !== undefined) {
    const ratio = layer.dropout;
    add(f.dropout, (x) => x.uint32(tag(1, FIXED32)).float(ratio));
  }
  if (layer.type === "Concat") add(f.concat, (x) => x.uint32(tag(2, VARINT)).uint32(1));
  if (layer.topK !== undefined) {
    const k = layer.topK;
    add(f.accuracy, (x) => x.uint32(tag(1, VARINT)).uint32(k));
  }
  if (layer.lossWeight !== undefined) {
    const weight = layer.lossWeight;
    fields.push([f.lossWeight, (x) => x.uint32(tag(f.lossWeight, FIXED32)).float(weight)]);
  }
  if (layer.data) {
    add(f.include, (x) => x.uint32(tag(1, VARINT)).uint32(0)); // phase: TRAIN
    add(f.data, (x) =>
      x
        .uint32(tag(1, LD))
        .string("examples/imagenet/ilsvrc12_train_lmdb")
        .uint32(tag(4, VARINT))
        .uint32(32)
        .uint32(tag(8, VARINT))
        .uint32(1),
    );
    add(f.transform, (x) => {
      x.uint32(tag(2, VARINT)).bool(true).uint32(tag(3, VARINT)).uint32(224);
      for (const mean of [104, 117, 123]) x.uint32(tag(5, FIXED32)).float(mean);
    });
  }
  fields.sort((a, b) => a[0] - b[0]); // stable: repeated fields keep their order
  for (const [, write] of fields) write(w);
}

/** A BlobProto: V1 legacy num/channels/height/width (leading 1s), V2 a BlobShape; data packed or not. */
function writeBlob(
  w: ProtoWriter,
  blob: { shape: number[]; data: Float32Array },
  version: 1 | 2,
  unpacked: boolean,
): void {
  if (version === 1) {
    const legacy = [...Array<number>(Math.max(0, 4 - blob.shape.length)).fill(1), ...blob.shape];
    legacy.forEach((d, i) => w.uint32(tag(i + 1, VARINT)).int32(d));
  }
  if (unpacked) {
    for (const v of blob.data) w.uint32(tag(5, FIXED32)).float(v);
  } else {
    w.uint32(tag(5, LD)).bytes(new Uint8Array(blob.data.buffer, blob.data.byteOffset, blob.data.byteLength));
  }
  if (version === 2) {
    nested(w, 7, (sw) => {
      sw.uint32(tag(1, LD)).fork();
      for (const d of blob.shape) sw.int64(d);
      sw.ldelim();
    });
  }
}

/** Options of encodeCaffemodel (see CaffeNetOptions); `edit` changes or drops (undefined) a layer before encoding. */
export interface CaffemodelOptions extends CaffeNetOptions {
  withTrainingLayers: boolean;
  rng: Rng;
  edit?: (layer: CaffeLayerSpec) => CaffeLayerSpec | undefined;
}

/**
 * GoogLeNet as a .caffemodel with `tensors` (the graph's names) as its weights. With training
 * layers it looks like the model zoo's training snapshot: a data layer, the loss1/loss2 heads
 * (weights from `rng`), SoftmaxWithLoss and Accuracy layers, Dropout, and Split layers for every
 * blob read by several layers; without, a deploy net ending in a Softmax "prob".
 */
export function encodeCaffemodel(tensors: TensorMap, options: CaffemodelOptions): Uint8Array {
  const layers = googlenetLayers(googlenetGraph(), tensors, options.withTrainingLayers, options.rng)
    .map((layer) => (options.edit ? options.edit(layer) : layer))
    .filter((layer): layer is CaffeLayerSpec => layer !== undefined);
  return encodeCaffeNet("GoogleNet", options.withTrainingLayers ? withSplits(layers) : layers, options);
}

function googlenetLayers(graph: Graph, tensors: TensorMap, training: boolean, rng: Rng): CaffeLayerSpec[] {
  const shapes = inferShapes(graph, 224, 224);
  const blobs = (weights: string) => [tensors.get(`${weights}.weight`)!, tensors.get(`${weights}.bias`)!];
  const io = (name: string, input: string, output: string) => ({ name, bottoms: [input], tops: [output] });
  const relu = (top: string): CaffeLayerSpec => ({
    ...io(top.replace(/\/([^/]*)$/, "/relu_$1"), top, top),
    type: "ReLU",
  });
  const layers: CaffeLayerSpec[] = [];
  if (training) layers.push({ name: "data", type: "Data", bottoms: [], tops: ["data", "label"], data: true });
  for (const node of graph.nodes) {
    switch (node.op) {
      case "conv": {
        const conv = { outputs: node.outChannels, kernel: node.kernel, stride: node.stride, pad: node.pad };
        layers.push(
          { ...io(node.name, node.input, node.output), type: "Convolution", blobs: blobs(node.weights), conv },
          relu(node.output),
        );
        break;
      }
      case "maxPool":
      case "avgPool": {
        const method = node.op === "maxPool" ? "MAX" : "AVE";
        const pool = { method, kernel: node.kernel, stride: node.stride, pad: node.pad } as const;
        layers.push({ ...io(node.name, node.input, node.output), type: "Pooling", pool });
        if (training && method === "AVE") {
          layers.push({ ...io("pool5/drop_7x7_s1", node.output, node.output), type: "Dropout", dropout: 0.4 });
        }
        break;
      }
      case "lrn":
        layers.push({
          ...io(node.name, node.input, node.output),
          type: "LRN",
          lrn: { size: node.size, alpha: node.alpha, beta: node.beta },
        });
        break;
      case "concat": {
        layers.push({ name: node.name, type: "Concat", bottoms: node.inputs, tops: [node.output] });
        const head = { "inception_4a/output": "loss1", "inception_4d/output": "loss2" }[node.name];
        if (training && head) layers.push(...auxHead(head, node.output, shapes.get(node.output)!.c, rng));
        break;
      }
      case "fc":
        layers.push({
          ...io(node.name, node.input, node.output),
          type: "InnerProduct",
          blobs: blobs(node.weights),
          fc: { outputs: node.outFeatures },
        });
        break;
      case "softmax":
        layers.push(
          ...(training
            ? losses("loss3", node.input, 1)
            : [{ ...io(node.name, node.input, node.output), type: "Softmax" }]),
        );
        break;
    }
  }
  return layers;
}

/** An auxiliary classifier of the training net (average pool 5/3, 1x1 conv 128, fc 1024, fc 1000), random weights. */
function auxHead(p: string, input: string, channels: number, rng: Rng): CaffeLayerSpec[] {
  const random = (shape: number[]) => ({
    shape,
    data: randomArray(
      rng,
      shape.reduce((a, b) => a * b, 1),
      -0.05,
      0.05,
    ),
  });
  const io = (name: string, bottom: string, top = `${p}/${name}`) => ({
    name: `${p}/${name}`,
    bottoms: [bottom],
    tops: [top],
  });
  const layers: CaffeLayerSpec[] = [
    { ...io("ave_pool", input), type: "Pooling", pool: { method: "AVE", kernel: 5, stride: 3, pad: 0 } },
    {
      ...io("conv", `${p}/ave_pool`),
      type: "Convolution",
      blobs: [random([128, channels, 1, 1]), random([128])],
      conv: { outputs: 128, kernel: 1, stride: 1, pad: 0 },
    },
    { ...io("relu_conv", `${p}/conv`, `${p}/conv`), type: "ReLU" },
    {
      ...io("fc", `${p}/conv`),
      type: "InnerProduct",
      blobs: [random([1024, 2048]), random([1024])],
      fc: { outputs: 1024 },
    },
    { ...io("relu_fc", `${p}/fc`, `${p}/fc`), type: "ReLU" },
    { ...io("drop_fc", `${p}/fc`, `${p}/fc`), type: "Dropout", dropout: 0.7 },
    {
      ...io("classifier", `${p}/fc`),
      type: "InnerProduct",
      blobs: [random([1000, 1024]), random([1000])],
      fc: { outputs: 1000 },
    },
    ...losses(p, `${p}/classifier`, 0.3),
  ];
  return layers;
}

/** The training net's SoftmaxWithLoss ("loss1/loss", top "loss1/loss1") and top-1 / top-5 Accuracy layers. */
function losses(p: string, logits: string, weight: number): CaffeLayerSpec[] {
  const n = p.slice("loss".length);
  return [
    {
      name: p === "loss3" ? `${p}/loss3` : `${p}/loss`,
      type: "SoftmaxWithLoss",
      bottoms: [logits, "label"],
      tops: [`${p}/loss${n}`],
      lossWeight: weight,
    },
    { name: `${p}/top-1`, type: "Accuracy", bottoms: [logits, "label"], tops: [`${p}/top-1`] },
    { name: `${p}/top-5`, type: "Accuracy", bottoms: [logits, "label"], tops: [`${p}/top-5`], topK: 5 },
  ];
}

/**
 * Caffe's split insertion (what Net::Init does before a net is saved): every top read by more
 * than one layer gets a Split layer named `<blob>_<producer>_<i>_split` right after its
 * producer, and each reader reads its own split top.
 */
function withSplits(layers: readonly CaffeLayerSpec[]): CaffeLayerSpec[] {
  const latest = new Map<string, string>(); // blob -> "layer index:top index" of its latest producer
  const readers = new Map<string, [number, number][]>(); // producer -> [layer index, bottom index]
  layers.forEach((layer, li) => {
    layer.bottoms.forEach((b, bi) => {
      const producer = latest.get(b);
      if (producer) readers.set(producer, [...(readers.get(producer) ?? []), [li, bi]]);
    });
    layer.tops.forEach((t, ti) => latest.set(t, `${li}:${ti}`));
  });
  const bottoms = layers.map((layer) => [...layer.bottoms]);
  const out: CaffeLayerSpec[] = [];
  layers.forEach((layer, li) => {
    out.push({ ...layer, bottoms: bottoms[li]! });
    layer.tops.forEach((top, ti) => {
      const list = readers.get(`${li}:${ti}`) ?? [];
      if (list.length < 2) return;
      const name = `${top}_${layer.name}_${ti}_split`;
      out.push({ name, type: "Split", bottoms: [top], tops: list.map((_, k) => `${name}_${k}`) });
      list.forEach(([reader, bottom], k) => {
        bottoms[reader]![bottom] = `${name}_${k}`;
      });
    });
  });
  return out;
}
