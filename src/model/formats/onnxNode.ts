// ONNX single-node graphs (the ONNX backend node tests: one node, its inputs and outputs as
// TensorProto files) as graphs of this library's IR, so the planner and executor that run
// GoogLeNet run them. No op is implemented here: a node becomes IR nodes, weights and the
// binding of ONNX tensors to the IR's one-image CHW tensors; anything the IR cannot express
// is an UnsupportedOnnxError naming the op, the attribute (or input), expected vs found.
//
// Layout. The IR runs one image (C x H x W, f32) per run. An ONNX tensor is cut into items,
// each one run: [N, C, H, W] (Conv, pooling, LRN) gives N items of C x H x W; Concat takes
// [C] (one item), [N, C], [N, C, L] or [N, C, H, W] (N items of C x 1 x 1, C x 1 x L,
// C x H x W); Softmax's items are the leading dimensions before the softmax axis, each a
// vector of classes (C x 1 x 1); Gemm's items are the rows of A (columns with transA), each
// a vector of K features; Dropout (identity at inference) takes the whole tensor as one item.
//
// Weights. Inputs that are not the data (Conv's W and B, Gemm's B and C) become IR weight
// tensors, whether stored as initializers or given as graph inputs (the tests give them as
// inputs): Conv W as is (OIHW), a missing bias as zeros; Gemm B as [N][K] (transposed unless
// transB) times alpha, C broadcast to [N] times beta (alpha and beta folded into the weights,
// one f32 rounding each; the conformance tolerance counts them).

import { ArgumentError } from "../../host/errors.js";
import type { ConvNode, Graph, GraphNode, PoolNode, Shape, Window2d } from "../../host/ir/graph.js";
import { elementCount, type TensorMap } from "../../host/ir/tensors.js";
import { windowOutSize } from "../../host/ir/window.js";
import {
  readModelHeader,
  DATA_TYPES,
  readInitializer,
  readInitializer32,
  readNode,
  type Attribute,
  type Initializer,
  type OnnxNode,
} from "./onnx.js";
import { ProtoMessage } from "./protobuf.js";

/** An ONNX attribute combination, op or tensor the IR cannot express: the op, what, expected vs found. */
export class UnsupportedOnnxError extends ArgumentError {}

/** A tensor read from a TensorProto (a test's input_*.pb / output_*.pb, or an initializer). */
export interface OnnxTensor {
  name: string;
  /** TensorProto.DataType (1 = FLOAT). */
  dataType: number;
  shape: number[];
  /** The values when FLOAT, else undefined. */
  data: Float32Array | undefined;
}

/** The one node of an ONNX node test's model, its data inputs (graph inputs) and outputs, in order. */
export interface OnnxNodeModel {
  /** The default-domain opset the model imports. */
  opset: number;
  node: OnnxNode;
  /** Graph inputs that are not initializers, in order (input_<i>.pb is the i-th). */
  inputs: string[];
  outputs: string[];
  initializers: Map<string, OnnxTensor>;
}

/**
 * Where one run's values live in an ONNX tensor: item n's element j is at
 * n * itemStride + j * elementStride; `tensor` is the IR tensor of the run.
 */
export interface ItemBinding {
  onnx: string;
  tensor: string;
  itemStride: number;
  elementStride: number;
  elements: number;
}

/** An ONNX node as an IR graph planned for one input size, with its weights and the item bindings. */
export interface OnnxNodeGraph {
  graph: Graph;
  height: number;
  width: number;
  weights: TensorMap;
  /** Runs: each writes every input binding's item, runs the plan and reads the output's item. */
  items: number;
  inputs: ItemBinding[];
  output: ItemBinding;
  /** The ONNX output's shape. */
  outputShape: number[];
}

/** A TensorProto file's tensor (`file` names it in errors); FLOAT data in raw_data or float_data. */
export function decodeTensorProto(bytes: Uint8Array, file: string): OnnxTensor {
  return tensorOf(readInitializer(new ProtoMessage(file, bytes, 0, "TensorProto")), file);
}

function tensorOf(init: Initializer, file: string): OnnxTensor {
  const data = init.dataType === 1 ? readInitializer32(init, file, init.name, init.name).data : undefined;
  return { name: init.name, dataType: init.dataType, shape: init.dims, data };
}

