// Export of a graph and its weights as a TFLite flatbuffer (TFLite's schema.fbs, schema version
// 3, file identifier "TFL3"), so LiteRT.js (TFLite + XNNPACK in wasm) runs exactly this network
// on exactly these weights. The buffer is built with the `flatbuffers` package; the few table
// builders below follow the schema's field order by hand (no flatc here).
//
// TFLite is NHWC. Input: graph.input [1, S, S, C] float32, the same values as our CHW tensor
// (BGR minus the mean) in HWC order; outputs the graph's logits and probabilities, [1, classes].
// Op mapping (every tensor keeps the graph's name; helpers add ":pad" / ":flat" tensors):
//   conv    -> CONV_2D, filter OHWI, fused RELU; padding VALID (pad 0), SAME where TFLite's SAME
//              gives Caffe's windows, else an explicit PAD (zeros) then VALID (conv1: 3/3, not SAME's 2/3)
//   maxPool -> MAX_POOL_2D: VALID, SAME (padding ignored, as Caffe's clipped window), else PADV2
//              with -inf then VALID; Caffe's ceil-mode size from caffePoolPads (onnxExport.ts)
//   avgPool -> AVERAGE_POOL_2D: VALID; SAME when unpadded (SAME divides by the in-image taps, as
//              Caffe does with pad 0); a padded pool as PAD (zeros) then VALID when no window passes
//              the padded edge (Caffe's divisor is then k*k); others have no TFLite form
//   lrn     -> LOCAL_RESPONSE_NORMALIZATION, radius (size-1)/2, bias k, alpha alpha/size (Caffe's
//              alpha is divided by the window size, TFLite's is not), beta
//   concat  -> CONCATENATION on axis 3 (channels)
//   fc      -> FULLY_CONNECTED, weights [out][in] with the input flattened in HWC order (columns
//              permuted from our CHW flattening; the same for a 1x1 input)
//   softmax -> SOFTMAX (beta 1) over a [1, N] tensor
// Batch is fixed at 1.

import { Builder, type Offset } from "flatbuffers";
import { ArgumentError } from "../../host/errors.js";
import type { ConvNode, Graph, GraphNode, PoolNode, Shape } from "../../host/ir/graph.js";
import { inferShapes } from "../../host/ir/shapes.js";
import { checkTensors, expectedWeights, type TensorMap } from "../../host/ir/tensors.js";
import { caffePoolPads } from "./onnxExport.js";

/** The TFLite schema version the file declares (Model.version). */
export const TFLITE_SCHEMA_VERSION = 3;
/** The flatbuffer file identifier of TFLite models. */
export const TFLITE_FILE_IDENTIFIER = "TFL3";
/** The signature key of the exported model's one signature. */
export const TFLITE_SIGNATURE = "serving_default";

/** schema.fbs enum TensorType (the members used). */
const TensorType = { FLOAT32: 0, INT32: 2 } as const;
/** schema.fbs enum BuiltinOperator (the members used). */
const Op = {
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  FULLY_CONNECTED: 9,
  LOCAL_RESPONSE_NORMALIZATION: 13,
  MAX_POOL_2D: 17,
  RESHAPE: 22,
  SOFTMAX: 25,
  PAD: 34,
  PADV2: 60,
} as const;
/** schema.fbs union BuiltinOptions: the index of each options table used (0 is NONE). */
const Options = {
  Conv2DOptions: 1,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  ConcatenationOptions: 10,
  LocalResponseNormalizationOptions: 13,
  ReshapeOptions: 17,
  PadOptions: 22,
  PadV2Options: 60,
} as const;
/** schema.fbs enum Padding. */
const Padding = { SAME: 0, VALID: 1 } as const;
/** schema.fbs enum ActivationFunctionType (the members used). */
const Activation = { NONE: 0, RELU: 1 } as const;

/** A tensor of the subgraph; `data` (float32 or int32 values, as raw words) makes it a constant with a buffer of its own. */
interface TfTensor {
  name: string;
  shape: number[];
  type: number;
  data?: Int32Array;
}

