// Named weight tensors and what a graph expects of them: the currency between weight
// formats (src/model/formats) and the planner.

import { WeightsError } from "../errors.js";
import type { Graph } from "./graph.js";
import { inferShapes } from "./shapes.js";
import { convWindow } from "./window.js";

/** Named weight tensors: row-major data and shape (conv OIHW, FC [out][in], bias [n]). */
export type TensorMap = Map<string, { shape: number[]; data: Float32Array }>;

/** A tensor a graph needs: its name and exact shape. */
export interface ExpectedTensor {
  name: string;
  shape: number[];
}

/** The weight tensors (names and shapes) a graph needs for an input of height x width. */
export function expectedWeights(graph: Graph, height: number, width: number): ExpectedTensor[] {
  const shapes = inferShapes(graph, height, width);
  const out: ExpectedTensor[] = [];
  for (const node of graph.nodes) {
    if (node.op === "conv") {
      const inC = shapes.get(node.input)!.c;
      out.push({ name: `${node.weights}.weight`, shape: [node.outChannels, inC, ...convWindow(node).kernel] });
      out.push({ name: `${node.weights}.bias`, shape: [node.outChannels] });
    } else if (node.op === "fc") {
      const s = shapes.get(node.input)!;
      out.push({ name: `${node.weights}.weight`, shape: [node.outFeatures, s.c * s.h * s.w] });
      out.push({ name: `${node.weights}.bias`, shape: [node.outFeatures] });
    }
  }
  return out;
}

/**
 * Checks that every expected tensor is present with exactly the expected shape, as many values
 * as its shape holds, and only finite values (no NaN or Infinity); extra tensors are allowed.
 * Throws WeightsError naming `file` and the tensor (and the first bad index) otherwise.
 */
export function checkTensors(tensors: TensorMap, expected: readonly ExpectedTensor[], file: string): void {
  for (const { name, shape } of expected) {
    const tensor = tensors.get(name);
    if (tensor === undefined)
      throw new WeightsError(file, name, `missing tensor ${name}, expected shape [${shape.join(",")}]`);
    if (typeof tensor !== "object" || tensor === null || !Array.isArray(tensor.shape)) {
      throw new WeightsError(file, name, `expected { shape, data }, found ${tensor === null ? "null" : typeof tensor}`);
    }
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      throw new WeightsError(file, name, `expected shape [${shape.join(",")}], found [${tensor.shape.join(",")}]`);
    }
    if (!(tensor.data instanceof Float32Array) || tensor.data.length !== elementCount(shape)) {
      const found = tensor.data instanceof Float32Array ? `${tensor.data.length} values` : typeof tensor.data;
      throw new WeightsError(file, name, `expected a Float32Array of ${elementCount(shape)} values, found ${found}`);
    }
    const bad = firstNonFinite(tensor.data);
    if (bad >= 0) {
      throw new WeightsError(file, name, `expected finite values, found ${tensor.data[bad]} at index ${bad}`);
    }
  }
}

/** Number of elements of a tensor of this shape (1 for rank 0). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Index of the first NaN or infinite value of `data`, or -1 when every value is finite. */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    // x - x is 0 for every finite x and NaN for NaN and +-Infinity.
    if (data[i] - data[i] !== 0) return i;
  }
  return -1;
}

/** Index of the first value not within +-bound (NaN included), or -1 (a plain loop: a callback per value costs 20x). */
export function firstOutside(data: Float32Array, bound: number): number {
  for (let i = 0; i < data.length; i++) if (!(Math.abs(data[i]) <= bound)) return i;
  return -1;
}
