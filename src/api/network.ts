// Which network a load runs: GoogLeNet's own graph (weights bound by structure) unless a weight
// source is an ONNX model of another Inception-v1 graph (torchvision's GoogLeNet, BVLC with
// BatchNormalization...), whose imported graph then runs (onnxImport.ts). The graph also decides
// the preprocessing (normalization.ts). Browser-safe: model files by path are read through the
// runtime's readModelFile (the Node entry's).

import { WeightsError } from "../host/errors.js";
import type { ModelFileReader } from "../host/engine/runtime.js";
import type { Graph } from "../host/ir/graph.js";
import { inferShapes } from "../host/ir/shapes.js";
import type { TensorMap } from "../host/ir/tensors.js";
import { detectWeightFormat } from "../model/formats/detect.js";
import type { ExternalDataReader } from "../model/formats/onnx.js";
import { canonicalNetwork, importOnnx } from "../model/formats/onnxImport.js";
import { detectPreprocessing, type Preprocessing } from "../model/image/normalization.js";
import { CLASSES, DEFAULT_INPUT_SIZE, googlenetGraph } from "../model/network/googlenet.js";

/** The network of a load: its graph, each weight source (imported ONNX models as their tensors), and its preprocessing. */
export interface ResolvedNetwork<S> {
  graph: Graph;
  sources: (S | TensorMap | undefined)[];
  preprocessing: Preprocessing;
}

/**
 * The network the weight sources describe. ONNX models (bytes, or a path ending in .onnx) are
 * imported; GoogLeNet's graph is used when every imported one is GoogLeNet's (its sources then
 * become the bound tensors, or stay paths), else the imported graph (with a softmax appended when
 * the model gives logits), which every source must share. Other sources are GoogLeNet's. Throws
 * WeightsError for a model outside the family, without 1000 classes, or sources that disagree.
 */
export async function resolveNetwork<S>(
  sources: readonly (S | undefined)[],
  readModelFile: ModelFileReader | undefined,
): Promise<ResolvedNetwork<S>> {
  const resolved: (S | TensorMap | undefined)[] = [];
  let imported: { graph: Graph; file: string; softmax: boolean } | undefined;
  let googlenet = false;
  for (const source of sources) {
    const model = await readModel(source, readModelFile);
    if (!model) {
      resolved.push(source);
      googlenet = true;
      continue;
    }
    const net = importOnnx(model.bytes, model.file, { readExternal: model.readExternal });
    const canonical = canonicalNetwork(net, model.file);
    if (canonical.googlenet) {
      googlenet = true;
      resolved.push(typeof source === "string" ? source : canonical.weights);
      continue;
    }
    if (imported && !sameGraph(imported.graph, net.graph)) {
      throw new WeightsError(
        model.file,
        undefined,
        `expected the same graph as ${imported.file} (an ensemble runs one graph), found another`,
      );
    }
    imported ??= { graph: net.graph, file: model.file, softmax: net.softmax };
    resolved.push(net.weights);
  }
  if (imported && googlenet) {
    throw new WeightsError(
      imported.file,
      undefined,
      "expected the same graph as the other weight sources (GoogLeNet's BVLC graph), found another",
    );
  }
  if (!imported)
    return { graph: googlenetGraph(), sources: resolved, preprocessing: detectPreprocessing(googlenetGraph(), true) };
  const graph = withProbabilities(imported.graph);
  checkRunnable(graph, imported.file);
  return { graph, sources: resolved, preprocessing: detectPreprocessing(graph, false) };
}

/** The ONNX model bytes of a source (bytes detected as ONNX, or a path ending in .onnx), else undefined. */
async function readModel(
  source: unknown,
  modelFileReader: ModelFileReader | undefined,
): Promise<{ bytes: Uint8Array; file: string; readExternal?: ExternalDataReader } | undefined> {
  if (typeof source === "string") {
    if (!/\.onnx$/i.test(source) || !modelFileReader) return undefined;
    return { ...(await modelFileReader(source)), file: source };
  }
  if (!(source instanceof ArrayBuffer || ArrayBuffer.isView(source))) return undefined;
  const bytes =
    source instanceof ArrayBuffer
      ? new Uint8Array(source)
      : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  const file = "weights option (bytes)";
  return bytes.length > 0 && detectWeightFormat(bytes, file) === "onnx" ? { bytes, file } : undefined;
}

/** Whether two imported graphs are the same network (same ops, parameters and tensor names). */
function sameGraph(a: Graph, b: Graph): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `graph` with a softmax after its logits when it has none (the model gives logits). */
function withProbabilities(graph: Graph): Graph {
  if (graph.logits !== graph.probabilities) return graph;
  const probabilities = `${graph.logits}:softmax`;
  return {
    ...graph,
    nodes: [...graph.nodes, { op: "softmax", name: probabilities, input: graph.logits, output: probabilities }],
    probabilities,
  };
}

/** Checks that an imported graph classifies images: one 3-channel input, 1000 classes at the default size. */
function checkRunnable(graph: Graph, file: string): void {
  if (graph.extraInputs?.length || graph.inputChannels !== 3) {
    throw new WeightsError(
      file,
      undefined,
      `expected one input image of 3 channels, found ${graph.inputChannels} channels and ${graph.extraInputs?.length ?? 0} more inputs`,
    );
  }
  const s = inferShapes(graph, DEFAULT_INPUT_SIZE, DEFAULT_INPUT_SIZE).get(graph.probabilities)!;
  if (s.c * s.h * s.w !== CLASSES) {
    throw new WeightsError(
      file,
      undefined,
      `expected ${CLASSES} classes (the ILSVRC-2012 labels), found ${s.c * s.h * s.w} outputs`,
    );
  }
}
