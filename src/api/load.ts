// Loading: each model's weights resolved from its source (bytes, tensors, a URL or stream, or a
// path through the runtime's weight files), its packed cache opened, and the engine made, on the
// runtime the caller names. The options come checked (options.ts).

import type { Engine } from "../host/engine/engine.js";
import { ReferenceEngine } from "../host/engine/reference.js";
import type { Runtime } from "../host/engine/runtime.js";
import { WasmEngine, type WeightFeed, type WeightSet } from "../host/engine/wasm.js";
import { WeightsError } from "../host/errors.js";
import { wrapWebWorker } from "../host/exec/workers.js";
import type { Graph } from "../host/ir/graph.js";
import { checkTensors, expectedWeights, type ExpectedTensor, type TensorMap } from "../host/ir/tensors.js";
import { decodeWeights } from "../model/formats/detect.js";
import { hasIwnetMagic, readWeightStream } from "../model/formats/iwnet.js";
import { googlenetGraph } from "../model/network/googlenet.js";
import type { LoadSettings, WeightsSource } from "./options.js";
import { isRemoteWeights, openWeightStream, readRemoteWeights, type WeightStream } from "./weightSources.js";

/**
 * The engine for `graph` with one weight set per source (an ensemble's models in order), on
 * `runtime`; `caller` names the operation in the engine's errors.
 */
export async function loadEngine(
  graph: Graph,
  sources: readonly (WeightsSource | undefined)[],
  settings: LoadSettings,
  runtime: Runtime,
  caller: string,
): Promise<Engine> {
  const { inputSize, worker } = settings;
  const expected = expectedWeights(graph, inputSize, inputSize);
  // One weight set per model, each resolved only when it is not read from its packed cache. Each
  // model named by path (or found in the default locations) has its own cache entry (keyed by its
  // set's layout relative to its base: see packedLayoutKey), whatever the other models' sources.
  const weightSets: WeightSet[] = [];
  for (const source of sources) {
    const packedCache =
      settings.engine !== "reference" &&
      settings.packedCache &&
      runtime.openPackedCache &&
      (source === undefined || typeof source === "string")
        ? await runtime.openPackedCache(source, settings.cacheDir)
        : undefined;
    weightSets.push({ tensors: () => resolveWeights(source, expected, settings, runtime), packedCache });
  }
  if (settings.engine === "reference") {
    return new ReferenceEngine(graph, await referenceWeights(weightSets), inputSize, inputSize);
  }
  return WasmEngine.create(
    graph,
    weightSets,
    {
      caller,
      build: settings.build,
      tile: settings.tile,
      tileStore: runtime.openTileStore?.(settings.cacheDir),
      inputSize,
      threads: settings.threads,
      keepActivations: settings.keepActivations,
      precision: settings.precision,
      warmUp: settings.warmUp,
      maxBatch: settings.maxBatch,
      kernels: settings.kernels,
    },
    worker
      ? { ...runtime, spawnWorker: (events) => wrapWebWorker(worker(), events, "(the worker option's worker)") }
      : runtime,
  );
}

/**
 * The weights of `source` as tensors or, for an IWNET stream the wasm engine reads (see
 * openWeightStream), as a feed written into the network's memory tensor by tensor.
 */
async function resolveWeights(
  source: WeightsSource | undefined,
  expected: readonly ExpectedTensor[],
  options: LoadSettings,
  runtime: Runtime,
): Promise<TensorMap | WeightFeed> {
  const weightFiles = runtime.weightFiles;
  if (typeof source === "string" && !weightFiles) {
    source = new URL(source, (globalThis as { location?: { href?: string } }).location?.href);
  }
  if (isRemoteWeights(source)) {
    const opened =
      options.engine === "reference" ? undefined : await openWeightStream(source, runtime, options.weightsFetch);
    if (opened) return streamedWeights(opened, expected, runtime);
    const name = source instanceof URL ? source.href : "weights option";
    const tensors = await decodeWeights(
      await readRemoteWeights(source, runtime, options.weightsFetch),
      name,
      googlenetGraph(),
    );
    checkTensors(tensors, expected, name);
    return tensors;
  }
  if (source instanceof Map) {
    checkTensors(source, expected, "weights option");
    return source;
  }
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const file = "weights option (bytes)";
    const bytes =
      source instanceof ArrayBuffer
        ? new Uint8Array(source)
        : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    const tensors = await decodeWeights(bytes, file, googlenetGraph());
    checkTensors(tensors, expected, file);
    return tensors;
  }
  if (!weightFiles) {
    throw new WeightsError(
      "weights option",
      undefined,
      `expected weight-file bytes or tensors (paths and default ` +
        `locations need the Node entry, import "inception-wasm" under Node, Deno or Bun), found ${source ?? "nothing"}`,
    );
  }
  return weightFiles(source, expected, options.cacheDir, options.engine !== "reference");
}

/** An IWNET stream as a feed (read while written, never whole); other formats read whole and decoded. */
async function streamedWeights(
  { stream, name }: WeightStream,
  expected: readonly ExpectedTensor[],
  runtime: Runtime,
): Promise<TensorMap | WeightFeed> {
  const reader = stream.getReader();
  const first = await reader.read();
  const head = first.done ? new Uint8Array(0) : first.value;
  const whole = new ReadableStream<Uint8Array>({
    start: (controller) => (head.length > 0 ? controller.enqueue(head) : undefined),
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  if (hasIwnetMagic(head)) return (write) => readWeightStream(whole, name, write, runtime.createSha256());
  const tensors = await decodeWeights(new Uint8Array(await new Response(whole).arrayBuffer()), name, googlenetGraph());
  checkTensors(tensors, expected, name);
  return tensors;
}

/** Every model's tensors for the reference engine, in order (never a feed: resolveWeights reads whole for it). */
async function referenceWeights(sets: readonly WeightSet[]): Promise<TensorMap[]> {
  const maps: TensorMap[] = [];
  for (const set of sets) maps.push((await set.tensors()) as TensorMap);
  return maps;
}