/** An operator: its builtin code, tensor indices and options table (written by `options`). */
interface TfOp {
  code: number;
  inputs: number[];
  outputs: number[];
  optionsType: number;
  options: (b: Builder) => Offset;
}

const wordsOf = (a: Float32Array | Int32Array): Int32Array => new Int32Array(a.buffer, a.byteOffset, a.length);

/** TFLite's SAME padding along one axis: the output size and the padding before the first window. */
export function tfliteSamePadding(size: number, kernel: number, stride: number): { out: number; begin: number } {
  const out = Math.ceil(size / stride);
  return { out, begin: Math.floor(Math.max(0, (out - 1) * stride + kernel - size) / 2) };
}

/**
 * Whether TFLite's SAME padding places the windows over an s.h x s.w input as Caffe does: the
 * same padding before the first window (`begin`, [h, w]) and as many windows (`out`, [h, w]).
 */
function sameAsCaffe(
  s: Shape,
  kernel: number,
  stride: number,
  begin: [number, number],
  out: [number, number],
): boolean {
  const h = tfliteSamePadding(s.h, kernel, stride),
    w = tfliteSamePadding(s.w, kernel, stride);
  return h.begin === begin[0] && w.begin === begin[1] && h.out === out[0] && w.out === out[1];
}

/** Throws unless `node` has Caffe's square window (an ONNX-read node's per-axis window, rounding or divisor rule is not mapped). */
function caffeWindowOnly(node: ConvNode | PoolNode): void {
  const onnx =
    node.window !== undefined || (node.op !== "conv" && (node.rounding !== undefined || node.countPad !== undefined));
  if (onnx)
    throw new ArgumentError(
      node.name,
      "window",
      "Caffe's square window (no per-axis window, rounding or countPad)",
      "fields of an ONNX-read node",
    );
}

/** Conv weights OIHW -> OHWI. */
function ohwi(w: Float32Array, [o, i, kh, kw]: number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++)
    for (let c = 0; c < i; c++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((a * kh + y) * kw + x) * i + c] = w[((a * i + c) * kh + y) * kw + x];
  return out;
}

/** FC weights [out][c*h*w] (CHW flattening) -> [out][h*w*c] (HWC flattening). */
function hwcColumns(w: Float32Array, outFeatures: number, s: Shape): Float32Array {
  if (s.h * s.w === 1) return w;
  const n = s.c * s.h * s.w;
  const out = new Float32Array(w.length);
  for (let o = 0; o < outFeatures; o++)
    for (let c = 0; c < s.c; c++)
      for (let p = 0; p < s.h * s.w; p++) out[o * n + p * s.c + c] = w[o * n + c * s.h * s.w + p];
  return out;
}

/** Builds the operator and tensor lists of `graph` in NHWC (see the header). */
class SubgraphWriter {
  readonly tensors: TfTensor[] = [];
  readonly ops: TfOp[] = [];
  /** Graph tensor name -> index of its NHWC (or, once flat, [1, N]) tensor. */
  private readonly index = new Map<string, number>();

  constructor(
    private readonly graph: Graph,
    private readonly shapes: Map<string, Shape>,
    private readonly weights: TensorMap,
  ) {}

  tensor(t: TfTensor): number {
    this.tensors.push(t);
    return this.tensors.length - 1;
  }

  private constant(name: string, shape: number[], data: Float32Array | Int32Array): number {
    const type = data instanceof Int32Array ? TensorType.INT32 : TensorType.FLOAT32;
    return this.tensor({ name, shape, type, data: wordsOf(data) });
  }

  private op(code: number, inputs: number[], outputs: number[], optionsType: number, options: TfOp["options"]): void {
    this.ops.push({ code, inputs, outputs, optionsType, options });
  }

  /** The index of graph tensor `name`, NHWC [1, h, w, c] (a flat [1, c] one is reshaped back when h = w = 1). */
  nhwc(name: string): number {
    const i = this.index.get(name)!;
    if (this.tensors[i].shape.length === 4) return i;
    const s = this.shapes.get(name)!;
    return this.reshape(i, `${name}:nhwc`, [1, s.h, s.w, s.c]);
  }

