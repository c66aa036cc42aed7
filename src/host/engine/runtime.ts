// What the host needs from the JavaScript runtime beyond plain WebAssembly, as one object given to
// load() and the engine explicitly: reading bytes behind a URL, the cores, starting pool workers,
// SHA-256, each kernel build's default source, and (where the runtime has files) weight paths,
// the packed weights cache and the tile probe table. Each entry supplies its own: the browser
// entry webRuntime (fetch, navigator, module Web Workers; browsers, Deno, Bun, edge workers), the
// Node entry src/node/runtime.ts (node:fs, node:os, worker_threads, the user cache), the inline
// entry src/host/inline/runtime.ts (embedded builds and worker). Nothing installs one by side
// effect, and no module of the inference path imports a `node:` module.

import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import type { Sha256Hasher } from "../digest.js";
import { webWorkers, type WorkerHost } from "../exec/workers.js";
import type { ExpectedTensor, TensorMap } from "../ir/tensors.js";
import type { WeightFeed } from "../plan/plan.js";
import { packagedKernelSource, type KernelFiles } from "../wasm/sources.js";
import type { TileProbeStore } from "../wasm/tiles.js";
import type { PackedWeightsCache } from "./packedWeights.js";

/**
 * Resolves a weights path (or no weights option: the default locations) to tensors or, where `feed`
 * allows it (the wasm engine), to a feed read as it is written.
 */
export type WeightFiles = (
  source: string | undefined,
  expected: readonly ExpectedTensor[],
  cacheDir: string | undefined,
  feed: boolean,
) => Promise<TensorMap | WeightFeed>;

/** Opens the packed weights cache for a weights path (or the default locations); undefined when those weights are not cached that way. */
export type PackedCacheOpener = (
  source: string | undefined,
  cacheDir?: string,
) => Promise<PackedWeightsCache | undefined>;

/** Opens the tile probe table in a cache folder (default: the user cache). */
export type TileStoreOpener = (cacheDir?: string) => TileProbeStore;

/** The runtime services the library uses (see the header). */
export interface Runtime extends WorkerHost, KernelFiles {
  /** A fresh incremental SHA-256 (Web Crypto has none: the web's is @noble/hashes, about 150 MB/s). */
  createSha256(): Sha256Hasher;
  /** Weight paths and the default locations; without it only bytes, tensors, URLs and streams are weights. */
  weightFiles?: WeightFiles;
  /** The packed weights cache (README, Warm start); without it weights are packed at every load. */
  openPackedCache?: PackedCacheOpener;
  /** The tile probe table kept between processes; without it each process probes once per build. */
  openTileStore?: TileStoreOpener;
  /** Reads an ONNX model by path and the external data files beside it; without it ONNX models are weights only as bytes. */
  readModelFile?: ModelFileReader;
}

/**
 * An ONNX model read by path: its bytes and a reader of the external data files its tensors name
 * (`location` relative to the model's folder; the reader refuses paths outside it).
 */
export type ModelFileReader = (
  path: string,
) => Promise<{ bytes: Uint8Array; readExternal: (location: string) => Uint8Array }>;

/** The web runtime: fetch, navigator.hardwareConcurrency, module Web Workers, the package's build files. */
export const webRuntime: Runtime = {
  ...webWorkers,
  async readUrl(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  },
  kernelSource: packagedKernelSource,
  createSha256() {
    return nobleSha256.create();
  },
};
