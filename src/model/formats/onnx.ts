// Reader for GoogLeNet weights in ONNX models: the ONNX model zoo's googlenet-*.onnx (Caffe2
// names such as conv1/7x7_s2_w_0, input data_0, Dropout and Reshape before the classifier,
// max pools padded [0,0,1,1] to reproduce Caffe's rounding) and this library's own export
// (onnxExport.ts). The graph's nodes are matched to GoogLeNet by structure (match.ts); initializer
// names are never trusted. Field numbers are those of onnx.proto (ModelProto, GraphProto,
// NodeProto, AttributeProto, TensorProto). No I/O, no `node:` imports: runs in browsers too.

import { WeightsError } from "../../host/errors.js";
import type { Graph } from "../../host/ir/graph.js";
import { poolOutSize } from "../../host/ir/window.js";
import { elementCount, type TensorMap } from "../../host/ir/tensors.js";
import { joinProblems, matchGraph, type FoundKind, type FoundOp, type FoundTensor } from "./match.js";
import { ProtoMessage, readFloats, WIRE_BYTES } from "./protobuf.js";

/** TensorProto.DataType names, for errors. */
export const DATA_TYPES: Readonly<Record<number, string>> = {
  0: "UNDEFINED",
  1: "FLOAT",
  2: "UINT8",
  3: "INT8",
  4: "UINT16",
  5: "INT16",
  6: "INT32",
  7: "INT64",
  8: "STRING",
  9: "BOOL",
  10: "FLOAT16",
  11: "DOUBLE",
  12: "UINT32",
  13: "UINT64",
  14: "COMPLEX64",
  15: "COMPLEX128",
  16: "BFLOAT16",
};
const FLOAT = 1;
const TENSOR = {
  dims: 1,
  dataType: 2,
  segment: 3,
  floatData: 4,
  name: 8,
  rawData: 9,
  externalData: 13,
  dataLocation: 14,
} as const;

/** Node types that only pass their first input on (at inference). */
const IDENTITY_OPS: ReadonlySet<string> = new Set(["Dropout", "Identity", "Reshape", "Flatten"]);

/** The largest spatial size for which ONNX pooling pads are checked against Caffe's rounding. */
const MAX_CHECKED_SIZE = 1024;

/** An initializer's header; its data is read only when the graph uses it as a weight. */
export interface Initializer {
  name: string;
  dims: number[];
  dataType: number;
  external: boolean;
  segmented: boolean;
  /** The TensorProto bytes (a view into the file) and their file offset. */
  bytes: Uint8Array;
  base: number;
  /** The field holding the values: raw_data (little-endian bytes) or float_data. */
  dataField: number;
}

export interface Attribute {
  i?: number;
  f?: number;
  s?: string;
  ints: number[];
}

export interface OnnxNode {
  name: string;
  type: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, Attribute>;
}

/**
 * A ModelProto's graph message and the opset it imports for the default domain (undefined when it
 * names none). Throws WeightsError for a corrupt file or a model without a graph.
 */
export function readModelHeader(bytes: Uint8Array, file: string): { graph: ProtoMessage; opset: number | undefined } {
  const model = new ProtoMessage(file, bytes, 0, "ModelProto");
  let graph: ProtoMessage | undefined;
  let opset: number | undefined;
  while (model.next()) {
    if (model.field === 7 && model.wire === WIRE_BYTES) {
      graph = model.message("graph");
    } else if (model.field === 8 && model.wire === WIRE_BYTES) {
      const o = model.message("opset_import");
      let domain = "",
        version = 0;
      while (o.next()) {
        if (o.field === 1) domain = o.string();
        else if (o.field === 2) version = o.varint();
        else o.skip();
      }
      if (domain === "" || domain === "ai.onnx") opset = version;
    } else {
      model.skip();
    }
  }
  if (!graph) {
    throw new WeightsError(
      file,
      undefined,
      "not an ONNX model with a graph: expected ModelProto.graph (field 7), found none",
    );
  }
  return { graph, opset };
}

