// Reader for Caffe's binary models (.caffemodel, e.g. the model zoo's bvlc_googlenet.caffemodel):
// a NetParameter protobuf, schema in BVLC caffe src/caffe/proto/caffe.proto. Both layer
// encodings are read: the old V1 `layers` (NetParameter field 2: V1LayerParameter, enum types,
// blobs with legacy num/channels/height/width dims; the zoo file) and the current `layer`
// (field 100: LayerParameter, string types, blobs with a BlobShape). Layers are matched to the
// graph by structure (see match.ts); the training net's data, loss and accuracy layers and the
// auxiliary loss1/loss2 heads (with their own weights) are not part of it and are skipped
// without reading their blobs. No I/O, no `node:` imports: runs in browsers too.

import { WeightsError } from "../../host/errors.js";
import type { Graph } from "../../host/ir/graph.js";
import { elementCount, type TensorMap } from "../../host/ir/tensors.js";
import { joinProblems, matchGraph, type FoundKind, type FoundOp, type FoundTensor } from "./match.js";
import { ProtoMessage, readFloats, WIRE_BYTES } from "./protobuf.js";

/** NetParameter fields: the V1 `layers` and the V2 `layer`. */
const NET_V1_LAYERS = 2;
const NET_V2_LAYER = 100;

/** Field numbers of the layer message in each version (V1LayerParameter, LayerParameter). */
const LAYER_FIELDS = {
  1: { name: 4, type: 5, bottom: 2, top: 3, blobs: 6, concat: 9, conv: 10, fc: 17, lrn: 18, pool: 19, relu: 30 },
  2: { name: 1, type: 2, bottom: 3, top: 4, blobs: 7, concat: 104, conv: 106, fc: 117, lrn: 118, pool: 121, relu: 123 },
} as const;

/** V1LayerParameter.LayerType values and the V2 type string Caffe upgrades each to. */
const V1_TYPES: Readonly<Record<number, string>> = {
  0: "None",
  1: "Accuracy",
  2: "BNLL",
  3: "Concat",
  4: "Convolution",
  5: "Data",
  6: "Dropout",
  7: "EuclideanLoss",
  8: "Flatten",
  9: "HDF5Data",
  10: "HDF5Output",
  11: "Im2col",
  12: "ImageData",
  13: "InfogainLoss",
  14: "InnerProduct",
  15: "LRN",
  16: "MultinomialLogisticLoss",
  17: "Pooling",
  18: "ReLU",
  19: "Sigmoid",
  20: "Softmax",
  21: "SoftmaxWithLoss",
  22: "Split",
  23: "TanH",
  24: "WindowData",
  25: "Eltwise",
  26: "Power",
  27: "SigmoidCrossEntropyLoss",
  28: "HingeLoss",
  29: "MemoryData",
  30: "ArgMax",
  31: "Threshold",
  32: "DummyData",
  33: "Slice",
  34: "MVN",
  35: "AbsVal",
  36: "Silence",
  37: "ContrastiveLoss",
  38: "Exp",
  39: "Deconvolution",
};

/** Layer types that only pass their input on (at inference). */
const IDENTITY_TYPES: ReadonlySet<string> = new Set(["Dropout", "Split", "Flatten"]);

/** BlobProto fields. */
const BLOB = { num: 1, channels: 2, height: 3, width: 4, data: 5, shape: 7, doubleData: 8 } as const;

/** A length-delimited field kept for later: its bytes (a view into the file) and their file offset. */
interface Span {
  bytes: Uint8Array;
  base: number;
}

type Role = "concat" | "conv" | "fc" | "lrn" | "pool" | "relu";

/** One layer as stored: its name, V2 type name, connections, blobs and parameter messages. */
interface CaffeLayer {
  name: string;
  type: string;
  bottoms: string[];
  tops: string[];
  blobs: Span[];
  params: Map<Role, Span>;
}

/**
 * The weights of `graph` from a .caffemodel (`file` names it in errors), by matching its layers
 * to the graph. Tensors are named as the graph expects (`${node.weights}.weight` OIHW / [out, in],
 * `.bias` [n]); a blob stored 4-D with leading 1s (legacy dims, e.g. FC (1,1,1000,1024)) is
 * reshaped. Tensor data are views into `bytes` when 4-byte aligned (keep `bytes` unchanged while
 * they are used), else one copy each. Throws WeightsError naming the file and the layer or tensor
 * for a truncated or corrupt file, a network that differs from the graph (the first differing
 * node, expected vs found), a wrong blob count or a blob of the wrong shape.
 */
