// Reader of ONNX models (ModelProto): the graph's nodes, initializers (headers; values read on
// demand, from the file or an external data file beside it), inputs and outputs. The importer
// (onnxImport.ts) turns them into the IR. Field numbers are those of onnx.proto (ModelProto,
// GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto). No I/O, no `node:`
// imports: runs in browsers too.

import { WeightsError } from "../../host/errors.js";
import { elementCount } from "../../host/ir/tensors.js";
import { ProtoMessage, readFloats, WIRE_BYTES, WIRE_VARINT } from "./protobuf.js";

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
  int32Data: 5,
  int64Data: 7,
  name: 8,
  rawData: 9,
  externalData: 13,
  dataLocation: 14,
} as const;

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
  /** The field holding the values: raw_data (little-endian bytes), float_data, int32_data or int64_data. */
  dataField: number;
  /** external_data's entries (location, offset, length) when the values are in another file. */
  externalData: Map<string, string>;
}

/**
 * AttributeProto.AttributeType (AttributeProto.type, field 20) by name, in type order 1 to 14:
 * each type's number and the AttributeProto field that holds its value.
 */
const ATTRIBUTE_TYPES = {
  FLOAT: { type: 1, field: 2 },
  INT: { type: 2, field: 3 },
  STRING: { type: 3, field: 4 },
  TENSOR: { type: 4, field: 5 },
  GRAPH: { type: 5, field: 6 },
  FLOATS: { type: 6, field: 7 },
  INTS: { type: 7, field: 8 },
  STRINGS: { type: 8, field: 9 },
  TENSORS: { type: 9, field: 10 },
  GRAPHS: { type: 10, field: 11 },
  SPARSE_TENSOR: { type: 11, field: 22 },
  SPARSE_TENSORS: { type: 12, field: 23 },
  TYPE_PROTO: { type: 13, field: 14 },
  TYPE_PROTOS: { type: 14, field: 15 },
} as const;
/** An AttributeType's name, e.g. "INTS". */
export type AttributeType = keyof typeof ATTRIBUTE_TYPES;
const TYPE_ENTRIES = Object.entries(ATTRIBUTE_TYPES) as [AttributeType, { type: number; field: number }][];
const TYPE_BY_NUMBER = new Map(TYPE_ENTRIES.map(([name, t]) => [t.type, name]));
const TYPE_BY_FIELD = new Map(TYPE_ENTRIES.map(([name, t]) => [t.field, name]));