/**
 * The weights of `graph` from an ONNX model (`file` names it in errors), by matching its nodes to
 * the graph: Conv (+ Relu), MaxPool/AveragePool whose pads give Caffe's output sizes for every
 * input size, LRN, Concat, Gemm (transB 0 or 1) or MatMul followed by Add, Softmax; Dropout,
 * Identity, Reshape and Flatten pass their input on. Initializers used as weights must be FLOAT,
 * in raw_data (little-endian) or float_data, stored in the file. Tensor data are views into
 * `bytes` when 4-byte aligned (keep `bytes` unchanged while they are used), else one copy each;
 * the classifier's weights are copied when stored transposed. Throws WeightsError naming the
 * file and the node or tensor for a truncated or corrupt file, a graph that differs from
 * GoogLeNet (the first differing node, expected vs found), or an unusable initializer.
 */
export function decodeOnnxWeights(bytes: Uint8Array, file: string, graph: Graph): TensorMap {
  const { graph: graphMessage, opset } = readModelHeader(bytes, file);

  const nodes: OnnxNode[] = [];
  const initializers = new Map<string, Initializer>();
  const sparse = new Set<string>();
  while (graphMessage.next()) {
    if (graphMessage.field === 1) {
      nodes.push(readNode(graphMessage.message(`node #${nodes.length + 1}`)));
    } else if (graphMessage.field === 5) {
      const init = readInitializer(graphMessage.message(`initializer #${initializers.size + 1}`));
      initializers.set(init.name, init);
    } else if (graphMessage.field === 15) {
      const s = graphMessage.message("sparse_initializer");
      while (s.next())
        if (s.field === 1) sparse.add(readInitializer(s.message("sparse values")).name);
        else s.skip();
    } else {
      graphMessage.skip();
    }
  }
  const weight = (name: string | undefined, transposed = false): FoundTensor | undefined => {
    const init = name ? initializers.get(name) : undefined;
    if (!init) return undefined;
    const where = `initializer "${init.name}"`;
    return {
      where,
      read: (tensor) => {
        const t = readInitializer32(init, file, where, tensor);
        return transposed ? transpose(t, file, where, tensor) : t;
      },
    };
  };
  const ops = toFoundOps(nodes, initializers, sparse, weight);
  return matchGraph(ops, graph, file, `ONNX model${opset !== undefined ? ` (opset ${opset})` : ""}`);
}

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7. */
export function readNode(m: ProtoMessage): OnnxNode {
  const node: OnnxNode = { name: "", type: "", inputs: [], outputs: [], attributes: new Map() };
  let domain = "";
  while (m.next()) {
    switch (m.field) {
      case 1:
        node.inputs.push(m.string());
        break;
      case 2:
        node.outputs.push(m.string());
        break;
      case 3:
        node.name = m.string();
        break;
      case 4:
        node.type = m.string();
        break;
      case 5:
        readAttribute(m.message("attribute"), node.attributes);
        break;
      case 7:
        domain = m.string();
        break;
      default:
        m.skip();
    }
  }
  if (domain !== "" && domain !== "ai.onnx") node.type = `${domain}.${node.type}`;
  node.name ||= node.outputs[0] ?? "";
  return node;
}

/** AttributeProto: name 1, f 2, i 3, s 4, ints 8 (the kinds GoogLeNet's ops use; others are ignored). */
function readAttribute(m: ProtoMessage, into: Map<string, Attribute>): void {
  let name = "";
  const a: Attribute = { ints: [] };
  while (m.next()) {
    switch (m.field) {
      case 1:
        name = m.string();
        break;
      case 2:
        a.f = m.float();
        break;
      case 3:
        a.i = m.varint();
        break;
      case 4:
        a.s = m.string();
        break;
      case 8:
        m.varints(a.ints);
        break;
      default:
        m.skip();
    }
  }
  into.set(name, a);
}

