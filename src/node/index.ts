// The Node entry (Node, Deno, Bun; package condition "node"): everything of the browser-safe entry
// (src/index.ts), plus file access: wasm builds read with node:fs, pool workers as worker_threads
// (platform.ts), weights given as paths or found in the default locations (weights.ts), and the
// user cache's packed weights (packedCache.ts) and tile probe table (tileCache.ts).

import { installPackedCache, installTileCache, installWeightFiles } from "../model/api/classifier.js";
import { installModelFileReader } from "../model/api/network.js";
import { readModelFile } from "./onnxFiles.js";
import { openPackedCache } from "./packedCache.js";
import "./platform.js";
import { openTileCache } from "./tileCache.js";
import { openWeights } from "./weights.js";

installWeightFiles((source, expected, cacheDir, feed) => openWeights({ source, expected, cacheDir, feed }));
installPackedCache(openPackedCache);
installModelFileReader(readModelFile);
installTileCache((cacheDir) => openTileCache(cacheDir));

export * from "../index.js";
export { readLabelsFile } from "./labels.js";
export { loadWeights, readMatWeights, resolveDataDir } from "./weights.js";
