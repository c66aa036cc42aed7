// The Node entry's Runtime (src/host/engine/runtime.ts) for Node, Deno and Bun: files through
// node:fs, the core count through node:os, in Node pool workers as worker_threads (Deno and Bun
// run the web runtime's module Web Workers), SHA-256 through node:crypto, and the user cache:
// weight paths and default locations (weights.ts), packed weights (packedCache.ts) and the tile
// probe table (tileCache.ts).

import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { webRuntime, type Runtime } from "../host/engine/runtime.js";
import type { WorkerReply } from "../host/exec/protocol.js";
import { runtimeName } from "../host/runtimeName.js";
import { readModelFile } from "./onnxFiles.js";
import { openPackedCache } from "./packedCache.js";
import { nodeSha256 } from "./sha256.js";
import { openTileCache } from "./tileCache.js";
import { openWeights } from "./weights.js";

const isNode = runtimeName() === "node";

export const nodeRuntime: Runtime = {
  createSha256: nodeSha256,
  async readUrl(url) {
    if (url.protocol === "file:") return new Uint8Array(await readFile(fileURLToPath(url)));
    return webRuntime.readUrl(url);
  },
  kernelSource: webRuntime.kernelSource,
  cores() {
    return isNode ? Math.max(1, availableParallelism()) : webRuntime.cores();
  },
  workersUnavailable() {
    return isNode ? undefined : webRuntime.workersUnavailable();
  },
  spawnWorker(events) {
    if (!isNode) return webRuntime.spawnWorker(events);
    // No inherited Node options: flags such as --input-type, --title or --max-old-space-size are
    // refused or harmful in a worker, and the kernels need none.
    const w = new Worker(new URL("./worker.js", import.meta.url), { execArgv: [] });
    let exited = false;
    const exit = new Promise<void>((resolve) =>
      w.once("exit", () => {
        exited = true;
        resolve();
      }),
    );
    w.on("message", (m: WorkerReply) => events.onMessage(m));
    w.on("error", (e: Error) => events.onDeath(`worker failed: ${e.message}`));
    w.on("exit", (code: number) => events.onDeath(`worker exited with code ${code}`));
    return {
      post: (m) => w.postMessage(m),
      terminate: async () => {
        if (!exited) await w.terminate();
        await exit;
      },
    };
  },
  weightFiles: (source, expected, cacheDir, feed) => openWeights({ source, expected, cacheDir, feed }),
  openPackedCache,
  openTileStore: (cacheDir) => openTileCache(cacheDir),
  readModelFile,
};
