// ONNX backend node tests on the kernel library: each in-scope test's model.onnx is imported
// by the same importer that loads users' models (src/model/formats/onnxImport.ts; the test's
// weight inputs bound as constants), planned by planGraph and run by the SerialExecutor, the
// same path that runs GoogLeNet, once per item (batch row); its output is compared with
// output_0.pb under the tolerance policy's conformance bounds (tolerance.ts). Data: Debian's
// libonnx-testdata (ONNX 1.12), or $ONNX_NODE_TESTS.

import { tileFamily } from "../../src/host/wasm/tiles.js";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SerialExecutor } from "../../src/host/exec/executor.js";
import type { Shape } from "../../src/host/ir/graph.js";
import { convWindow, poolWindow } from "../../src/host/ir/window.js";
import { planGraph, writeWeights } from "../../src/host/plan/plan.js";
import { avgPoolWindowRef, convWindowRef, fcRef } from "../../src/host/reference/ops.js";
import { createSharedMemory, instantiateKernels, type CompiledKernels } from "../../src/host/wasm/kernels.js";
import { applyInputTransform } from "../../src/host/ir/preamble.js";
import type { Graph } from "../../src/host/ir/graph.js";
import type { TensorMap } from "../../src/host/ir/tensors.js";
import { decodeTensorProto, readOnnxModel } from "../../src/model/formats/onnx.js";
import { importOnnxModel, UnsupportedOnnxError } from "../../src/model/formats/onnxImport.js";
import {
  conformanceAvgPoolTolerance,
  conformanceDotTolerance,
  conformanceLrnTolerance,
  conformanceSoftmaxTolerance,
  conformanceAffineTolerance,
} from "./tolerance.js";

/** Where Debian's libonnx-testdata (installed by scripts/provision.mjs) puts the node tests. */
export const ONNX_NODE_TESTS = process.env.ONNX_NODE_TESTS ?? "/usr/share/libonnx-testdata/data/node";

/**
 * The in-scope tests: every op of the Inception-v1 family the importer reads (issues 14 and 21),
 * with their ONNX corner cases.
 */
const IN_SCOPE =
  /^test_(conv_with_strides_.*|conv_with_autopad_same|basic_conv_.*|maxpool_2d_.*|averagepool_2d_.*|globalaveragepool.*|lrn|lrn_default|relu|concat_.*|softmax_.*|gemm_.*|dropout_default.*|batchnorm_.*|flatten_.*|reshape_.*|matmul_2d|add|add_bcast|mul|mul_bcast|identity|constant|squeeze|unsqueeze_.*)$/;

/** An ONNX tensor of a test: name, data type, dims, FLOAT values (else undefined). */
export type OnnxTensor = ReturnType<typeof decodeTensorProto>;

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

/** A test's imported graph planned for one input size, its weights and item bindings (one run per batch item). */
export interface OnnxNodeGraph {
  graph: Graph;
  height: number;
  width: number;
  weights: TensorMap;
  items: number;
  inputs: ItemBinding[];
  output: ItemBinding;
  outputShape: number[];
}

/**
 * Imports a test's model for one data set: the node's data inputs (the first, or every input of
 * a Concat) stay inputs; the others (weights, shapes) are bound as constants.
 */