export function decodeCaffemodel(bytes: Uint8Array, file: string, graph: Graph): TensorMap {
  const net = new ProtoMessage(file, bytes, 0, "NetParameter");
  const layers: CaffeLayer[] = [];
  const versions = new Set<1 | 2>();
  while (net.next()) {
    if ((net.field !== NET_V1_LAYERS && net.field !== NET_V2_LAYER) || net.wire !== WIRE_BYTES) {
      net.skip();
      continue;
    }
    const version = net.field === NET_V1_LAYERS ? 1 : 2;
    const previous = layers.length > 0 ? ` (after layer "${layers[layers.length - 1]!.name}")` : "";
    layers.push(readLayer(net.message(`layer #${layers.length + 1}${previous}`), version));
    versions.add(version);
  }
  if (versions.size === 2) {
    throw new WeightsError(
      file,
      undefined,
      "corrupt Caffe model: expected V1 `layers` or V2 `layer` fields, found both",
    );
  }
  if (layers.length === 0) {
    throw new WeightsError(
      file,
      undefined,
      "not a Caffe model with weights: expected NetParameter layers " +
        `(field ${NET_V1_LAYERS} or ${NET_V2_LAYER}), found none`,
    );
  }
  return matchGraph(
    layers.map((layer) => toFoundOp(layer, file)),
    graph,
    file,
    "Caffe model",
  );
}

const v1Type = (n: number): string => V1_TYPES[n] ?? `V1 layer type ${n}`;

/** Reads one V1LayerParameter or LayerParameter; blobs and parameter messages are kept unread. */
function readLayer(m: ProtoMessage, version: 1 | 2): CaffeLayer {
  const f = LAYER_FIELDS[version];
  const roles = new Map<number, Role>([
    [f.concat, "concat"],
    [f.conv, "conv"],
    [f.fc, "fc"],
    [f.lrn, "lrn"],
    [f.pool, "pool"],
    [f.relu, "relu"],
  ]);
  const layer: CaffeLayer = { name: "", type: "", bottoms: [], tops: [], blobs: [], params: new Map() };
  const span = (): Span => {
    const bytes = m.payload();
    return { bytes, base: m.offset - bytes.length };
  };
  while (m.next()) {
    const role = roles.get(m.field);
    if (m.field === f.name) layer.name = m.string();
    else if (m.field === f.type) layer.type = version === 1 ? v1Type(m.varint()) : m.string();
    else if (m.field === f.bottom) layer.bottoms.push(m.string());
    else if (m.field === f.top) layer.tops.push(m.string());
    else if (m.field === f.blobs) layer.blobs.push(span());
    else if (role) layer.params.set(role, span());
    else m.skip();
  }
  return layer;
}

/** The layer as a FoundOp: kind, parameters (defaults as in caffe.proto) and weight blobs. */
function toFoundOp(layer: CaffeLayer, file: string): FoundOp {
  const op: FoundOp = { name: layer.name, type: layer.type, kind: "other", inputs: layer.bottoms, outputs: layer.tops };
  const params = (role: Role): ProtoMessage => {
    const span = layer.params.get(role) ?? { bytes: new Uint8Array(0), base: 0 };
    return new ProtoMessage(file, span.bytes, span.base, `layer "${layer.name}" ${role} parameters`);
  };
  switch (layer.type) {
    case "Convolution":
      return withBlobs({ ...op, ...convParams(params("conv")) }, layer, file);
    case "InnerProduct":
      return withBlobs({ ...op, ...fcParams(params("fc")) }, layer, file);
    case "Pooling":
      return { ...op, ...poolParams(params("pool")) };
    case "LRN":
      return { ...op, ...lrnParams(params("lrn")) };
    case "Concat":
      return { ...op, ...concatParams(params("concat")) };
    case "ReLU":
      return { ...op, ...reluParams(params("relu")) };
    case "Softmax":
    case "SoftmaxWithLoss": // the training net's softmax: its first input is the logits
      return { ...op, kind: "softmax", inputs: layer.bottoms.slice(0, 1) };
    default:
      return { ...op, kind: IDENTITY_TYPES.has(layer.type) ? "identity" : "other" };
  }
}