/**
 * Reads an ONNX model of one node. Throws WeightsError for a corrupt file and
 * UnsupportedOnnxError for a graph of more than one node (the test's op expanded into others).
 */
export function readOnnxNodeModel(bytes: Uint8Array, file: string): OnnxNodeModel {
  const header = readModelHeader(bytes, file);
  const graph = header.graph;
  const opset = header.opset ?? 0;
  const nodes: OnnxNode[] = [];
  const initializers = new Map<string, OnnxTensor>();
  const inputs: string[] = [];
  const outputs: string[] = [];
  const valueName = (m: ProtoMessage): string => {
    let name = "";
    while (m.next()) {
      if (m.field === 1) name = m.string();
      else m.skip();
    }
    return name;
  };
  while (graph.next()) {
    if (graph.field === 1) nodes.push(readNode(graph.message(`node #${nodes.length + 1}`)));
    else if (graph.field === 5) {
      const t = tensorOf(readInitializer(graph.message("initializer")), file);
      initializers.set(t.name, t);
    } else if (graph.field === 11) inputs.push(valueName(graph.message("input")));
    else if (graph.field === 12) outputs.push(valueName(graph.message("output")));
    else graph.skip();
  }
  if (nodes.length !== 1) {
    throw new UnsupportedOnnxError(
      "graph",
      "node",
      "one node (a single-node graph of an op GoogLeNet uses)",
      `${nodes.length} nodes (${nodes.map((n) => n.type).join(", ")})`,
    );
  }
  return { opset, node: nodes[0]!, inputs: inputs.filter((n) => !initializers.has(n)), outputs, initializers };
}

/** Opset of the node tests' default Softmax axis change (13: one axis, default -1; before: flatten from axis 1). */
const SOFTMAX_ONE_AXIS_OPSET = 13;

/**
 * The node of `model` as an IR graph. `values` holds every input's tensor by name (the test
 * data set's inputs; initializers are added from the model); their shapes fix the plan's size.
 * Throws UnsupportedOnnxError naming the op and attribute, expected vs found, for what the IR
 * cannot express.
 */
