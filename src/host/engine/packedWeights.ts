// Putting the weights into the planned memory: from a cache of the packed weight region (a warm
// start: one read and one copy), else from the tensors (read, then packed by the kernels), after
// which the region is offered to the cache. The cache itself (files) belongs to the runtime's entry.

import { hex, sha256 } from "../digest.js";
import type { Graph } from "../ir/graph.js";
import type { TensorMap } from "../ir/tensors.js";
import { writeWeightFeed, writeWeights, type Plan, type WeightFeed } from "../plan/plan.js";
import type { CompiledKernels, KernelExports } from "../wasm/kernels.js";

/**
 * One cache entry's identity: `label` names the configuration that shapes the region's bytes
 * (build, tile, precision: packedEntryLabel), `key` (packedLayoutKey) covers all of it and the weights.
 */
export interface PackedEntry {
  label: string;
  key: Uint8Array;
}

/**
 * Where the packed weight region is kept between loads (src/node/packedCache.ts on server
 * runtimes): one entry per weights and PackedEntry, so strict and fast loads, builds and tiles
 * each keep their own.
 */
export interface PackedWeightsCache {
  /** Identifies the weights (e.g. their file's path, size and mtime): part of every key. */
  readonly weightsId: string;
  /**
   * Reads the entry straight into `region` (its exact length) and resolves to true; else to a string
   * saying why not: absent, stale (another key) or invalid (then the entry is discarded, never
   * loaded, and `region` may hold part of it).
   */
  read(entry: PackedEntry, region: Uint8Array): Promise<true | string>;
  /** Stores `region` as `entry`; a failure only warns. */
  write(entry: PackedEntry, region: Uint8Array): Promise<void>;
}

/** Milliseconds of each part of a load, and where the weights came from. */
export interface LoadTimes {
  compileMs: number;
  /**
   * Choosing the GEMM tile: the timed probe (30-50 ms) or its probe table entry read (about a
   * millisecond); 0 when the tile is requested or this process has chosen it before. In fast mode
   * also the per-layer Winograd choice (engine/winogradChoice.ts: about 200 ms measured, a
   * millisecond from the table).
   */
  tileMs: number;
  /** Reading the weights: the packed cache entry read into the memory (warm), or the weight file decoded to tensors (cold). */
  weightsMs: number;
  /** Packing the tensors (cold); 0 warm (the read puts the region in place). */
  packMs: number;
  /** Writing the packed cache entry (cold loads with a cache only). */
  cacheWriteMs: number;
  warmUpMs: number;
  /**
   * "packed cache" (warm), else "tensors" with why the cache was not used; an ensemble's says it per
   * model ("model 0: packed cache; model 1: tensors").
   */
  weightsFrom: string;
}

/** The parts of LoadTimes that belong to one weight set (compiling and the tile are the engine's). */
export type ModelLoadTimes = Omit<LoadTimes, "compileMs" | "tileMs">;

/**
 * Version of the layout key: bump when something the key does not cover changes the region's bytes.
 * 2: offsets relative to the weight set's base (1 keyed absolute addresses), the Winograd layers.
 */
const LAYOUT_KEY_VERSION = 2;

/**
 * The key of a packed weight region (one model's weight set): SHA-256 over everything that decides
 * its bytes: the weights' identity, the kernel build's code (its packing routine), and where the
 * plan puts each weight within the set (its size, the tile, every conv/FC node's weight and bias
 * offset from plan.weightBase). Offsets, not addresses: the packed bytes do not depend on where the
 * set lies (every set base is 64-byte aligned, as are the offsets), so a model loaded alone and the
 * same weights as any member of an ensemble share one entry. The Winograd layers (fast mode) are
 * named too: their filters are transformed, not packed. Undefined when the build's code is unknown
 * (given as a compiled module): such loads do not use the cache.
 */
export async function packedLayoutKey(
  weightsId: string,
  compiled: CompiledKernels,
  plan: Plan,
): Promise<Uint8Array | undefined> {
  if (compiled.code === undefined) return undefined;
  const layout = {
    version: LAYOUT_KEY_VERSION,
    weightsId,
    build: compiled.build,
    code: hex(await sha256(compiled.code)),
    bytes: plan.weightBytes,
    tile: plan.tile,
    winograd: plan.winograd,
    places: [...plan.weightPlaces].map(([node, { w, b }]) => [node, w - plan.weightBase, b - plan.weightBase]),
  };
  return sha256(new TextEncoder().encode(JSON.stringify(layout)));
}