/** TensorProto header: dims 1, data_type 2, segment 3, name 8, raw_data 9, external_data 13, data_location 14. */
export function readInitializer(m: ProtoMessage): Initializer {
  const init: Initializer = {
    name: "",
    dims: [],
    dataType: 0,
    external: false,
    segmented: false,
    bytes: m.bytes,
    base: m.base,
    dataField: TENSOR.floatData,
  };
  while (m.next()) {
    switch (m.field) {
      case TENSOR.dims:
        m.varints(init.dims);
        break;
      case TENSOR.dataType:
        init.dataType = m.varint();
        break;
      case TENSOR.name:
        init.name = m.string();
        break;
      case TENSOR.rawData:
        init.dataField = TENSOR.rawData;
        m.skip();
        break;
      case TENSOR.segment:
        init.segmented = true;
        m.skip();
        break;
      case TENSOR.externalData:
        init.external = true;
        m.skip();
        break;
      case TENSOR.dataLocation:
        if (m.varint() === 1) init.external = true;
        break;
      default:
        m.skip();
    }
  }
  return init;
}

/** An initializer's float32 values; throws WeightsError unless it is a FLOAT tensor stored in the file. */
export function readInitializer32(
  init: Initializer,
  file: string,
  where: string,
  tensor: string,
): { shape: number[]; data: Float32Array } {
  if (init.external) {
    throw new WeightsError(
      file,
      tensor,
      `${where}: expected the values inside the model, found them in an external ` +
        "data file (external_data), which is not supported: save the model with its weights inside",
    );
  }
  if (init.segmented) throw new WeightsError(file, tensor, `${where}: expected a whole tensor, found a segment of one`);
  if (init.dataType !== FLOAT) {
    throw new WeightsError(
      file,
      tensor,
      `${where}: expected data type FLOAT (1), found ` + `${DATA_TYPES[init.dataType] ?? "unknown"} (${init.dataType})`,
    );
  }
  const data = readFloats(init.bytes, init.base, init.dataField, file, where);
  const count = elementCount(init.dims);
  if (data.length !== count) {
    const field = init.dataField === TENSOR.rawData ? "raw_data" : "float_data";
    throw new WeightsError(
      file,
      tensor,
      `${where}: dims [${init.dims.join(",")}] need ${count} values, found ${data.length} in ${field}`,
    );
  }
  return { shape: init.dims, data };
}

/** A 2-D [rows, cols] tensor as [cols, rows] (a copy of the bits). */
function transpose(
  t: { shape: number[]; data: Float32Array },
  file: string,
  where: string,
  tensor: string,
): { shape: number[]; data: Float32Array } {
  if (t.shape.length !== 2) {
    throw new WeightsError(file, tensor, `${where}: expected a 2-D matrix, found shape [${t.shape.join(",")}]`);
  }
  const [rows, cols] = t.shape as [number, number];
  const from = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
  const out = new Uint32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = from[r * cols + c]!;
  return { shape: [cols, rows], data: new Float32Array(out.buffer) };
}

/**
 * The nodes as FoundOps, in order. Data inputs exclude initializers; weights are looked up with
 * `weight` (undefined when the input is not an initializer). A MatMul whose only reader is an
 * Add of an initializer becomes one fc op (the Add is dropped).
 */