export function mapOnnxNode(model: OnnxNodeModel, values: ReadonlyMap<string, OnnxTensor>): OnnxNodeGraph {
  const { node } = model;
  const op = `${node.type} "${node.name}"`;
  const unsupported = (what: string, expected: string, found: unknown): UnsupportedOnnxError =>
    new UnsupportedOnnxError(op, what, expected, found);
  const value = (name: string | undefined, what: string): OnnxTensor => {
    const t = name ? (values.get(name) ?? model.initializers.get(name)) : undefined;
    if (!t) throw new ArgumentError(op, what, `a value for input "${name}"`, "none");
    if (t.data === undefined) throw unsupported(what, "data type FLOAT", DATA_TYPES[t.dataType] ?? t.dataType);
    return t;
  };
  const attr = (name: string): Attribute | undefined => node.attributes.get(name);
  const onlyOutput = (): string => {
    const extra = node.outputs.slice(1).filter((o) => o !== "");
    if (extra.length > 0) throw unsupported("outputs", "one output", `also ${extra.join(", ")}`);
    return node.outputs[0]!;
  };
  const x = value(node.inputs[0], "input");
  const out = onlyOutput();
  const contiguous = (onnx: string, tensor: string, elements: number): ItemBinding => ({
    onnx,
    tensor,
    itemStride: elements,
    elementStride: 1,
    elements,
  });
  const single = (
    n: GraphNode,
    shape: Shape,
    items: number,
    outElements: number,
    outputShape: number[],
    weights: TensorMap = new Map(),
  ): OnnxNodeGraph => ({
    graph: { input: x.name, inputChannels: shape.c, nodes: [n], logits: out, probabilities: out },
    height: shape.h,
    width: shape.w,
    weights,
    items,
    inputs: [contiguous(x.name, x.name, shape.c * shape.h * shape.w)],
    output: contiguous(out, out, outElements),
    outputShape,
  });
  /** A Conv or pooling node over [N, C, H, W]: N items, `channels` output planes of the window's size. */
  const windowed = (n: ConvNode | PoolNode, channels: number, weights: TensorMap): OnnxNodeGraph => {
    const { n: items, shape } = image4();
    const o = windowOutSize(n, shape.h, shape.w);
    return single(n, shape, items, channels * o.h * o.w, [items, channels, o.h, o.w], weights);
  };
  const image4 = (): { n: number; shape: Shape } => {
    if (x.shape.length !== 4) {
      const spatial = x.shape.length - 2;
      throw unsupported(
        "input",
        "a 4-D [N, C, H, W] tensor (2-D images)",
        `${x.shape.length}-D [${x.shape}] (${spatial}-D)`,
      );
    }
    const [n, c, h, w] = x.shape as [number, number, number, number];
    return { n, shape: { c, h, w } };
  };

  switch (node.type) {
    case "Conv": {
      const { shape } = image4();
      const w = value(node.inputs[1], "W");
      const [m, perGroup, kh, kw] = w.shape as [number, number, number, number];
      const group = attr("group")?.i ?? 1;
      if (group !== 1) throw unsupported("group", "1 (no grouped convolution)", group);
      if (w.shape.length !== 4 || perGroup !== shape.c)
        throw unsupported("W", `[M, ${shape.c}, kH, kW]`, `[${w.shape}]`);
      checkDilations(attr("dilations"), unsupported);
      const kernel = attr("kernel_shape")?.ints ?? [kh, kw];
      if (kernel[0] !== kh || kernel[1] !== kw) throw unsupported("kernel_shape", `[${kh},${kw}] (W's)`, `[${kernel}]`);
      const window = resolveWindow(attr, [kh, kw], shape, unsupported);
      const b = node.inputs[2] ? value(node.inputs[2], "B").data! : new Float32Array(m);
      const weights: TensorMap = new Map([
        ["W.weight", { shape: w.shape, data: w.data! }],
        ["W.bias", { shape: [m], data: b }],
      ]);
      const conv: ConvNode = {
        op: "conv",
        name: node.name,
        input: x.name,
        output: out,
        weights: "W",
        outChannels: m,
        kernel: kh,
        stride: window.stride[0],
        pad: window.pads[0],
        relu: false,
        window,
      };
      return windowed(conv, m, weights);
    }
    case "MaxPool":
    case "AveragePool":
    case "GlobalAveragePool": {
      const { shape } = image4();
      const global = node.type === "GlobalAveragePool";
      let window: Window2d;
      let rounding: "floor" | "ceil" = "floor";
      if (global) {
        window = { kernel: [shape.h, shape.w], stride: [1, 1], pads: [0, 0, 0, 0] };
      } else {
        const kernel = attr("kernel_shape")?.ints ?? [];
        if (kernel.length !== 2) throw unsupported("kernel_shape", "2 values (a 2-D window)", `[${kernel}]`);
        checkDilations(attr("dilations"), unsupported);
        if ((attr("storage_order")?.i ?? 0) !== 0) throw unsupported("storage_order", "0", attr("storage_order")!.i);
        window = resolveWindow(attr, kernel as [number, number], shape, unsupported);
        if ((attr("ceil_mode")?.i ?? 0) !== 0) rounding = "ceil";
      }
      const pool: PoolNode = {
        op: node.type === "MaxPool" ? "maxPool" : "avgPool",
        name: node.name,
        input: x.name,
        output: out,
        kernel: window.kernel[0],
        stride: window.stride[0],
        pad: window.pads[0],
        window,
        rounding,
        ...(node.type === "MaxPool" ? {} : { countPad: !global && (attr("count_include_pad")?.i ?? 0) !== 0 }),
      };
      return windowed(pool, shape.c, new Map());
    }
    case "LRN": {
      const { n, shape } = image4();
      const size = attr("size")?.i;
      if (size === undefined) throw unsupported("size", "an odd or even positive integer", "none");
      const lrn: GraphNode = {
        op: "lrn",
        name: node.name,
        input: x.name,
        output: out,
        size,
        alpha: attr("alpha")?.f ?? Math.fround(1e-4),
        beta: attr("beta")?.f ?? 0.75,
        k: attr("bias")?.f ?? 1,
      };
      const e = elementCount(x.shape) / n;
      return single(lrn, shape, n, e, x.shape);
    }
    case "Concat": {
      const parts = node.inputs.map((name, i) => value(name, `inputs[${i}]`));
      const rank = x.shape.length;
      const axis = attr("axis")?.i;
      const channelAxis = rank === 1 ? 0 : 1;
      if (axis === undefined || (axis < 0 ? axis + rank : axis) !== channelAxis) {
        throw unsupported("axis", `${channelAxis} (the channel axis of [${rank === 1 ? "C" : "N, C, ..."}])`, axis);
      }
      if (rank > 4) throw unsupported("inputs", "tensors of rank 1 to 4", `rank ${rank}`);
      const imageOf = (t: OnnxTensor): Shape => {
        const d = rank === 1 ? [1, ...t.shape] : t.shape;
        return rank === 4 ? { c: d[1]!, h: d[2]!, w: d[3]! } : { c: d[1]!, h: 1, w: rank === 3 ? d[2]! : 1 };
      };
      const shapes = parts.map(imageOf);
      const items = rank === 1 ? 1 : x.shape[0]!;
      const channels = shapes.reduce((s, p) => s + p.c, 0);
      const plane = shapes[0]!.h * shapes[0]!.w;
      const concat: GraphNode = { op: "concat", name: node.name, inputs: parts.map((p) => p.name), output: out };
      const outputShape = [...x.shape];
      outputShape[channelAxis] = channels;
      return {
        graph: {
          input: x.name,
          inputChannels: shapes[0]!.c,
          extraInputs: parts.slice(1).map((p, i) => ({ name: p.name, shape: shapes[i + 1]! })),
          nodes: [concat],
          logits: out,
          probabilities: out,
        },
        height: shapes[0]!.h,
        width: shapes[0]!.w,
        weights: new Map(),
        items,
        inputs: parts.map((p, i) => contiguous(p.name, p.name, shapes[i]!.c * plane)),
        output: contiguous(out, out, channels * plane),
        outputShape,
      };
    }
    case "Softmax": {
      const rank = x.shape.length;
      const oneAxis = model.opset >= SOFTMAX_ONE_AXIS_OPSET;
      const given = attr("axis")?.i ?? (oneAxis ? -1 : 1);
      const axis = given < 0 ? given + rank : given;
      const trailing = x.shape.slice(axis + 1);
      if (oneAxis && trailing.some((d) => d !== 1)) {
        throw unsupported(
          "axis",
          `the last axis of [${x.shape}] (or one followed only by 1s): the IR's softmax normalises an item's values together`,
          `${given} (the ${trailing.join("x")} positions after it are normalised separately)`,
        );
      }
      const classes = elementCount(x.shape.slice(axis));
      const items = elementCount(x.shape.slice(0, axis));
      const softmax: GraphNode = { op: "softmax", name: node.name, input: x.name, output: out };
      return single(softmax, { c: classes, h: 1, w: 1 }, items, classes, x.shape);
    }
    case "Gemm": {
      const b = value(node.inputs[1], "B");
      if (x.shape.length !== 2 || b.shape.length !== 2) {
        throw unsupported("inputs", "2-D A and B", `A [${x.shape}], B [${b.shape}]`);
      }
      const transA = (attr("transA")?.i ?? 0) !== 0;
      const transB = (attr("transB")?.i ?? 0) !== 0;
      const [rows, k] = (transA ? [x.shape[1], x.shape[0]] : x.shape) as [number, number];
      const n = b.shape[transB ? 0 : 1]!;
      const alpha = attr("alpha")?.f ?? 1;
      const beta = attr("beta")?.f ?? 1;
      const weight = new Float32Array(n * k);
      for (let o = 0; o < n; o++) {
        for (let i = 0; i < k; i++) weight[o * k + i] = alpha * b.data![transB ? o * k + i : i * n + o]!;
      }
      const bias = new Float32Array(n);
      if (node.inputs[2]) {
        const c = value(node.inputs[2], "C");
        const count = elementCount(c.shape);
        const rowBias = (count === 1 || count === n) && c.shape.slice(0, -1).every((d) => d === 1);
        if (!rowBias) {
          throw unsupported("C", `a bias shared by every row: [], [1], [${n}] or [1, ${n}]`, `[${c.shape}]`);
        }
        for (let o = 0; o < n; o++) bias[o] = beta * c.data![count === 1 ? 0 : o]!;
      }
      const fc: GraphNode = { op: "fc", name: node.name, input: x.name, output: out, weights: "B", outFeatures: n };
      const weights: TensorMap = new Map([
        ["B.weight", { shape: [n, k], data: weight }],
        ["B.bias", { shape: [n], data: bias }],
      ]);
      const g = single(fc, { c: k, h: 1, w: 1 }, rows, n, [rows, n], weights);
      const a = transA ? { itemStride: 1, elementStride: rows } : { itemStride: k, elementStride: 1 };
      return { ...g, inputs: [{ onnx: x.name, tensor: x.name, elements: k, ...a }] };
    }
    case "Dropout": {
      const training = node.inputs[2];
      if (training) throw unsupported("training_mode", "absent (inference: identity)", `input "${training}"`);
      const e = elementCount(x.shape);
      return {
        graph: { input: x.name, inputChannels: e, nodes: [], logits: x.name, probabilities: x.name },
        height: 1,
        width: 1,
        weights: new Map(),
        items: 1,
        inputs: [contiguous(x.name, x.name, e)],
        output: contiguous(out, x.name, e),
        outputShape: x.shape,
      };
    }
    case "Relu":
      throw unsupported(
        "op",
        "a Relu that follows a Conv (the IR has ReLU only fused into the convolution before it)",
        "a Relu of the graph input",
      );
    default:
      throw unsupported(
        "op",
        "Conv, MaxPool, AveragePool, GlobalAveragePool, LRN, Concat, Softmax, Gemm or Dropout",
        node.type,
      );
  }
}