  /** The index of graph tensor `name` as [1, N] in our CHW order: reshaped when 4D with h = w = 1. */
  flat(name: string, consumer: string): number {
    const i = this.index.get(name)!;
    if (this.tensors[i].shape.length === 2) return i;
    const s = this.shapes.get(name)!;
    if (s.h * s.w !== 1)
      throw new ArgumentError(
        consumer,
        "input",
        "a 1x1 or fully connected tensor (NHWC flattens in another order than CHW)",
        `${name} ${s.c}x${s.h}x${s.w}`,
      );
    return this.reshape(i, `${name}:flat`, [1, s.c]);
  }

  private reshape(input: number, name: string, shape: number[]): number {
    const shapeTensor = this.constant(`${name}/shape`, [shape.length], Int32Array.from(shape));
    const out = this.tensor({ name, shape, type: TensorType.FLOAT32 });
    this.op(Op.RESHAPE, [input, shapeTensor], [out], Options.ReshapeOptions, (b) => reshapeOptions(b, shape));
    return out;
  }

  /** Explicit padding [[top, bottom], [left, right]] of `input` (PAD with zeros, PADV2 with `value`). */
  private pad(input: number, name: string, h: [number, number], w: [number, number], value = 0): number {
    const [n, ih, iw, c] = this.tensors[input].shape;
    const paddings = this.constant(`${name}/paddings`, [4, 2], Int32Array.from([0, 0, ...h, ...w, 0, 0]));
    const out = this.tensor({ name, shape: [n, ih + h[0] + h[1], iw + w[0] + w[1], c], type: TensorType.FLOAT32 });
    if (value === 0) this.op(Op.PAD, [input, paddings], [out], Options.PadOptions, emptyTable);
    else {
      const v = this.constant(`${name}/value`, [], Float32Array.of(value));
      this.op(Op.PADV2, [input, paddings, v], [out], Options.PadV2Options, emptyTable);
    }
    return out;
  }

  private output(node: GraphNode, shape: number[]): number {
    const i = this.tensor({ name: node.output, shape, type: TensorType.FLOAT32 });
    this.index.set(node.output, i);
    return i;
  }

  /** Adds the graph's input tensor, NHWC [1, h, w, c]; returns its index. */
  input(): number {
    const s = this.shapes.get(this.graph.input)!;
    const i = this.tensor({ name: this.graph.input, shape: [1, s.h, s.w, s.c], type: TensorType.FLOAT32 });
    this.index.set(this.graph.input, i);
    return i;
  }

  add(node: GraphNode): void {
    const out = this.shapes.get(node.output)!;
    const outNhwc = [1, out.h, out.w, out.c];
    switch (node.op) {
      case "conv": {
        caffeWindowOnly(node);
        const s = this.shapes.get(node.input)!;
        const { kernel: k, stride, pad: p } = node;
        const wt = this.weights.get(`${node.weights}.weight`)!;
        const filter = this.constant(`${node.weights}.weight`, [node.outChannels, k, k, s.c], ohwi(wt.data, wt.shape));
        const bias = this.constant(
          `${node.weights}.bias`,
          [node.outChannels],
          this.weights.get(`${node.weights}.bias`)!.data,
        );
        let x = this.nhwc(node.input);
        let padding: number = Padding.VALID;
        if (p > 0) {
          // Same windows when SAME starts them at the same place and makes as many (padding is zeros in both).
          if (sameAsCaffe(s, k, stride, [p, p], [out.h, out.w])) padding = Padding.SAME;
          else x = this.pad(x, `${node.name}:pad`, [p, p], [p, p]);
        }
        const activation = node.relu ? Activation.RELU : Activation.NONE;
        this.op(Op.CONV_2D, [x, filter, bias], [this.output(node, outNhwc)], Options.Conv2DOptions, (b) =>
          conv2dOptions(b, padding, stride, activation),
        );
        return;
      }
      case "maxPool":
      case "avgPool":
        this.pool(node, outNhwc);
        return;
      case "lrn": {
        if (node.size % 2 !== 1)
          throw new ArgumentError(
            node.name,
            "size",
            "an odd window (Caffe's rule; TFLite's radius is (size-1)/2)",
            node.size,
          );
        const { size, k, alpha, beta } = node;
        const x = this.nhwc(node.input);
        this.op(
          Op.LOCAL_RESPONSE_NORMALIZATION,
          [x],
          [this.output(node, outNhwc)],
          Options.LocalResponseNormalizationOptions,
          (b) => lrnOptions(b, (size - 1) / 2, k, alpha / size, beta),
        );
        return;
      }
      case "concat": {
        const xs = node.inputs.map((name) => this.nhwc(name));
        this.op(Op.CONCATENATION, xs, [this.output(node, outNhwc)], Options.ConcatenationOptions, (b) =>
          concatOptions(b, 3),
        );
        return;
      }
      case "fc": {
        const s = this.shapes.get(node.input)!;
        const n = s.c * s.h * s.w;
        const wt = this.weights.get(`${node.weights}.weight`)!;
        const filter = this.constant(
          `${node.weights}.weight`,
          [node.outFeatures, n],
          hwcColumns(wt.data, node.outFeatures, s),
        );
        const bias = this.constant(
          `${node.weights}.bias`,
          [node.outFeatures],
          this.weights.get(`${node.weights}.bias`)!.data,
        );
        const x = this.index.get(node.input)!; // FULLY_CONNECTED flattens a 4D input itself (HWC order)
        this.op(
          Op.FULLY_CONNECTED,
          [x, filter, bias],
          [this.output(node, [1, node.outFeatures])],
          Options.FullyConnectedOptions,
          fcOptions,
        );
        return;
      }
      case "softmax": {
        const x = this.flat(node.input, node.name);
        this.op(Op.SOFTMAX, [x], [this.output(node, [1, out.c * out.h * out.w])], Options.SoftmaxOptions, (b) =>
          softmaxOptions(b, 1),
        );
        return;
      }
    }
  }

