// One entry point for every weight file the library reads, whatever its name: the format is
// told from the content. IWNET by its magic; ONNX (ModelProto) and Caffe (NetParameter) models
// from their top-level protobuf fields, which differ in number and wire type; pages and text
// saved under a model's name (a failed download, an HTML error page, a Git LFS pointer, a
// prototxt) are named as such. No I/O, no `node:` imports: runs in browsers too.

import { WeightsError } from "../../host/errors.js";
import { hex } from "../../host/digest.js";
import type { Graph } from "../../host/ir/graph.js";
import { checkTensors, expectedWeights, type TensorMap } from "../../host/ir/tensors.js";
import { DEFAULT_INPUT_SIZE } from "../network/googlenet.js";
import { decodeCaffemodel } from "./caffemodel.js";
import { decodeWeightFile, hasIwnetMagic } from "./iwnet.js";
import type { ExternalDataReader } from "./onnx.js";
import { decodeOnnxWeights } from "./onnxImport.js";
import { ProtoMessage, WIRE_BYTES, WIRE_VARINT } from "./protobuf.js";

/** The weight file formats decodeWeights reads. */
export type WeightFormat = "iwnet" | "onnx" | "caffemodel";

const FORMATS_TRIED =
  `an IWNET file (magic "IWNET\\0\\r\\n"), an ONNX model (ModelProto protobuf) or a Caffe model ` +
  "(.caffemodel, NetParameter protobuf)";

/** Bytes looked at to tell text from binary. */
const SNIFF_BYTES = 1024;

/**
 * The format of a weight file, from its content (`file` only names it in errors). Throws
 * WeightsError for an HTML page (e.g. a failed download saved under the model's name), other
 * text, an empty file, or content that is none of the formats (listing those tried).
 */
export function detectWeightFormat(bytes: Uint8Array, file: string): WeightFormat {
  if (bytes.length === 0) throw new WeightsError(file, undefined, `empty file: expected ${FORMATS_TRIED}`);
  const head = latin1(bytes.subarray(0, SNIFF_BYTES));
  if (hasIwnetMagic(bytes)) return "iwnet";
  const text = head.replace(/^\xEF\xBB\xBF/, "").trimStart();
  const isText = !/[\x00-\x08\x0e-\x1f\x7f]/.test(head); // no control characters but tab, newlines, form feed
  if (/^<(!doctype html|html|head|body)[\s>]/i.test(text) || (isText && /<html[\s>]/i.test(text))) {
    const title = /<title[^>]*>([^<]*)/i.exec(text)?.[1]?.trim();
    throw new WeightsError(
      file,
      undefined,
      `expected a weight file, found an HTML page` +
        `${title ? ` titled "${title}"` : ""} (a failed or redirected download saved under the model's name?)`,
    );
  }
  const protobuf = protobufKind(bytes, file);
  if (protobuf) return protobuf;
  if (isText) {
    const lfs = text.startsWith("version https://git-lfs")
      ? " (a Git LFS pointer: the real file was not downloaded)"
      : "";
    throw new WeightsError(
      file,
      undefined,
      `expected a weight file, found text starting ${JSON.stringify(text.split(/\r?\n/)[0]!.slice(0, 80))}${lfs}`,
    );
  }
  throw new WeightsError(
    file,
    undefined,
    `unrecognized weight file (${bytes.length} bytes, starting ${hex(bytes.subarray(0, 8))}): ` +
      `expected ${FORMATS_TRIED}`,
  );
}

/**
 * Reads any supported weight file (see detectWeightFormat) and checks that it has every tensor
 * of `graph` with the graph's shape. Caffe and ONNX models are matched to the graph by structure
 * (see caffemodel.ts, onnxImport.ts); an ONNX model's external data files are read with
 * `readExternal` (absent: an error naming them). Tensors may be views into `bytes`. Throws WeightsError naming
 * `file`, and the tensor or layer, for anything unreadable, foreign or incomplete.
 */
export async function decodeWeights(
  bytes: Uint8Array,
  file: string,
  graph: Graph,
  readExternal?: ExternalDataReader,
): Promise<TensorMap> {
  const format = detectWeightFormat(bytes, file);
  const tensors =
    format === "iwnet"
      ? await decodeWeightFile(bytes, file)
      : format === "onnx"
        ? decodeOnnxWeights(bytes, file, graph, readExternal)
        : decodeCaffemodel(bytes, file, graph);
  checkTensors(tensors, expectedWeights(graph, DEFAULT_INPUT_SIZE, DEFAULT_INPUT_SIZE), file);
  return tensors;
}

/**
 * "onnx" or "caffemodel" when the top-level fields read as a ModelProto or a NetParameter, else
 * undefined. Fields telling them apart: ONNX ir_version (1, varint), graph (7, bytes), domain
 * (4, bytes) and 14/20/25; Caffe name (1, bytes), input_dim (4, varint), debug_info (7, varint)
 * and layer (100). The first unreadable field ends the scan, so a truncated file is still
 * recognized (its reader then reports the truncation). A file with only Caffe's V1 `layers`
 * (2, bytes) is Caffe: ONNX models always carry ir_version and a graph.
 */
function protobufKind(bytes: Uint8Array, file: string): "onnx" | "caffemodel" | undefined {
  let onnx = 0,
    caffe = 0,
    layers = 0;
  const m = new ProtoMessage(file, bytes, 0, "top-level message");
  try {
    while (m.next()) {
      const key = fieldKey(m.field, m.wire);
      if (ONNX_FIELDS.has(key)) onnx++;
      if (CAFFE_FIELDS.has(key)) caffe++;
      if (key === fieldKey(2, WIRE_BYTES)) layers++;
      m.skip();
    }
  } catch (error) {
    if (!(error instanceof WeightsError)) throw error;
  }
  if (onnx > 0 && caffe === 0) return "onnx";
  if (caffe > 0 && onnx === 0) return "caffemodel";
  return onnx === 0 && caffe === 0 && layers > 0 ? "caffemodel" : undefined;
}

const fieldKey = (field: number, wire: number): string => `${field}:${wire}`;
const ONNX_FIELDS: ReadonlySet<string> = new Set([
  fieldKey(1, WIRE_VARINT),
  fieldKey(4, WIRE_BYTES),
  fieldKey(7, WIRE_BYTES),
  fieldKey(14, WIRE_BYTES),
  fieldKey(20, WIRE_BYTES),
  fieldKey(25, WIRE_BYTES),
]);
const CAFFE_FIELDS: ReadonlySet<string> = new Set([
  fieldKey(1, WIRE_BYTES),
  fieldKey(4, WIRE_VARINT),
  fieldKey(7, WIRE_VARINT),
  fieldKey(100, WIRE_BYTES),
]);
const latin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes);