/** Adds the weight and bias blobs of a conv or fc layer, and a problem unless there are exactly 2. */
function withBlobs(op: FoundOp, layer: CaffeLayer, file: string): FoundOp {
  const blob = (index: number): FoundTensor | undefined => {
    const span = layer.blobs[index];
    const where = `layer "${layer.name}" blob ${index}`;
    return span && { where, read: (tensor) => readBlob(span, file, where, tensor) };
  };
  const count = layer.blobs.length === 2 ? [] : [`expected 2 blobs (weights and bias), found ${layer.blobs.length}`];
  return { ...op, weight: blob(0), bias: blob(1), problem: joinProblems([...count, op.problem]) };
}

/** A BlobProto: dims from its BlobShape, else the legacy num/channels/height/width; float data. */
function readBlob(span: Span, file: string, where: string, tensor: string): { shape: number[]; data: Float32Array } {
  const m = new ProtoMessage(file, span.bytes, span.base, where);
  const legacy = [0, 0, 0, 0];
  let shape: number[] | undefined;
  let doubles = false;
  while (m.next()) {
    if (m.field >= BLOB.num && m.field <= BLOB.width) {
      legacy[m.field - BLOB.num] = m.varint();
    } else if (m.field === BLOB.shape) {
      shape = [];
      const s = m.message(`${where} shape`);
      while (s.next())
        if (s.field === 1) s.varints(shape);
        else s.skip();
    } else {
      doubles ||= m.field === BLOB.doubleData;
      m.skip();
    }
  }
  const data = readFloats(span.bytes, span.base, BLOB.data, file, where);
  if (data.length === 0 && doubles) {
    throw new WeightsError(
      file,
      tensor,
      `${where}: expected float data, found double_data (double-precision blobs are not supported)`,
    );
  }
  const dims = shape ?? legacy;
  if (elementCount(dims) !== data.length) {
    throw new WeightsError(
      file,
      tensor,
      `${where}: dims [${dims.join(",")}] need ${elementCount(dims)} values, found ${data.length} (corrupt blob)`,
    );
  }
  return { shape: dims, data };
}

/** [h, w] from Caffe's repeated value (one for both, or h and w) or its _h/_w fields; `fallback` when unset. */
function spatial(
  values: number[],
  h: number | undefined,
  w: number | undefined,
  fallback?: number,
): [number, number] | undefined {
  const hh = h ?? (values.length > 0 ? values[0] : fallback);
  const ww = w ?? (values.length > 0 ? values[values.length - 1] : fallback);
  return hh === undefined || ww === undefined ? undefined : [hh, ww];
}

/** ConvolutionParameter: num_output 1, bias_term 2, pad 3, kernel_size 4, group 5, stride 6, pad_h/w 9/10, kernel_h/w
 * 11/12, stride_h/w 13/14, axis 16, dilation 18. */
function convParams(m: ProtoMessage): Partial<FoundOp> {
  let units: number | undefined,
    bias = true,
    group = 1,
    axis = 1;
  const pad: number[] = [],
    kernel: number[] = [],
    stride: number[] = [],
    dilation: number[] = [];
  const hw = new Map<number, number>();
  while (m.next()) {
    switch (m.field) {
      case 1:
        units = m.varint();
        break;
      case 2:
        bias = m.varint() !== 0;
        break;
      case 3:
        m.varints(pad);
        break;
      case 4:
        m.varints(kernel);
        break;
      case 5:
        group = m.varint();
        break;
      case 6:
        m.varints(stride);
        break;
      case 9:
      case 10:
      case 11:
      case 12:
      case 13:
      case 14:
        hw.set(m.field, m.varint());
        break;
      case 16:
        axis = m.varint();
        break;
      case 18:
        m.varints(dilation);
        break;
      default:
        m.skip();
    }
  }
  return {
    kind: "conv",
    units,
    kernel: spatial(kernel, hw.get(11), hw.get(12)),
    stride: spatial(stride, hw.get(13), hw.get(14), 1),
    pad: spatial(pad, hw.get(9), hw.get(10), 0),
    problem: joinProblems([
      group !== 1 ? `group ${group} (grouped convolution)` : undefined,
      dilation.some((d) => d !== 1) ? `dilation ${dilation.join(",")}` : undefined,
      kernel.length > 2 ? `${kernel.length}-D kernel` : undefined,
      axis !== 1 ? `axis ${axis}` : undefined,
      bias ? undefined : "no bias term (bias_term: false)",
    ]),
  };
}

