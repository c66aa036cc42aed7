// The Node platform (src/host/platform.ts) for Node, Deno and Bun: files through node:fs, the core
// count through node:os, and in Node pool workers as worker_threads (Deno and Bun run the web
// platform's module Web Workers). Installed by the Node entry (src/node/index.ts) when imported.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { runtimeName } from "../host/runtime.js";
import { setPlatform, webPlatform, type Platform } from "../host/platform.js";
import type { WorkerReply } from "../host/exec/protocol.js";

const isNode = runtimeName() === "node";

export const nodePlatform: Platform = {
  createSha256() {
    const hash = createHash("sha256");
    return { update: (bytes) => hash.update(bytes), digest: () => new Uint8Array(hash.digest()) };
  },
  async readUrl(url) {
    if (url.protocol === "file:") return new Uint8Array(await readFile(fileURLToPath(url)));
    return webPlatform.readUrl(url);
  },
  cores() {
    return isNode ? Math.max(1, availableParallelism()) : webPlatform.cores();
  },
  workersUnavailable() {
    return isNode ? undefined : webPlatform.workersUnavailable();
  },
  spawnWorker(events) {
    if (!isNode) return webPlatform.spawnWorker(events);
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
};

setPlatform(nodePlatform);
