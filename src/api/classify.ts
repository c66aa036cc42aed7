// Classification: the crop protocol's and an ensemble's probabilities averaged (crop order, then
// model order, float64), the top-k classes, and what one image costs under a protocol.

import type { EngineOutputs } from "../host/engine/engine.js";
import { ArgumentError } from "../host/errors.js";
import type { Graph } from "../host/ir/graph.js";
import { inferShapes, multiplyAdds, parameterCount } from "../host/ir/shapes.js";
import { averageProbabilities, type CropCount } from "../model/image/crops.js";
import { CLASSES } from "../model/network/googlenet.js";

/** One class of a classification. */
export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

/** The network's outputs for one input: logits (loss3/classifier) and softmax probabilities. */
export interface RunResult {
  logits: Float32Array;
  probabilities: Float32Array;
}

/** Options of classify() and probabilities(). */
export interface ClassifyOptions {
  /** How many classes classify() returns (default 5). */
  topK?: number;
  /** The crop protocol: 1 (default), 10 (BVLC) or 144 (the paper); see crops.ts. */
  crops?: CropCount;
  /** Names the image in errors. */
  name?: string;
}

/** The topK option (default 5), checked: ArgumentError outside 1..CLASSES. */
export function checkTopK(op: string, topK: number | undefined): number {
  const k = topK ?? 5;
  if (!Number.isInteger(k) || k < 1 || k > CLASSES)
    throw new ArgumentError(op, "topK", `an integer in 1..${CLASSES}`, k);
  return k;
}

/** The k largest probabilities with their class indices and labels, most probable first (ties: lower index first). */
export function topClasses(probabilities: Float32Array, k: number, labels: readonly string[]): Prediction[] {
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  return order.slice(0, k).map((index) => ({ index, label: labels[index], probability: probabilities[index] }));
}

/** Throws ArgumentError unless `model` is an integer in 0..models-1 (a weight set of the network). */
export function checkModel(op: string, model: number, models: number): void {
  if (!(Number.isInteger(model) && model >= 0 && model < models)) {
    throw new ArgumentError(op, "model", `an integer in 0..${models - 1} (a weight set)`, model);
  }
}

/**
 * An image's probabilities from every model's outputs on its crops (`run(model)`: one output per
 * crop, in crop order): each model's crop mean, then the mean over models in model order, both in
 * float64 rounded once to float32 (averageProbabilities). Every model runs all crops before the
 * next model starts.
 */
export async function ensembleProbabilities(
  models: number,
  run: (model: number) => Promise<readonly EngineOutputs[]>,
): Promise<Float32Array> {
  const perModel: Float32Array[] = [];
  for (let model = 0; model < models; model++) {
    const all = (await run(model)).map((r) => r.probabilities);
    perModel.push(all.length === 1 ? all[0] : averageProbabilities(all));
  }
  return perModel.length === 1 ? perModel[0] : averageProbabilities(perModel);
}

/**
 * What a network costs per image under a crop protocol (GoogLeNet.summary): every model runs every crop.
 */
export interface NetworkCost {
  /** Weight sets (1, or an ensemble's models). */
  models: number;
  crops: CropCount;
  /** Forward passes per image: models x crops. */
  passesPerImage: number;
  /** Multiply-adds per image: passes x one pass's (convolutions and fully connected). */
  multiplyAddsPerImage: number;
  /** Parameters of every model (float32 each). */
  parameters: number;
  /** Bytes of the weights as stored: parameters x 4. */
  weightBytes: number;
  /**
   * Bytes of the working memory this protocol needs: the one shared wasm memory (every model's
   * weights, one activation arena for a batch of min(crops, maxBatch) images, scratch), or what it
   * holds already if more; 0 for the reference engine.
   */
  memoryBytes: number;
}

/** Multiply-adds of one forward pass of `graph` at inputSize x inputSize. */
export function passMultiplyAdds(graph: Graph, inputSize: number): number {
  const shapes = inferShapes(graph, inputSize, inputSize);
  return graph.nodes.reduce((sum, n) => sum + multiplyAdds(n, shapes), 0);
}

/** What one image costs with `models` weight sets under `crops` (memoryBytes: the engine's figure for it). */
export function networkCost(
  graph: Graph,
  inputSize: number,
  models: number,
  crops: CropCount,
  memoryBytes: number,
): NetworkCost {
  const shapes = inferShapes(graph, inputSize, inputSize);
  const parameters = models * graph.nodes.reduce((sum, n) => sum + parameterCount(n, shapes), 0);
  const passesPerImage = models * crops;
  return {
    models,
    crops,
    passesPerImage,
    multiplyAddsPerImage: passesPerImage * passMultiplyAdds(graph, inputSize),
    parameters,
    weightBytes: 4 * parameters,
    memoryBytes,
  };
}