  private pool(node: PoolNode, outNhwc: number[]): void {
    caffeWindowOnly(node);
    const s = this.shapes.get(node.input)!;
    const { kernel: k, stride, pad: p } = node;
    const h = caffePoolPads(s.h, k, stride, p),
      w = caffePoolPads(s.w, k, stride, p);
    const max = node.op === "maxPool";
    let x = this.nhwc(node.input);
    let padding: number = Padding.VALID;
    if (h[0] + h[1] + w[0] + w[1] > 0) {
      const same = sameAsCaffe(s, k, stride, [h[0], w[0]], [outNhwc[1], outNhwc[2]]);
      if (same && (max || p === 0)) padding = Padding.SAME;
      else if (max) x = this.pad(x, `${node.name}:pad`, h, w, -Infinity);
      else if (h[1] <= p && w[1] <= p) x = this.pad(x, `${node.name}:pad`, h, w);
      else
        throw new ArgumentError(
          node.name,
          "avgPool",
          "windows that end inside the padded input (Caffe's divisor has no TFLite equivalent otherwise)",
          `end padding ${h[1]}x${w[1]} beyond pad ${p}`,
        );
    }
    const code = max ? Op.MAX_POOL_2D : Op.AVERAGE_POOL_2D;
    this.op(code, [x], [this.output(node, outNhwc)], Options.Pool2DOptions, (b) =>
      pool2dOptions(b, padding, stride, k),
    );
  }
}

// Table builders: field slots in schema.fbs order (a union field takes two: its type, then its value).

const emptyTable = (b: Builder): Offset => {
  b.startObject(0);
  return b.endObject();
};

function conv2dOptions(b: Builder, padding: number, stride: number, activation: number): Offset {
  b.startObject(4); // padding, stride_w, stride_h, fused_activation_function
  b.addFieldInt8(0, padding, Padding.SAME);
  b.addFieldInt32(1, stride, 0);
  b.addFieldInt32(2, stride, 0);
  b.addFieldInt8(3, activation, Activation.NONE);
  return b.endObject();
}

function pool2dOptions(b: Builder, padding: number, stride: number, kernel: number): Offset {
  b.startObject(5); // padding, stride_w, stride_h, filter_width, filter_height
  b.addFieldInt8(0, padding, Padding.SAME);
  b.addFieldInt32(1, stride, 0);
  b.addFieldInt32(2, stride, 0);
  b.addFieldInt32(3, kernel, 0);
  b.addFieldInt32(4, kernel, 0);
  return b.endObject();
}