function importCase(bytes: Uint8Array, file: string, values: Map<string, OnnxTensor>): OnnxNodeGraph {
  const model = readOnnxModel(bytes, file);
  const graphInputs = model.inputs.map((i) => i.name).filter((n) => !model.initializers.has(n));
  const allData = model.nodes.length === 1 && model.nodes[0]!.type === "Concat";
  const bound = new Map<string, { dims: number[]; data: Float32Array | number[] }>();
  graphInputs.forEach((name, i) => {
    const t = values.get(name)!;
    const data = t.data ?? t.ints;
    if (i === 0 && t.data === undefined) {
      throw new UnsupportedOnnxError(file, `graph input "${name}"`, "data", "FLOAT values", `data type ${t.dataType}`);
    }
    if (i > 0 && !allData && data) bound.set(name, { dims: t.shape, data });
  });
  if (graphInputs.length === 0)
    throw new UnsupportedOnnxError(file, "graph", "inputs", "a data input", "none (a constant graph)");
  const first = values.get(graphInputs[0]!)!;
  const imported = importOnnxModel(model, file, { inputDims: first.shape, bound });
  const contiguous = (onnx: string, tensor: string, elements: number): ItemBinding => ({
    onnx,
    tensor,
    itemStride: elements,
    elementStride: 1,
    elements,
  });
  const [n, ...item] = imported.inputs[0]!.dims;
  const perItem = (dims: number[]): number => dims.slice(1).reduce((a, b) => a * b, 1);
  return {
    graph: imported.graph,
    height: item.length === 3 ? item[1]! : 1,
    width: item.length === 3 ? item[2]! : item.length === 2 ? item[1]! : 1,
    weights: imported.weights,
    items: n!,
    inputs: imported.inputs.map((i) => contiguous(i.name, i.name, perItem(i.dims))),
    output: contiguous(imported.output.name, imported.graph.probabilities, perItem(imported.output.dims)),
    outputShape: imported.output.dims,
  };
}

/** The in-scope test directories under `root`, sorted; throws when the data are absent. */
export function inScopeTests(root = ONNX_NODE_TESTS): string[] {
  if (!existsSync(root)) {
    throw new Error(
      `ONNX node tests not found at ${root}: install Debian's libonnx-testdata with ` +
        "`node scripts/provision.mjs onnx-testdata` (npm test does it; apt-get install -y libonnx-testdata as root), " +
        "or set ONNX_NODE_TESTS to a folder of test_* directories",
    );
  }
  const names = readdirSync(root)
    .filter((n) => IN_SCOPE.test(n))
    .sort();
  if (names.length === 0) throw new Error(`${root}: no in-scope test_* directories`);
  return names;
}

/** One test on one build. */
export interface CaseResult {
  test: string;
  build: string;
  status: "pass" | "fail" | "unsupported";
  /** Why unsupported (the typed error's message) or how it failed. */
  reason?: string;
  /** Largest |ours - expected| and the tolerance of that element; largest error/tolerance ratio. */
  maxError: number;
  tolerance: number;
  worstRatio: number;
}

const readTensor = (path: string): OnnxTensor => decodeTensorProto(readFileSync(path), path);

/**
 * Runs test `name` (a directory under `root`) with the `compiled` build; every data set must pass.
 * `adjust` changes the mapped graph before it runs (the tests' deliberate mistakes).
 */
export async function runCase(
  name: string,
  compiled: CompiledKernels,
  root = ONNX_NODE_TESTS,
  adjust: (g: OnnxNodeGraph) => OnnxNodeGraph = (g) => g,
): Promise<CaseResult> {
  const dir = join(root, name);
  const result: CaseResult = {
    test: name,
    build: compiled.build,
    status: "pass",
    maxError: 0,
    tolerance: 0,
    worstRatio: 0,
  };
  try {
    const file = join(dir, "model.onnx");
    const bytes = readFileSync(file);
    const model = readOnnxModel(bytes, file);
    const graphInputs = model.inputs.map((i) => i.name).filter((n) => !model.initializers.has(n));
    const sets = readdirSync(dir)
      .filter((d) => d.startsWith("test_data_set_"))
      .sort();
    if (sets.length === 0) throw new Error(`${dir}: no test_data_set_* folder`);
    for (const set of sets) {
      const values = new Map<string, OnnxTensor>();
      graphInputs.forEach((input, i) => {
        const t = readTensor(join(dir, set, `input_${i}.pb`));
        values.set(input, { ...t, name: input });
      });
      const expected = readTensor(join(dir, set, "output_0.pb"));
      const mapped = adjust(importCase(bytes, file, values));
      const got = await runMapped(mapped, values, compiled);
      compare(result, got, expected, toleranceOf(mapped, values, expected), `${set}`);
      if (result.status === "fail") return result;
    }
  } catch (e) {
    if (!(e instanceof UnsupportedOnnxError)) throw e;
    return { ...result, status: "unsupported", reason: e.message };
  }
  return result;
}