/**
 * The readable part of an entry's name: what a user switches between (build, tile, precision), so
 * each such configuration keeps its own entry, e.g. "relaxed-6x8-fast".
 */
export function packedEntryLabel(compiled: CompiledKernels, plan: Plan): string {
  return `${compiled.build}-${plan.tile.name}-${plan.precision}`;
}

/**
 * Writes one model's weights into `plan`'s weight set of `memory` (an ensemble calls it per model
 * with that model's plan and cache): from `cache` when it holds this layout (read in chunks
 * straight into the region), else from `tensors()` (a map, or a feed as it is read) packed by the
 * kernels (then stored in the cache). `meanwhile` runs while the cache entry is read (the warm-up:
 * the reads proceed off the main thread, each chunk is hashed between its rounds). Returns the part
 * times (LoadTimes without compileMs).
 */
export async function placeWeights(
  graph: Graph,
  plan: Plan,
  tensors: () => Promise<TensorMap | WeightFeed>,
  kernels: KernelExports,
  memory: WebAssembly.Memory,
  compiled: CompiledKernels,
  cache: PackedWeightsCache | undefined,
  meanwhile: (pause: () => Promise<void> | undefined) => Promise<void>,
): Promise<ModelLoadTimes> {
  const region = (): Uint8Array => new Uint8Array(memory.buffer, plan.weightBase, plan.weightBytes);
  const key = cache && (await packedLayoutKey(cache.weightsId, compiled, plan));
  const entry = key && { label: packedEntryLabel(compiled, plan), key };
  const t = performance.now();
  if (cache && entry) {
    let pending = true;
    // The entry is read straight into the region while the warm-up runs (in its own memory).
    const reading = cache.read(entry, region()).finally(() => {
      pending = false;
    });
    const w0 = performance.now();
    // While the read is pending, every YIELD_EVERY-th pause gives the event loop a turn for the read's I/O steps.
    let pauses = 0;
    await meanwhile(() => (pending && ++pauses % YIELD_EVERY === 0 ? macrotask() : undefined));
    const warmUpMs = performance.now() - w0;
    const cached = await reading;
    const weightsMs = performance.now() - t - warmUpMs;
    if (cached === true) return { weightsMs, packMs: 0, cacheWriteMs: 0, warmUpMs, weightsFrom: "packed cache" };
    region().fill(0); // what a rejected entry left there: the packing below writes only the weights' places
    const cold = await fromTensors();
    return { ...cold, warmUpMs, weightsFrom: `tensors (packed cache: ${cached})` };
  }
  const w0 = performance.now();
  await meanwhile(() => undefined);
  const warmUpMs = performance.now() - w0;
  return { ...(await fromTensors()), warmUpMs, weightsFrom: cache ? "tensors (no layout key)" : "tensors" };

  async function fromTensors(): Promise<{ weightsMs: number; packMs: number; cacheWriteMs: number }> {
    const t0 = performance.now();
    const source = await tensors();
    const t1 = performance.now();
    // A feed reads while it writes: its time counts as packing.
    if (source instanceof Map) writeWeights(graph, plan, source, kernels, memory);
    else await writeWeightFeed(graph, plan, source, kernels, memory);
    const t2 = performance.now();
    if (cache && entry) await cache.write(entry, region());
    return { weightsMs: t1 - t0, packMs: t2 - t1, cacheWriteMs: performance.now() - t2 };
  }
}

/** Warm-up rounds between turns given to the event loop while the cache entry is read. */
const YIELD_EVERY = 8;

/**
 * A promise settled after one turn of the event loop (pending I/O callbacks run first), where the runtime
 * has setImmediate (Node, Deno, Bun); elsewhere undefined: setTimeout's clamping (up to 4 ms a call in
 * browsers) would cost more than the overlap gains.
 */
function macrotask(): Promise<void> | undefined {
  const immediate = (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate;
  return immediate && new Promise((resolve) => immediate(resolve));
}