function toFoundOps(
  nodes: readonly OnnxNode[],
  initializers: ReadonlyMap<string, Initializer>,
  sparse: ReadonlySet<string>,
  weight: (name: string | undefined, transposed?: boolean) => FoundTensor | undefined,
): FoundOp[] {
  const data = (names: string[]): string[] => names.filter((n) => n !== "" && !initializers.has(n));
  const readers = new Map<string, OnnxNode[]>();
  for (const node of nodes) for (const name of node.inputs) readers.set(name, [...(readers.get(name) ?? []), node]);
  const fusedAdds = new Set<OnnxNode>();
  const ops: FoundOp[] = [];
  for (const node of nodes) {
    if (fusedAdds.has(node)) continue;
    const attr = (name: string): Attribute | undefined => node.attributes.get(name);
    const op: FoundOp = {
      name: node.name,
      type: node.type,
      kind: "other",
      inputs: data(node.inputs),
      outputs: node.outputs,
    };
    const x = data(node.inputs.slice(0, 1)); // the data input of single-input ops
    const stored = (index: number, what: string): string | undefined => {
      const name = node.inputs[index];
      if (!name) return `no ${what} input`;
      if (sparse.has(name)) return `${what} "${name}" is a sparse initializer (not supported)`;
      return initializers.has(name)
        ? undefined
        : `${what} "${name}" is computed by the graph, not stored as an initializer`;
    };
    switch (node.type) {
      case "Conv": {
        const w = initializers.get(node.inputs[1] ?? "");
        const pads = attr("pads")?.ints ?? [0, 0, 0, 0];
        const kernel = attr("kernel_shape")?.ints ?? w?.dims.slice(2) ?? [];
        const strides = attr("strides")?.ints ?? [1, 1];
        ops.push({
          ...op,
          kind: "conv",
          inputs: x,
          units: w?.dims[0],
          kernel: pair(kernel),
          stride: pair(strides),
          pad: pair(pads),
          weight: weight(node.inputs[1]),
          bias: weight(node.inputs[2]),
          problem: joinProblems([
            stored(1, "weight"),
            stored(2, "bias"),
            (attr("group")?.i ?? 1) !== 1 ? `group ${attr("group")!.i} (grouped convolution)` : undefined,
            dilationProblem(attr("dilations")),
            autoPadProblem(attr("auto_pad")),
            pads.length !== 4 || pads[0] !== pads[2] || pads[1] !== pads[3]
              ? `asymmetric pads [${pads.join(",")}]`
              : undefined,
            kernel.length !== 2 ? `a ${kernel.length}-D kernel` : undefined,
          ]),
        });
        break;
      }
      case "MaxPool":
      case "AveragePool":
        ops.push({ ...op, ...poolOp(node), inputs: x });
        break;
      case "LRN":
        ops.push({
          ...op,
          kind: "lrn",
          inputs: x,
          lrn: {
            size: attr("size")?.i ?? 0,
            alpha: attr("alpha")?.f ?? Math.fround(1e-4),
            beta: attr("beta")?.f ?? 0.75,
            k: attr("bias")?.f ?? 1,
          },
        });
        break;
      case "Concat": {
        const axis = attr("axis")?.i;
        ops.push({ ...op, kind: "concat", problem: axis !== 1 ? `axis ${axis ?? "missing"}, not 1` : undefined });
        break;
      }
      case "Relu":
        ops.push({ ...op, kind: "relu", inputs: x });
        break;
      case "Gemm": {
        const transB = (attr("transB")?.i ?? 0) !== 0;
        const b = initializers.get(node.inputs[1] ?? "");
        ops.push({
          ...op,
          kind: "fc",
          inputs: x,
          units: b?.dims[transB ? 0 : 1],
          weight: weight(node.inputs[1], !transB),
          bias: weight(node.inputs[2]),
          problem: joinProblems([
            stored(1, "weight"),
            stored(2, "bias"),
            (attr("transA")?.i ?? 0) !== 0 ? "transA 1" : undefined,
            (attr("alpha")?.f ?? 1) !== 1 || (attr("beta")?.f ?? 1) !== 1 ? "alpha or beta other than 1" : undefined,
          ]),
        });
        break;
      }
      case "MatMul": {
        const next = readers.get(node.outputs[0] ?? "") ?? [];
        const add = next.length === 1 && next[0]!.type === "Add" ? next[0]! : undefined;
        const bias = add?.inputs.find((name) => name !== node.outputs[0] && initializers.has(name));
        if (add && bias) fusedAdds.add(add);
        ops.push({
          ...op,
          kind: "fc",
          inputs: x,
          outputs: add && bias ? add.outputs : node.outputs,
          units: initializers.get(node.inputs[1] ?? "")?.dims[1],
          weight: weight(node.inputs[1], true),
          bias: weight(bias),
          problem: joinProblems([
            stored(1, "weight"),
            bias ? undefined : "no bias: expected an Add of an initializer after it",
          ]),
        });
        break;
      }
      case "Softmax": {
        const axis = attr("axis")?.i;
        ops.push({
          ...op,
          kind: "softmax",
          inputs: x,
          problem: axis === undefined || axis === 1 || axis === -1 ? undefined : `axis ${axis}`,
        });
        break;
      }
      default:
        ops.push(IDENTITY_OPS.has(node.type) ? { ...op, kind: "identity", inputs: x } : op);
    }
  }
  return ops;
}