/** InnerProductParameter: num_output 1, bias_term 2, axis 5, transpose 6. */
function fcParams(m: ProtoMessage): Partial<FoundOp> {
  let units: number | undefined,
    bias = true,
    axis = 1,
    transpose = false;
  while (m.next()) {
    switch (m.field) {
      case 1:
        units = m.varint();
        break;
      case 2:
        bias = m.varint() !== 0;
        break;
      case 5:
        axis = m.varint();
        break;
      case 6:
        transpose = m.varint() !== 0;
        break;
      default:
        m.skip();
    }
  }
  return {
    kind: "fc",
    units,
    problem: joinProblems([
      axis !== 1 ? `axis ${axis}` : undefined,
      transpose ? "transposed weights (transpose: true)" : undefined,
      bias ? undefined : "no bias term (bias_term: false)",
    ]),
  };
}

/** PoolingParameter: pool 1 (MAX 0, AVE 1, STOCHASTIC 2), kernel_size 2, stride 3, pad 4, kernel_h/w 5/6, stride_h/w
 * 7/8, pad_h/w 9/10, global_pooling 12. Caffe's pooling rounds as the graph does (ceil, last window inside). */
function poolParams(m: ProtoMessage): Partial<FoundOp> {
  let method = 0,
    global = false;
  const kernel: number[] = [],
    stride: number[] = [],
    pad: number[] = [];
  const hw = new Map<number, number>();
  while (m.next()) {
    switch (m.field) {
      case 1:
        method = m.varint();
        break;
      case 2:
        m.varints(kernel);
        break;
      case 3:
        m.varints(stride);
        break;
      case 4:
        m.varints(pad);
        break;
      case 5:
      case 6:
      case 7:
      case 8:
      case 9:
      case 10:
        hw.set(m.field, m.varint());
        break;
      case 12:
        global = m.varint() !== 0;
        break;
      default:
        m.skip();
    }
  }
  const kind: FoundKind = method === 0 ? "maxPool" : method === 1 ? "avgPool" : "other";
  return {
    kind,
    kernel: global ? undefined : spatial(kernel, hw.get(5), hw.get(6)),
    stride: spatial(stride, hw.get(7), hw.get(8), 1),
    pad: spatial(pad, hw.get(9), hw.get(10), 0),
    problem: joinProblems([
      kind === "other" ? `pooling method ${method} (stochastic or unknown)` : undefined,
      global ? "global pooling (its window follows the input size)" : undefined,
    ]),
  };
}

/** LRNParameter: local_size 1 (default 5), alpha 2 (1), beta 3 (0.75), norm_region 4 (ACROSS_CHANNELS 0), k 5 (1). */
function lrnParams(m: ProtoMessage): Partial<FoundOp> {
  const lrn = { size: 5, alpha: 1, beta: 0.75, k: 1 };
  let region = 0;
  while (m.next()) {
    switch (m.field) {
      case 1:
        lrn.size = m.varint();
        break;
      case 2:
        lrn.alpha = m.float();
        break;
      case 3:
        lrn.beta = m.float();
        break;
      case 4:
        region = m.varint();
        break;
      case 5:
        lrn.k = m.float();
        break;
      default:
        m.skip();
    }
  }
  const problem = region !== 0 ? "normalization within channels (norm_region WITHIN_CHANNEL)" : undefined;
  return { kind: "lrn", lrn, problem };
}

/** ConcatParameter: concat_dim 1 (deprecated), axis 2; default 1 (channels). */
function concatParams(m: ProtoMessage): Partial<FoundOp> {
  let axis = 1;
  while (m.next())
    if (m.field === 1 || m.field === 2) axis = m.varint();
    else m.skip();
  return { kind: "concat", problem: axis !== 1 ? `concatenation along axis ${axis}, not channels` : undefined };
}

/** ReLUParameter: negative_slope 1 (0: a ReLU; otherwise a leaky ReLU, which the graph does not have). */
function reluParams(m: ProtoMessage): Partial<FoundOp> {
  let slope = 0;
  while (m.next())
    if (m.field === 1) slope = m.float();
    else m.skip();
  return slope === 0 ? { kind: "relu" } : { kind: "other", problem: `leaky ReLU (negative_slope ${slope})` };
}