export interface Attribute {
  /** The AttributeType, checked against the value field present. */
  type: AttributeType;
  i?: number;
  f?: number;
  s?: string;
  /** A tensor value (Constant's `value`). */
  t?: Initializer;
  ints: number[];
  floats: number[];
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
export function readModelHeader(
  bytes: Uint8Array,
  file: string,
): { graph: ProtoMessage; opset: number | undefined; irVersion: number } {
  const model = new ProtoMessage(file, bytes, 0, "ModelProto");
  let graph: ProtoMessage | undefined;
  let opset: number | undefined;
  let irVersion = 0;
  while (model.next()) {
    if (model.field === 1 && model.wire === WIRE_VARINT) {
      irVersion = model.varint();
    } else if (model.field === 7 && model.wire === WIRE_BYTES) {
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
  return { graph, opset, irVersion };
}

/** A graph input or output: its name and declared dims (a number, a symbolic name, or undefined when unknown). */
export interface ValueInfo {
  name: string;
  /** TensorProto.DataType of a tensor value, when declared. */
  elemType: number | undefined;
  dims: (number | string | undefined)[] | undefined;
}

/** An ONNX model's graph as read: nodes in file order, initializers by name, inputs and outputs. */
export interface OnnxModel {
  /** The default-domain opset the model imports (0 when it names none). */
  opset: number;
  nodes: OnnxNode[];
  initializers: Map<string, Initializer>;
  /** Names of sparse initializers (not supported; named in errors). */
  sparse: Set<string>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

/**
 * Reads an ONNX model's graph (GraphProto: node 1, initializer 5, input 11, output 12,
 * sparse_initializer 15). Tensor values are not read here (see readInitializer32/Ints). Throws
 * WeightsError for a truncated or corrupt file.
 */
export function readOnnxModel(bytes: Uint8Array, file: string): OnnxModel {
  const { graph, opset, irVersion } = readModelHeader(bytes, file);
  const model: OnnxModel = {
    opset: opset ?? 0,
    nodes: [],
    initializers: new Map(),
    sparse: new Set(),
    inputs: [],
    outputs: [],
  };
  while (graph.next()) {
    if (graph.field === 1) {
      model.nodes.push(readNode(graph.message(`node #${model.nodes.length + 1}`), irVersion));
    } else if (graph.field === 5) {
      const init = readInitializer(graph.message(`initializer #${model.initializers.size + 1}`));
      model.initializers.set(init.name, init);
    } else if (graph.field === 11 || graph.field === 12) {
      (graph.field === 11 ? model.inputs : model.outputs).push(readValueInfo(graph.message("value info")));
    } else if (graph.field === 15) {
      const s = graph.message("sparse_initializer");
      while (s.next())
        if (s.field === 1) model.sparse.add(readInitializer(s.message("sparse values")).name);
        else s.skip();
    } else {
      graph.skip();
    }
  }
  return model;
}

/** ValueInfoProto (name 1, type 2) -> TypeProto (tensor_type 1) -> shape 2 -> dim 1 (dim_value 1, dim_param 2). */
function readValueInfo(m: ProtoMessage): ValueInfo {
  const info: ValueInfo = { name: "", elemType: undefined, dims: undefined };
  const within = (message: ProtoMessage, field: number, visit: (inner: ProtoMessage) => void): void => {
    while (message.next()) {
      if (message.field === field && message.wire === WIRE_BYTES) visit(message.message("value info type"));
      else message.skip();
    }
  };
  while (m.next()) {
    if (m.field === 1) info.name = m.string();
    else if (m.field === 2 && m.wire === WIRE_BYTES) {
      within(m.message("value info type"), 1, (tensor) => {
        while (tensor.next()) {
          if (tensor.field === 1 && tensor.wire === WIRE_VARINT) info.elemType = tensor.varint();
          else if (tensor.field === 2 && tensor.wire === WIRE_BYTES) readShape(tensor.message("tensor shape"));
          else tensor.skip();
        }
      });
    } else m.skip();
  }
  return info;

  function readShape(shape: ProtoMessage): void {
    info.dims = [];
    within(shape, 1, (dim) => {
      let d: number | string | undefined;
      while (dim.next()) {
        if (dim.field === 1 && dim.wire === WIRE_VARINT) d = dim.varint();
        else if (dim.field === 2 && dim.wire === WIRE_BYTES) d = dim.string();
        else dim.skip();
      }
      info.dims!.push(d);
    });
  }
}

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7 (`irVersion`: the model's, see readAttribute). */
export function readNode(m: ProtoMessage, irVersion: number): OnnxNode {
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
        readAttribute(m.message(`${m.what} attribute`), node.attributes, irVersion);
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

/**
 * AttributeProto: name 1, type 20, f 2, i 3, s 4, t 5, floats 7, ints 8 (the values the importer
 * reads; the others are only checked against the type). As the ONNX checker: a name, at most one
 * value field, and that of the type, which IR version 2 on must give (before, the value field
 * tells it). No value field is the type's default (0, 0.0, "", empty lists). A name given twice on
 * a node is an error.
 */
function readAttribute(m: ProtoMessage, into: Map<string, Attribute>, irVersion: number): void {
  let name = "";
  let typeNumber: number | undefined;
  const valueFields = new Set<number>();
  const a: Attribute = { type: "FLOAT", ints: [], floats: [] };
  while (m.next()) {
    if (TYPE_BY_FIELD.has(m.field)) valueFields.add(m.field);
    switch (m.field) {
      case 1:
        name = m.string();
        break;
      case 20:
        typeNumber = m.varint();
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
      case 5:
        a.t = readInitializer(m.message("attribute tensor"));
        break;
      case 7:
        if (m.wire === WIRE_BYTES) {
          const run = m.payload("packed floats");
          if (run.length % 4 !== 0) m.fail(`packed floats: expected a multiple of 4 bytes, found ${run.length}`);
          const view = new DataView(run.buffer, run.byteOffset, run.length);
          for (let i = 0; i < run.length; i += 4) a.floats.push(view.getFloat32(i, true));
        } else a.floats.push(m.float());
        break;
      case 8:
        m.varints(a.ints);
        break;
      default:
        m.skip();
    }
  }
  const fail = (message: string): never => {
    throw new WeightsError(m.file, undefined, `${m.what} "${name}" at byte ${m.base}: ${message}`);
  };
  if (name === "") fail("expected a name, found none");
  if (into.has(name)) fail("expected one attribute of this name on the node, found two");
  const type =
    typeNumber !== undefined
      ? TYPE_BY_NUMBER.get(typeNumber)
      : irVersion < 2 && valueFields.size === 1
        ? TYPE_BY_FIELD.get([...valueFields][0]!)
        : undefined;
  if (type === undefined) return fail(`expected a type (AttributeProto.type, 1 to 14), found ${typeNumber ?? "none"}`);
  const field = ATTRIBUTE_TYPES[type].field;
  const stray = [...valueFields].filter((f) => f !== field);
  if (stray.length > 0) fail(`type ${type} expected its value in field ${field}, found field ${stray.join(", ")}`);
  a.type = type;
  if (valueFields.size === 0) {
    if (type === "FLOAT") a.f = 0;
    else if (type === "INT") a.i = 0;
    else if (type === "STRING") a.s = "";
  }
  into.set(name, a);
}

/**
 * TensorProto header: dims 1, data_type 2, segment 3, int32_data 5, int64_data 7, name 8, raw_data 9,
 * external_data 13, data_location 14.
 */
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
    externalData: new Map(),
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
      case TENSOR.int32Data:
      case TENSOR.int64Data:
        init.dataField = m.field;
        m.skip();
        break;
      case TENSOR.externalData: {
        init.external = true;
        const entry = m.message("external_data entry");
        let key = "",
          value = "";
        while (entry.next()) {
          if (entry.field === 1) key = entry.string();
          else if (entry.field === 2) value = entry.string();
          else entry.skip();
        }
        init.externalData.set(key, value);
        break;
      }
      case TENSOR.dataLocation:
        if (m.varint() === 1) init.external = true;
        break;
      default:
        m.skip();
    }
  }
  return init;
}

/**
 * Reads an external data file named by a tensor's `location` (relative to the model's folder,
 * already checked by checkExternalLocation); the Node entry gives one for models read by path.
 */
export type ExternalDataReader = (location: string) => Uint8Array;

/**
 * Checks an external_data location: a relative path inside the model's own folder (no absolute
 * path, drive letter, `..` segment, backslash, NUL or empty name). Throws WeightsError otherwise.
 */
export function checkExternalLocation(location: string, file: string, tensor: string): void {
  const why =
    location === ""
      ? "an empty location"
      : location.includes("\u0000")
        ? "a NUL character"
        : location.startsWith("/") || /^[A-Za-z]:/.test(location)
          ? "an absolute path"
          : location.includes("\\")
            ? "a backslash"
            : location.split("/").some((part) => part === "..")
              ? "a '..' segment (outside the model's folder)"
              : undefined;
  if (why) {
    throw new WeightsError(
      file,
      tensor,
      `external data location ${JSON.stringify(location)}: expected a file inside the model's folder, found ${why}`,
    );
  }
}

/** The little-endian bytes of an external tensor (offset and length from external_data). */
function externalBytes(
  init: Initializer,
  file: string,
  where: string,
  tensor: string,
  read?: ExternalDataReader,
): Uint8Array {
  const location = init.externalData.get("location") ?? "";
  checkExternalLocation(location, file, tensor);
  if (!read) {
    throw new WeightsError(
      file,
      tensor,
      `${where}: expected the values inside the model, found them in an external data file ` +
        `(external_data "${location}"): load the model by path so the file beside it can be read, or save the model with its weights inside`,
    );
  }
  const whole = read(location);
  const number = (key: string, fallback: number): number => {
    const v = init.externalData.get(key);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v))
      throw new WeightsError(file, tensor, `${where}: external_data ${key} expected an integer, found "${v}"`);
    return Number(v);
  };
  const offset = number("offset", 0);
  const length = number("length", whole.length - offset);
  if (offset + length > whole.length) {
    throw new WeightsError(
      file,
      tensor,
      `${where}: external data "${location}" has ${whole.length} bytes, expected ${offset + length} (offset ${offset} + length ${length})`,
    );
  }
  return whole.subarray(offset, offset + length);
}

/**
 * An initializer's float32 values (FLOAT, in raw_data or float_data, or in an external file read
 * with `read`); throws WeightsError otherwise. `where` and `tensor` name it in errors.
 */
export function readInitializer32(
  init: Initializer,
  file: string,
  where: string,
  tensor: string,
  read?: ExternalDataReader,
): { shape: number[]; data: Float32Array } {
  if (init.segmented) throw new WeightsError(file, tensor, `${where}: expected a whole tensor, found a segment of one`);
  if (init.dataType !== FLOAT) {
    throw new WeightsError(
      file,
      tensor,
      `${where}: expected data type FLOAT (1), found ` + `${DATA_TYPES[init.dataType] ?? "unknown"} (${init.dataType})`,
    );
  }
  const count = elementCount(init.dims);
  let data: Float32Array;
  if (init.external) {
    const raw = externalBytes(init, file, where, tensor, read);
    if (raw.length !== 4 * count) {
      throw new WeightsError(
        file,
        tensor,
        `${where}: dims [${init.dims.join(",")}] need ${4 * count} bytes, found ${raw.length} in the external data`,
      );
    }
    data =
      raw.byteOffset % 4 === 0
        ? new Float32Array(raw.buffer, raw.byteOffset, count)
        : new Float32Array(raw.slice().buffer);
  } else {
    data = readFloats(init.bytes, init.base, init.dataField, file, where);
  }
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

/** The most values an integer tensor (shapes, indices) may hold: they are small in every exporter's graphs. */
const MAX_INTEGERS = 1 << 16;

/**
 * An INT64 or INT32 initializer's values (raw_data little-endian, int64_data or int32_data), for
 * constant folding of shapes and indices; throws WeightsError for other types or too many values.
 */
export function readInitializerInts(
  init: Initializer,
  file: string,
  where: string,
): { shape: number[]; data: number[] } {
  const count = elementCount(init.dims);
  if ((init.dataType !== 6 && init.dataType !== 7) || init.external || init.segmented || count > MAX_INTEGERS) {
    throw new WeightsError(
      file,
      init.name,
      `${where}: expected an INT64 or INT32 tensor of at most ${MAX_INTEGERS} values inside the model, found ` +
        `${DATA_TYPES[init.dataType] ?? init.dataType} [${init.dims.join(",")}]${init.external ? " (external)" : ""}`,
    );
  }
  const data: number[] = [];
  const m = new ProtoMessage(file, init.bytes, init.base, where);
  while (m.next()) {
    if (m.field === TENSOR.rawData) {
      const raw = m.payload("raw_data");
      const size = init.dataType === 7 ? 8 : 4;
      if (raw.length !== count * size) m.fail(`raw_data: expected ${count * size} bytes, found ${raw.length}`);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
      for (let i = 0; i < raw.length; i += size) {
        data.push(size === 8 ? Number(view.getBigInt64(i, true)) : view.getInt32(i, true));
      }
    } else if (m.field === TENSOR.int64Data || m.field === TENSOR.int32Data) {
      const before = data.length;
      m.varints(data);
      // int32_data holds sign-extended varints, read as 64-bit: fold them back to 32 bits.
      if (m.field === TENSOR.int32Data) for (let i = before; i < data.length; i++) data[i] = data[i]! | 0;
    } else m.skip();
  }
  if (data.length !== count) {
    throw new WeightsError(
      file,
      init.name,
      `${where}: dims [${init.dims.join(",")}] need ${count} values, found ${data.length}`,
    );
  }
  return { shape: init.dims, data };
}

/**
 * A TensorProto file's tensor (an ONNX test's input_*.pb / output_*.pb): FLOAT values in `data`,
 * INT64/INT32 values in `ints`, else neither.
 */
export function decodeTensorProto(
  bytes: Uint8Array,
  file: string,
): { name: string; dataType: number; shape: number[]; data: Float32Array | undefined; ints: number[] | undefined } {
  const init = readInitializer(new ProtoMessage(file, bytes, 0, "TensorProto"));
  const data = init.dataType === FLOAT ? readInitializer32(init, file, init.name, init.name).data : undefined;
  const integer = init.dataType === 6 || init.dataType === 7;
  const ints = integer ? readInitializerInts(init, file, init.name).data : undefined;
  return { name: init.name, dataType: init.dataType, shape: init.dims, data, ints };
}