/** Plans the mapped graph, writes its weights, runs each item through the serial executor; the ONNX output. */
async function runMapped(
  m: OnnxNodeGraph,
  values: Map<string, OnnxTensor>,
  compiled: CompiledKernels,
): Promise<Float32Array> {
  const probe = instantiateKernels(compiled.module, createSharedMemory(65536, 65536));
  const plan = planGraph(m.graph, probe, {
    height: m.height,
    width: m.width,
    lanes: 1,
    keepAll: false,
    tile: tileFamily(probe)[0],
  });
  const memory = createSharedMemory(plan.memoryBytes, plan.memoryBytes);
  const kernels = instantiateKernels(compiled.module, memory);
  writeWeights(m.graph, plan, m.weights, kernels, memory);
  const executor = new SerialExecutor(kernels);
  const out = new Float32Array(m.outputShape.reduce((a, b) => a * b, 1));
  const view = (tensor: string, elements: number): Float32Array => {
    const place = plan.tensors.get(tensor)!;
    return new Float32Array(memory.buffer, place.ptr, elements);
  };
  for (let n = 0; n < m.items; n++) {
    for (const b of m.inputs) {
      const src = values.get(b.onnx)!.data!;
      const item = Float32Array.from({ length: b.elements }, (_, j) => src[n * b.itemStride + j * b.elementStride]!);
      view(b.tensor, b.elements).set(b.onnx === m.graph.input ? applyInputTransform(m.graph, item) : item);
    }
    await executor.run(plan);
    const o = m.output;
    const src = view(o.tensor, o.elements);
    for (let j = 0; j < o.elements; j++) out[n * o.itemStride + j * o.elementStride] = src[j]!;
  }
  await executor.dispose();
  return out;
}

const abs = (a: Float32Array): Float64Array => Float64Array.from(a, Math.abs);

