// Runs a whole graph on the float64 TypeScript reference ops (slow): the switch for
// bisecting numeric differences layer by layer.

import { ArgumentError } from "../errors.js";
import type { Graph } from "../ir/graph.js";
import { avgPoolWindowRef, convWindowRef, fcRef, lrnRef, maxPoolWindowRef, softmaxRef } from "../reference/ops.js";
import { applyInputTransform } from "../ir/preamble.js";
import { inferShapes } from "../ir/shapes.js";
import { type TensorMap } from "../ir/tensors.js";
import { convWindow, poolWindow } from "../ir/window.js";
import type { Engine, EngineOutputs } from "./engine.js";

/** Every tensor of `graph` (CHW, float64) for one input of height x width. */
export function runReferenceGraph(
  graph: Graph,
  weights: TensorMap,
  input: Float32Array,
  height: number,
  width: number,
): Map<string, Float64Array> {
  if (graph.extraInputs?.length) {
    throw new ArgumentError(
      "runReferenceGraph",
      "graph",
      "a graph with one input",
      `${graph.extraInputs.length + 1} inputs`,
    );
  }
  const shapes = inferShapes(graph, height, width);
  const values = new Map<string, Float64Array>([[graph.input, Float64Array.from(applyInputTransform(graph, input))]]);
  const get = (name: string): Float64Array => values.get(name)!;
  const tensor = (name: string): Float32Array => {
    const t = weights.get(name);
    if (!t) throw new ArgumentError("runReferenceGraph", "weights", `tensor ${name}`, "none");
    return t.data;
  };
  for (const node of graph.nodes) {
    switch (node.op) {
      case "conv":
        values.set(
          node.output,
          convWindowRef(
            get(node.input),
            shapes.get(node.input)!,
            tensor(`${node.weights}.weight`),
            tensor(`${node.weights}.bias`),
            node.outChannels,
            convWindow(node),
            node.relu,
          ).data,
        );
        break;
      case "maxPool":
      case "avgPool": {
        const pool = node.op === "maxPool" ? maxPoolWindowRef : avgPoolWindowRef;
        const rule = { rounding: node.rounding, countPad: node.countPad !== false };
        values.set(
          node.output,
          pool(get(node.input), shapes.get(node.input)!, poolWindow(node, shapes.get(node.input)!), rule).data,
        );
        break;
      }
      case "lrn":
        values.set(
          node.output,
          lrnRef(get(node.input), shapes.get(node.input)!, node.size, node.alpha, node.beta, node.k).data,
        );
        break;
      case "concat": {
        const parts = node.inputs.map(get);
        const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
        let offset = 0;
        for (const p of parts) {
          out.set(p, offset);
          offset += p.length;
        }
        values.set(node.output, out);
        break;
      }
      case "fc":
        values.set(
          node.output,
          fcRef(get(node.input), tensor(`${node.weights}.weight`), tensor(`${node.weights}.bias`), node.outFeatures)
            .data,
        );
        break;
      case "softmax":
        values.set(node.output, softmaxRef(get(node.input)).data);
        break;
    }
  }
  return values;
}

/** The float64 engine: runs every op of the graph in TypeScript on the calling thread and keeps every tensor. */
export class ReferenceEngine implements Engine {
  readonly build = "reference";
  readonly buildReason = "requested";
  readonly kernel = "reference";
  readonly kernelReason = "the reference engine runs no GEMM tile";
  readonly packLayout = "reference";
  readonly wasmBytes = 0;
  readonly precision = "strict";
  readonly winogradLayers: readonly string[] = [];
  readonly winogradReason = "the reference engine is always strict";
  readonly threads = 1;
  readonly threadReason = "the reference engine runs on the calling thread";
  readonly memoryBytes = 0;
  private tensors: Map<string, Float64Array> | undefined;

  /** `weightSets`: one TensorMap per model (an ensemble's, in order). */
  constructor(
    private readonly graph: Graph,
    private readonly weightSets: readonly TensorMap[],
    private readonly height: number,
    private readonly width: number,
  ) {}

  memoryBytesFor(): number {
    return 0;
  }

  get models(): number {
    return this.weightSets.length;
  }

  async runBatch(inputs: readonly Float32Array[], _profile?: unknown, model = 0): Promise<EngineOutputs[]> {
    const weights = this.weightSets[model];
    return inputs.map((input) => {
      this.tensors = runReferenceGraph(this.graph, weights, input, this.height, this.width);
      return {
        logits: Float32Array.from(this.tensors.get(this.graph.logits)!),
        probabilities: Float32Array.from(this.tensors.get(this.graph.probabilities)!),
      };
    });
  }

  activation(name: string): Float32Array | undefined {
    const t = this.tensors?.get(name);
    return t && Float32Array.from(t);
  }

  async dispose(): Promise<void> {
    this.tensors = undefined;
  }
}
