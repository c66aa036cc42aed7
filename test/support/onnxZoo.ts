// Test-only encoder of ONNX models laid out like the ONNX model zoo's googlenet-*.onnx (converted
// from Caffe through Caffe2), which cannot be downloaded here: input data_0, Caffe2 names
// (conv1/7x7_s2_w_0, conv1/7x7_s2_b_0, outputs conv1/7x7_s2_1, relu outputs ..._2), unnamed
// nodes, max pools padded [0,0,1,1] for Caffe's rounding, Dropout and Reshape before the
// classifier, Gemm (or MatMul + Add), Softmax into prob_0 or prob_1; for opsets before 9 the
// initializers are also graph inputs (IR version 3), as in the zoo's older files.

import onnxProto from "onnx-proto";
import protobuf from "protobufjs/minimal.js";
import type { TensorMap } from "../../src/host/ir/tensors.js";
import { googlenetGraph } from "../../src/model/network/googlenet.js";

const { onnx } = onnxProto;
const { Writer } = protobuf;

/** An initializer to encode: float values, or raw bytes of another data type. */
export interface InitializerSpec {
  name: string;
  dims: number[];
  /** TensorProto.DataType; default FLOAT (1). */
  dataType?: number;
  data: Float32Array | Uint8Array;
  /**
   * Store the tensor in an external file (data_location EXTERNAL, external_data) instead of writing
   * data: true names "weights.bin"; an object gives the location and optional offset and length.
   */
  external?: boolean | { location: string; offset?: number; length?: number };
}

/** A whole model: nodes (onnx-proto objects) in order, initializers, the input and output (with shapes). */
export interface OnnxModelSpec {
  opset: number;
  nodes: onnxProto.onnx.INodeProto[];
  initializers: InitializerSpec[];
  /** Dims: sizes, or names of symbolic dimensions (a dynamic batch "N"). */
  input: { name: string; dims: (number | string)[] };
  output: { name: string; dims: (number | string)[] };
  /** Float initializers in raw_data (true) or float_data (false). */
  rawData: boolean;
}

const LD = 2,
  VARINT = 0;
const tag = (field: number, wire: number): number => (field << 3) | wire;

/** The IR version the ONNX tools wrote for models of each opset (3 before opset 9). */
function irVersion(opset: number): number {
  return opset < 9 ? 3 : opset === 9 ? 4 : opset === 10 ? 5 : opset === 11 ? 6 : 7;
}

function valueInfo(name: string, dims: (number | string)[]): Uint8Array {
  const shape = { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) };
  const tensorType = { elemType: onnx.TensorProto.DataType.FLOAT, shape };
  return onnx.ValueInfoProto.encode({ name, type: { tensorType } }).finish();
}

/**
 * Serializes a ModelProto. Initializer data are written directly as bytes (float_data packed,
 * which is the same little-endian bytes under field 4, or raw_data, field 9), so large weights
 * are not turned into one JavaScript number per value.
 */
