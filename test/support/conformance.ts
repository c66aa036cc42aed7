// ONNX backend node tests on the kernel library: each in-scope test's model.onnx is read with
// the project's ONNX reader and mapped to an IR graph (src/model/formats/onnxNode.ts), planned
// by planGraph and run by the SerialExecutor, the same path that runs GoogLeNet, once per item
// (batch row); its output is compared with output_0.pb under the tolerance policy's conformance
// bounds (tolerance.ts). Data: Debian's libonnx-testdata (ONNX 1.12), or $ONNX_NODE_TESTS.

import { tileFamily } from "../../src/host/wasm/tiles.js";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SerialExecutor } from "../../src/host/exec/executor.js";
import type { Shape } from "../../src/host/ir/graph.js";
import { convWindow, poolWindow } from "../../src/host/ir/window.js";
import { planGraph, writeWeights } from "../../src/host/plan/plan.js";
import { avgPoolWindowRef, convWindowRef, fcRef } from "../../src/host/reference/ops.js";
import { createSharedMemory, instantiateKernels, type CompiledKernels } from "../../src/host/wasm/kernels.js";
import {
  decodeTensorProto,
  mapOnnxNode,
  readOnnxNodeModel,
  UnsupportedOnnxError,
  type OnnxNodeGraph,
  type OnnxTensor,
} from "../../src/model/formats/onnxNode.js";
import {
  conformanceAvgPoolTolerance,
  conformanceDotTolerance,
  conformanceLrnTolerance,
  conformanceSoftmaxTolerance,
} from "./tolerance.js";

/** Where Debian's libonnx-testdata (installed by scripts/provision.mjs) puts the node tests. */
export const ONNX_NODE_TESTS = process.env.ONNX_NODE_TESTS ?? "/usr/share/libonnx-testdata/data/node";

/** The in-scope tests (issue 14): every op GoogLeNet uses, with their ONNX corner cases. */
const IN_SCOPE =
  /^test_(conv_with_strides_.*|conv_with_autopad_same|maxpool_2d_.*|averagepool_2d_.*|globalaveragepool.*|lrn|lrn_default|relu|concat_.*|softmax_.*|gemm_.*|dropout_default.*)$/;

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
    const model = readOnnxNodeModel(readFileSync(join(dir, "model.onnx")), join(dir, "model.onnx"));
    const sets = readdirSync(dir)
      .filter((d) => d.startsWith("test_data_set_"))
      .sort();
    if (sets.length === 0) throw new Error(`${dir}: no test_data_set_* folder`);
    for (const set of sets) {
      const values = new Map<string, OnnxTensor>();
      model.inputs.forEach((input, i) => {
        const t = readTensor(join(dir, set, `input_${i}.pb`));
        values.set(input, { ...t, name: input });
      });
      const expected = readTensor(join(dir, set, "output_0.pb"));
      const mapped = adjust(mapOnnxNode(model, values));
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
      const dst = view(b.tensor, b.elements);
      for (let j = 0; j < b.elements; j++) dst[j] = src[n * b.itemStride + j * b.elementStride]!;
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
  if (!node || node.op === "maxPool" || node.op === "concat") return () => 0;
  const x = values.get(m.inputs[0]!.onnx)!.data!;
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
      const window = poolWindow(node);
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
