// The Node entry (Node, Deno, Bun; package condition "node"): everything of the browser-safe entry
// (src/index.ts), with GoogLeNet on the Node runtime (runtime.ts): wasm builds read with node:fs,
// pool workers as worker_threads, weights given as paths or found in the default locations
// (weights.ts), and the user cache's packed weights (packedCache.ts) and tile probe table
// (tileCache.ts).

import { GoogLeNet as Network } from "../api/googlenet.js";
import { nodeRuntime } from "./runtime.js";

export * from "../index.js";

/** GoogLeNet on the Node runtime: files, worker threads, the user cache. */
export class GoogLeNet extends Network {
  protected static override readonly runtime = nodeRuntime;
}

export { readLabelsFile } from "./labels.js";
export { loadWeights, readMatWeights, resolveDataDir } from "./weights.js";