export function encodeOnnxModel(spec: OnnxModelSpec): Uint8Array {
  const w = Writer.create();
  w.uint32(tag(1, VARINT)).int64(irVersion(spec.opset));
  w.uint32(tag(2, LD)).string("onnx-caffe2");
  w.uint32(tag(7, LD)).fork();
  for (const node of spec.nodes) w.uint32(tag(1, LD)).bytes(onnx.NodeProto.encode(node).finish());
  w.uint32(tag(2, LD)).string("googlenet");
  for (const init of spec.initializers) {
    w.uint32(tag(5, LD)).fork();
    w.uint32(tag(1, LD)).fork();
    for (const d of init.dims) w.int64(d);
    w.ldelim();
    const dataType = init.dataType ?? onnx.TensorProto.DataType.FLOAT;
    w.uint32(tag(2, VARINT)).int32(dataType);
    const bytes = new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength);
    const raw = spec.rawData || dataType !== onnx.TensorProto.DataType.FLOAT;
    if (!init.external && !raw) w.uint32(tag(4, LD)).bytes(bytes);
    w.uint32(tag(8, LD)).string(init.name);
    if (!init.external && raw) w.uint32(tag(9, LD)).bytes(bytes);
    if (init.external) {
      const e = init.external === true ? { location: "weights.bin" } : init.external;
      const entries: [string, string | number | undefined][] = [
        ["location", e.location],
        ["offset", e.offset],
        ["length", e.length],
      ];
      for (const [key, value] of entries) {
        if (value === undefined) continue;
        w.uint32(tag(13, LD)).fork().uint32(tag(1, LD)).string(key).uint32(tag(2, LD)).string(String(value)).ldelim();
      }
      w.uint32(tag(14, VARINT)).int32(1);
    }
    w.ldelim();
  }
  w.uint32(tag(11, LD)).bytes(valueInfo(spec.input.name, spec.input.dims));
  if (irVersion(spec.opset) < 4) {
    for (const init of spec.initializers) w.uint32(tag(11, LD)).bytes(valueInfo(init.name, init.dims));
  }
  w.uint32(tag(12, LD)).bytes(valueInfo(spec.output.name, spec.output.dims));
  w.ldelim();
  w.uint32(tag(8, LD)).bytes(onnx.OperatorSetIdProto.encode({ domain: "", version: spec.opset }).finish());
  return w.finish();
}

/** A node attribute: an int, a float, ints, or a tensor (Constant's value). */
export type Attr = { name: string } & (
  | { i: number }
  | { f: number }
  | { ints: number[] }
  | { t: onnxProto.onnx.ITensorProto }
);

/** A NodeProto (unnamed unless `name` is given). */
export function node(
  opType: string,
  input: string[],
  output: string[],
  attrs: Attr[] = [],
  name = "",
): onnxProto.onnx.INodeProto {
  const type = (a: Attr) =>
    "i" in a
      ? onnx.AttributeProto.AttributeType.INT
      : "f" in a
        ? onnx.AttributeProto.AttributeType.FLOAT
        : "t" in a
          ? onnx.AttributeProto.AttributeType.TENSOR
          : onnx.AttributeProto.AttributeType.INTS;
  return { name, opType, input, output, attribute: attrs.map((a) => ({ ...a, type: type(a) })) };
}

/** Options of encodeZooOnnx; `editNodes` and `editInitializer` change the model before it is encoded. */
export interface ZooOnnxOptions {
  opset: number;
  output: "prob_0" | "prob_1";
  rawData: boolean;
  /** The classifier as Gemm(transB 1) (default) or MatMul with the transposed matrix, then Add. */
  classifier?: "Gemm" | "MatMul+Add";
  /** Pads of the stride-2 max pools (default [0,0,1,1], the zoo's). */
  stridePoolPads?: number[];
  editNodes?: (nodes: onnxProto.onnx.INodeProto[]) => onnxProto.onnx.INodeProto[];
  editInitializer?: (init: InitializerSpec) => InitializerSpec;
}