function checkDilations(
  a: Attribute | undefined,
  unsupported: (what: string, expected: string, found: unknown) => UnsupportedOnnxError,
): void {
  if (a?.ints.some((d) => d !== 1)) throw unsupported("dilations", "all 1 (no dilation)", `[${a.ints}]`);
}

/**
 * The per-axis window of a Conv or pooling node over an image of `shape`: strides, and pads
 * from `pads` (auto_pad NOTSET), zeros (VALID) or SAME_UPPER/SAME_LOWER resolved for this
 * input size (output ceil(size / stride); the odd pixel of padding after, resp. before).
 */
function resolveWindow(
  attr: (name: string) => Attribute | undefined,
  kernel: [number, number],
  shape: Shape,
  unsupported: (what: string, expected: string, found: unknown) => UnsupportedOnnxError,
): Window2d {
  const stride = (attr("strides")?.ints ?? [1, 1]) as [number, number];
  if (stride.length !== 2) throw unsupported("strides", "2 values", `[${stride}]`);
  const autoPad = attr("auto_pad")?.s ?? "NOTSET";
  if (autoPad === "NOTSET") {
    const pads = (attr("pads")?.ints ?? [0, 0, 0, 0]) as [number, number, number, number];
    if (pads.length !== 4) throw unsupported("pads", "4 values [top, left, bottom, right]", `[${pads}]`);
    return { kernel, stride, pads };
  }
  if (autoPad === "VALID") return { kernel, stride, pads: [0, 0, 0, 0] };
  if (autoPad !== "SAME_UPPER" && autoPad !== "SAME_LOWER") {
    throw unsupported("auto_pad", "NOTSET, VALID, SAME_UPPER or SAME_LOWER", autoPad);
  }
  const sizes = [shape.h, shape.w];
  const total = sizes.map((size, a) =>
    Math.max(0, (Math.ceil(size / stride[a]!) - 1) * stride[a]! + kernel[a]! - size),
  );
  const before = total.map((t) => (autoPad === "SAME_UPPER" ? Math.floor(t / 2) : Math.ceil(t / 2)));
  return { kernel, stride, pads: [before[0]!, before[1]!, total[0]! - before[0]!, total[1]! - before[1]!] };
}
