// GoogLeNet planned for the benchmarks that drive executors or kernels directly (below the API):
// one plan at 224x224, batch 1, in a shared memory of its own with the weights written in.

import type { Graph } from "../src/host/ir/graph.js";
import type { TensorMap } from "../src/host/ir/tensors.js";
import { planGraph, writeWeights, type Plan } from "../src/host/plan/plan.js";
import type { Precision } from "../src/host/plan/winogradLayers.js";
import {
  createSharedMemory,
  instantiateKernels,
  type CompiledKernels,
  type KernelExports,
} from "../src/host/wasm/kernels.js";
import type { TileInfo } from "../src/host/wasm/tiles.js";

/** `graph` planned at 224x224 for `lanes` threads; its memory holds `tensors` (the input is left unset). */
export function plannedNetwork(
  graph: Graph,
  compiled: CompiledKernels,
  tensors: TensorMap,
  options: { lanes: number; precision: Precision; tile: TileInfo },
): { plan: Plan; memory: WebAssembly.Memory; kernels: KernelExports } {
  const probe = instantiateKernels(compiled.module, createSharedMemory(65536, 65536));
  const plan = planGraph(graph, probe, { height: 224, width: 224, keepAll: false, ...options });
  const memory = createSharedMemory(plan.memoryBytes, plan.memoryBytes);
  const kernels = instantiateKernels(compiled.module, memory);
  writeWeights(graph, plan, tensors, kernels, memory);
  return { plan, memory, kernels };
}