function lrnOptions(b: Builder, radius: number, bias: number, alpha: number, beta: number): Offset {
  b.startObject(4); // radius, bias, alpha, beta
  b.addFieldInt32(0, radius, 0);
  b.addFieldFloat32(1, bias, 0);
  b.addFieldFloat32(2, alpha, 0);
  b.addFieldFloat32(3, beta, 0);
  return b.endObject();
}

function concatOptions(b: Builder, axis: number): Offset {
  b.startObject(1); // axis
  b.addFieldInt32(0, axis, 0);
  return b.endObject();
}

function fcOptions(b: Builder): Offset {
  b.startObject(1); // fused_activation_function: NONE
  return b.endObject();
}

function softmaxOptions(b: Builder, beta: number): Offset {
  b.startObject(1); // beta
  b.addFieldFloat32(0, beta, 0);
  return b.endObject();
}

function reshapeOptions(b: Builder, shape: number[]): Offset {
  const newShape = int32Vector(b, shape);
  b.startObject(1); // new_shape
  b.addFieldOffset(0, newShape, 0);
  return b.endObject();
}

function int32Vector(b: Builder, values: readonly number[]): Offset {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
  return b.endVector();
}

function offsetVector(b: Builder, offsets: readonly Offset[]): Offset {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}

/**
 * A Buffer table; its data vector (4-byte values, little-endian as TFLite's buffers) 16-byte
 * aligned (schema: force_align 16). The builder writes back to front, a word at a time: the
 * vector's start is 16-aligned and its length a multiple of 4, so no word is padded.
 */
function bufferTable(b: Builder, data: Int32Array | undefined): Offset {
  let vector = 0;
  if (data) {
    b.startVector(1, data.byteLength, 16);
    for (let i = data.length - 1; i >= 0; i--) b.addInt32(data[i]);
    vector = b.endVector();
  }
  b.startObject(1); // data
  b.addFieldOffset(0, vector, 0);
  return b.endObject();
}

function tensorTable(b: Builder, t: TfTensor, buffer: number): Offset {
  const name = b.createString(t.name);
  const shape = int32Vector(b, t.shape);
  b.startObject(9); // shape, type, buffer, name, quantization, is_variable, sparsity, shape_signature, has_rank
  b.addFieldOffset(0, shape, 0);
  b.addFieldInt8(1, t.type, TensorType.FLOAT32);
  b.addFieldInt32(2, buffer, 0);
  b.addFieldOffset(3, name, 0);
  b.addFieldInt8(8, 1, 0); // has_rank: true (a scalar's shape [] is rank 0, not unknown)
  return b.endObject();
}

function operatorCodeTable(b: Builder, code: number): Offset {
  b.startObject(4); // deprecated_builtin_code, custom_code, version, builtin_code
  b.addFieldInt8(0, code, 0);
  b.addFieldInt32(2, 1, 1);
  b.addFieldInt32(3, code, 0);
  return b.endObject();
}