/** GoogLeNet with `tensors` (the graph's names) as its weights, in the model zoo's ONNX layout. */
export function encodeZooOnnx(tensors: TensorMap, options: ZooOnnxOptions): Uint8Array {
  const graph = googlenetGraph();
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const initializers: InitializerSpec[] = [];
  const names = new Map<string, string>([[graph.input, "data_0"]]); // graph tensor -> zoo tensor
  const at = (t: string): string => names.get(t)!;
  for (const n of graph.nodes) {
    switch (n.op) {
      case "conv": {
        const w = tensors.get(`${n.weights}.weight`)!,
          b = tensors.get(`${n.weights}.bias`)!;
        initializers.push(
          { name: `${n.name}_w_0`, dims: w.shape, data: w.data },
          { name: `${n.name}_b_0`, dims: b.shape, data: b.data },
        );
        nodes.push(
          node(
            "Conv",
            [at(n.input), `${n.name}_w_0`, `${n.name}_b_0`],
            [`${n.name}_1`],
            [
              { name: "kernel_shape", ints: [n.kernel, n.kernel] },
              { name: "pads", ints: [n.pad, n.pad, n.pad, n.pad] },
              { name: "strides", ints: [n.stride, n.stride] },
            ],
          ),
          node("Relu", [`${n.name}_1`], [`${n.name}_2`]),
        );
        names.set(n.output, `${n.name}_2`);
        break;
      }
      case "maxPool":
      case "avgPool": {
        const pads = n.stride === 2 ? (options.stridePoolPads ?? [0, 0, 1, 1]) : [n.pad, n.pad, n.pad, n.pad];
        nodes.push(
          node(
            n.op === "maxPool" ? "MaxPool" : "AveragePool",
            [at(n.input)],
            [`${n.name}_1`],
            [
              { name: "kernel_shape", ints: [n.kernel, n.kernel] },
              { name: "pads", ints: pads },
              { name: "strides", ints: [n.stride, n.stride] },
            ],
          ),
        );
        names.set(n.output, `${n.name}_1`);
        break;
      }
      case "lrn":
        nodes.push(
          node(
            "LRN",
            [at(n.input)],
            [`${n.name}_1`],
            [
              { name: "alpha", f: n.alpha },
              { name: "beta", f: n.beta },
              { name: "bias", f: n.k },
              { name: "size", i: n.size },
            ],
          ),
        );
        names.set(n.output, `${n.name}_1`);
        break;
      case "concat":
        nodes.push(node("Concat", n.inputs.map(at), [`${n.name}_1`], [{ name: "axis", i: 1 }]));
        names.set(n.output, `${n.name}_1`);
        break;
      case "fc": {
        const drop = "pool5/drop_7x7_s1";
        nodes.push(
          node(
            "Dropout",
            [at(n.input)],
            [`${drop}_1`, `_${drop}_mask_1`],
            [{ name: "ratio", f: 0.4 }, ...(options.opset < 7 ? [{ name: "is_test", i: 1 }] : [])],
          ),
        );
        if (options.opset < 5) {
          nodes.push(node("Reshape", [`${drop}_1`], ["OC2_DUMMY_0"], [{ name: "shape", ints: [1, 1024] }]));
        } else {
          initializers.push({
            name: "OC2_DUMMY_1",
            dims: [2],
            dataType: onnx.TensorProto.DataType.INT64,
            data: new Uint8Array(BigInt64Array.of(1n, 1024n).buffer),
          });
          nodes.push(node("Reshape", [`${drop}_1`, "OC2_DUMMY_1"], ["OC2_DUMMY_0"]));
        }
        const w = tensors.get(`${n.weights}.weight`)!,
          b = tensors.get(`${n.weights}.bias`)!;
        const [rows, cols] = w.shape as [number, number];
        if (options.classifier === "MatMul+Add") {
          initializers.push(
            { name: `${n.name}_w_0`, dims: [cols, rows], data: transposed(w.data, rows, cols) },
            { name: `${n.name}_b_0`, dims: b.shape, data: b.data },
          );
          nodes.push(
            node("MatMul", ["OC2_DUMMY_0", `${n.name}_w_0`], [`${n.name}_0`]),
            node("Add", [`${n.name}_0`, `${n.name}_b_0`], [`${n.name}_1`]),
          );
        } else {
          initializers.push(
            { name: `${n.name}_w_0`, dims: w.shape, data: w.data },
            { name: `${n.name}_b_0`, dims: b.shape, data: b.data },
          );
          nodes.push(
            node(
              "Gemm",
              ["OC2_DUMMY_0", `${n.name}_w_0`, `${n.name}_b_0`],
              [`${n.name}_1`],
              [{ name: "transB", i: 1 }, ...(options.opset < 7 ? [{ name: "broadcast", i: 1 }] : [])],
            ),
          );
        }
        names.set(n.output, `${n.name}_1`);
        break;
      }
      case "softmax":
        nodes.push(node("Softmax", [at(n.input)], [options.output]));
        break;
    }
  }
  return encodeOnnxModel({
    opset: options.opset,
    nodes: options.editNodes ? options.editNodes(nodes) : nodes,
    rawData: options.rawData,
    initializers: initializers.map((i) => (options.editInitializer ? options.editInitializer(i) : i)),
    input: { name: "data_0", dims: [1, 3, 224, 224] },
    output: { name: options.output, dims: [1, 1000] },
  });
}

function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}