/**
 * A MaxPool/AveragePool node as a pooling op with Caffe's padding, when its pads and ceil_mode
 * give Caffe's output size (ceil rounding, last window starting inside the image or the begin
 * padding) for every input size up to MAX_CHECKED_SIZE; otherwise with a problem saying where
 * they differ. Max pooling ignores ONNX's padding, as Caffe's clipped windows do; for average
 * pooling the divisor must also be Caffe's (the window clipped to the image plus the begin pad).
 */
function poolOp(node: OnnxNode): Partial<FoundOp> {
  const attr = (name: string): Attribute | undefined => node.attributes.get(name);
  const kernel = attr("kernel_shape")?.ints ?? [];
  const strides = attr("strides")?.ints ?? [1, 1];
  const pads = attr("pads")?.ints ?? [0, 0, 0, 0];
  const ceil = (attr("ceil_mode")?.i ?? 0) !== 0;
  const kind: FoundKind = node.type === "MaxPool" ? "maxPool" : "avgPool";
  const problems = [autoPadProblem(attr("auto_pad")), dilationProblem(attr("dilations"))];
  if (kernel.length !== 2 || strides.length !== 2 || pads.length !== 4) {
    problems.push(`expected 2-D kernel_shape, strides and pads, found [${kernel}], [${strides}], [${pads}]`);
  } else {
    for (const axis of [0, 1]) {
      problems.push(roundingProblem(kernel[axis]!, strides[axis]!, pads[axis]!, pads[axis + 2]!, ceil, pads));
    }
    const countPad = (attr("count_include_pad")?.i ?? 0) !== 0;
    const [top, left, bottom, right] = pads as [number, number, number, number];
    const caffeDivisor =
      top === 0 && left === 0 ? !countPad || (bottom === 0 && right === 0) : countPad && bottom <= top && right <= left;
    if (kind === "avgPool" && !caffeDivisor) {
      problems.push(`count_include_pad ${countPad ? 1 : 0} with pads [${pads.join(",")}] divides unlike Caffe`);
    }
  }
  return { kind, kernel: pair(kernel), stride: pair(strides), pad: pair(pads), problem: joinProblems(problems) };
}

/** Why ONNX pooling along one axis rounds unlike Caffe's pooling with pad `begin`, or undefined when it never does. */
function roundingProblem(
  kernel: number,
  stride: number,
  begin: number,
  end: number,
  ceil: boolean,
  pads: number[],
): string | undefined {
  for (let size = Math.max(1, kernel - 2 * begin); size <= MAX_CHECKED_SIZE; size++) {
    const span = size + begin + end - kernel;
    let onnx = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
    if (ceil && (onnx - 1) * stride >= size + begin) onnx--; // ONNX 19+, onnxruntime: no window starts in the end pad
    const caffe = poolOutSize(size, kernel, stride, begin);
    if (onnx !== caffe) {
      return (
        `pads [${pads.join(",")}] with ceil_mode ${ceil ? 1 : 0} give ${onnx} outputs for a ${size}-pixel ` +
        `input, Caffe's pooling gives ${caffe}`
      );
    }
  }
  return undefined;
}

function dilationProblem(a: Attribute | undefined): string | undefined {
  return a?.ints.some((d) => d !== 1) ? `dilations [${a.ints.join(",")}]` : undefined;
}

function autoPadProblem(a: Attribute | undefined): string | undefined {
  return a?.s === undefined || a.s === "NOTSET" || a.s === "VALID" ? undefined : `auto_pad ${a.s}`;
}

/** The [h, w] of an ONNX spatial attribute (kernel_shape, strides, or pads' begin values). */
function pair(values: readonly number[]): [number, number] | undefined {
  return values.length >= 2 ? [values[0]!, values[1]!] : undefined;
}