function operatorTable(b: Builder, op: TfOp, opcodeIndex: number): Offset {
  const inputs = int32Vector(b, op.inputs);
  const outputs = int32Vector(b, op.outputs);
  const options = op.options(b);
  b.startObject(5); // opcode_index, inputs, outputs, builtin_options_type, builtin_options
  b.addFieldInt32(0, opcodeIndex, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  b.addFieldInt8(3, op.optionsType, 0);
  b.addFieldOffset(4, options, 0);
  return b.endObject();
}

function tensorMapTable(b: Builder, name: string, tensorIndex: number): Offset {
  const n = b.createString(name);
  b.startObject(2); // name, tensor_index
  b.addFieldOffset(0, n, 0);
  b.addFieldInt32(1, tensorIndex, 0);
  return b.endObject();
}

function signatureTable(b: Builder, inputs: [string, number][], outputs: [string, number][]): Offset {
  const ins = offsetVector(
    b,
    inputs.map(([n, i]) => tensorMapTable(b, n, i)),
  );
  const outs = offsetVector(
    b,
    outputs.map(([n, i]) => tensorMapTable(b, n, i)),
  );
  const key = b.createString(TFLITE_SIGNATURE);
  b.startObject(5); // inputs, outputs, signature_key, deprecated_tag, subgraph_index
  b.addFieldOffset(0, ins, 0);
  b.addFieldOffset(1, outs, 0);
  b.addFieldOffset(2, key, 0);
  b.addFieldInt32(4, 0, 0);
  return b.endObject();
}

/**
 * The TFLite model (flatbuffer bytes) of `graph` with `weights` for square inputs of inputSize:
 * input graph.input [1, inputSize, inputSize, channels] (NHWC), outputs the graph's logits and
 * probabilities [1, classes], one signature (TFLITE_SIGNATURE) naming them. Throws WeightsError
 * when a tensor is missing or misshapen, ArgumentError for an inputSize that is not a positive
 * integer or a node TFLite cannot express as Caffe computes it.
 */
export function exportTflite(graph: Graph, weights: TensorMap, inputSize: number): Uint8Array {
  if (!Number.isInteger(inputSize) || inputSize < 1)
    throw new ArgumentError("exportTflite", "inputSize", "a positive integer", inputSize);
  checkTensors(weights, expectedWeights(graph, inputSize, inputSize), "exportTflite weights");
  if (graph.extraInputs?.length)
    throw new ArgumentError("exportTflite", "graph", "one input tensor", `${1 + graph.extraInputs.length} inputs`);
  const shapes = inferShapes(graph, inputSize, inputSize);
  const sg = new SubgraphWriter(graph, shapes, weights);
  const inputIndex = sg.input();
  for (const node of graph.nodes) sg.add(node);
  const outputs: [string, number][] = [graph.logits, graph.probabilities].map((t) => [t, sg.flat(t, "exportTflite")]);

  const dataBytes = sg.tensors.reduce((s, t) => s + (t.data?.byteLength ?? 0) + 32, 0);
  const b = new Builder(dataBytes + (1 << 20));
  // Buffers: 0 is the empty sentinel; each constant has its own.
  const bufferOf: number[] = [];
  const buffers: Offset[] = [bufferTable(b, undefined)];
  for (const t of sg.tensors) {
    bufferOf.push(t.data ? buffers.length : 0);
    if (t.data) buffers.push(bufferTable(b, t.data));
  }
  const codes = [...new Set(sg.ops.map((o) => o.code))];
  const tensors = offsetVector(
    b,
    sg.tensors.map((t, i) => tensorTable(b, t, bufferOf[i])),
  );
  const operators = offsetVector(
    b,
    sg.ops.map((o) => operatorTable(b, o, codes.indexOf(o.code))),
  );
  const subInputs = int32Vector(b, [inputIndex]);
  const subOutputs = int32Vector(
    b,
    outputs.map(([, i]) => i),
  );
  const subName = b.createString("main");
  b.startObject(5); // tensors, inputs, outputs, operators, name
  b.addFieldOffset(0, tensors, 0);
  b.addFieldOffset(1, subInputs, 0);
  b.addFieldOffset(2, subOutputs, 0);
  b.addFieldOffset(3, operators, 0);
  b.addFieldOffset(4, subName, 0);
  const subgraph = b.endObject();

  const operatorCodes = offsetVector(
    b,
    codes.map((c) => operatorCodeTable(b, c)),
  );
  const subgraphs = offsetVector(b, [subgraph]);
  const description = b.createString("inception-wasm GoogLeNet export");
  const bufferVector = offsetVector(b, buffers);
  const signatures = offsetVector(b, [signatureTable(b, [[graph.input, inputIndex]], outputs)]);
  b.startObject(8); // version, operator_codes, subgraphs, description, buffers, metadata_buffer, metadata, signature_defs
  b.addFieldInt32(0, TFLITE_SCHEMA_VERSION, 0);
  b.addFieldOffset(1, operatorCodes, 0);
  b.addFieldOffset(2, subgraphs, 0);
  b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, bufferVector, 0);
  b.addFieldOffset(7, signatures, 0);
  b.finish(b.endObject(), TFLITE_FILE_IDENTIFIER);
  return b.asUint8Array();
}