/** Per-element conformance tolerance of the mapped node's output (see tolerance.ts). */
function toleranceOf(m: OnnxNodeGraph, values: Map<string, OnnxTensor>, expected: OnnxTensor): (i: number) => number {
  const node = m.graph.nodes[0];
  const y = expected.data!;
  const x = values.get(m.inputs[0]!.onnx)!.data!;
  const t = m.graph.inputTransform;
  if (t && !node) {
    // The input preamble alone (a BatchNormalization, Mul or Add of the input): one float32 rounding
    // of x * scale + shift against the test's float32 formula of at most 4 roundings.
    const plane = m.output.elements / t.source.length;
    return (i) => {
      const c = Math.floor((i % m.output.elements) / plane);
      return conformanceAffineTolerance(Math.abs(x[i]! * t.scale[c]!) + Math.abs(t.shift[c]!), y[i]!);
    };
  }
  if (!node || node.op === "maxPool" || node.op === "concat") return () => 0;
  const per = m.output.elements;
  const item = (n: number): Float32Array => {
    const b = m.inputs[0]!;
    return Float32Array.from({ length: b.elements }, (_, j) => x[n * b.itemStride + j * b.elementStride]!);
  };
  const shape: Shape = { c: m.graph.inputChannels, h: m.height, w: m.width };
  const byItem = (f: (n: number) => Float64Array): ((i: number) => number) => {
    const all = Array.from({ length: m.items }, (_, n) => f(n));
    return (i) => all[Math.floor(i / per)]![i % per]!;
  };
  switch (node.op) {
    case "conv": {
      const w = m.weights.get(`${node.weights}.weight`)!;
      const b = m.weights.get(`${node.weights}.bias`)!;
      const window = convWindow(node);
      const K = shape.c * window.kernel[0] * window.kernel[1];
      return byItem((n) => {
        const s = convWindowRef(abs(item(n)), shape, abs(w.data), abs(b.data), node.outChannels, window, false).data;
        return s.map((v, j) => conformanceDotTolerance(K + 1, v, y[n * per + j]!));
      });
    }
    case "fc": {
      const w = m.weights.get(`${node.weights}.weight`)!;
      const b = m.weights.get(`${node.weights}.bias`)!;
      return byItem((n) => {
        const s = fcRef(abs(item(n)), abs(w.data), abs(b.data), node.outFeatures).data;
        return s.map((v, j) => conformanceDotTolerance(shape.c + 2, v, y[n * per + j]!));
      });
    }
    case "avgPool": {
      const window = poolWindow(node, shape);
      const rule = { rounding: node.rounding, countPad: node.countPad !== false };
      const taps = window.kernel[0] * window.kernel[1];
      return byItem((n) => {
        const meanAbs = avgPoolWindowRef(abs(item(n)), shape, window, rule).data;
        return meanAbs.map((v, j) => conformanceAvgPoolTolerance(taps, v, y[n * per + j]!));
      });
    }
    case "lrn":
      return (i) => conformanceLrnTolerance(node.size, node.beta, y[i]!);
    case "softmax":
      return byItem((n) => {
        const v = item(n);
        const max = Math.max(...v);
        const zMax = Math.max(...v.map((e) => max - e));
        return Float64Array.from(v, (e, j) => conformanceSoftmaxTolerance(v.length, max - e, zMax, y[n * per + j]!));
      });
    default:
      throw new Error(`no conformance tolerance for ${node.op}`);
  }
}

/** Folds one data set's comparison into `r`: worst error, its tolerance, and fail on any element out of tolerance. */
function compare(
  r: CaseResult,
  got: Float32Array,
  expected: OnnxTensor,
  tol: (i: number) => number,
  set: string,
): void {
  const want = expected.data!;
  if (got.length !== want.length) {
    Object.assign(r, {
      status: "fail",
      reason: `${set}: ${got.length} outputs, expected ${want.length} [${expected.shape}]`,
    });
    return;
  }
  let bad = 0;
  for (let i = 0; i < got.length; i++) {
    const t = tol(i);
    const d = Math.abs(got[i]! - want[i]!);
    const ok = d <= t || got[i] === want[i];
    const ratio = ok ? (t > 0 ? d / t : 0) : Infinity;
    if (!ok) bad++;
    if (d > r.maxError || (d === r.maxError && t < r.tolerance)) [r.maxError, r.tolerance] = [d, t];
    if (ratio > r.worstRatio) r.worstRatio = ratio;
    if (!ok && bad === 1) r.reason = `${set}: [${i}] got ${got[i]}, expected ${want[i]}, |diff| ${d}, tolerance ${t}`;
  }
  if (bad > 0) {
    r.status = "fail";
    r.reason = `${bad} of ${got.length} out of tolerance; first ${r.reason}`;
  }
}

/** The results as a text table: test, status per build, max error vs tolerance. */
export function formatTable(results: CaseResult[]): string {
  const rows = results.map((r) => [
    r.test,
    r.build,
    r.status,
    r.status === "unsupported" ? "-" : `${r.maxError.toExponential(2)} / ${r.tolerance.toExponential(2)}`,
    r.status === "unsupported" ? "-" : r.worstRatio.toFixed(3),
    r.reason ?? "",
  ]);
  const head = ["test", "build", "status", "max |err| / its tolerance", "worst err/tol", "reason"];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => (c < 5 ? row[c]!.length : 0))));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (c < 5 ? cell.padEnd(widths[c]!) : cell))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}
