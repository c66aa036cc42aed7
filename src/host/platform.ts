// What the host needs from the JavaScript runtime beyond plain WebAssembly: reading a `file:` URL,
// the core count, and starting worker threads. The default is the web platform (fetch, navigator,
// module Web Workers), which browsers, Deno and Bun provide; the Node entry (src/node/) installs one
// backed by node:fs, node:os and node:worker_threads. No module of the inference path imports a
// `node:` module, so a bundler following the browser entry never meets one.

import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import type { Sha256Hasher } from "./digest.js";
import type { WorkerReply, WorkerRequest } from "./exec/protocol.js";
import { wrapWebWorker } from "./exec/webWorker.js";

/** A started worker thread, the same for Web Workers and Node's worker_threads. */
export interface WorkerHandle {
  post(message: WorkerRequest): void;
  /** Stops the worker; resolves once it has exited. */
  terminate(): Promise<void>;
}

/** Callbacks a worker reports through: its replies, and its death (an error or an exit) with the reason. */
export interface WorkerEvents {
  onMessage(reply: WorkerReply): void;
  onDeath(reason: string): void;
}

/** The runtime services the host uses. */
export interface Platform {
  /** Reads the bytes behind a URL (`file:` URLs included where the runtime has files). */
  readUrl(url: URL): Promise<Uint8Array>;
  /** Logical cores the runtime reports (at least 1). */
  cores(): number;
  /** Why workers over shared memory cannot run here, or undefined when they can. */
  workersUnavailable(): string | undefined;
  /** Starts one pool worker (the module exec/worker.js or the platform's equivalent). */
  spawnWorker(events: WorkerEvents): WorkerHandle;
  /** A fresh incremental SHA-256 (Web Crypto has none: the web's is @noble/hashes, about 150 MB/s). */
  createSha256(): Sha256Hasher;
}

/** The web platform: fetch, navigator.hardwareConcurrency and module Web Workers. */
export const webPlatform: Platform = {
  async readUrl(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  },
  cores() {
    const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
    return Math.max(1, n ?? 1);
  },
  workersUnavailable() {
    return typeof (globalThis as { Worker?: unknown }).Worker === "function" ? undefined : "this runtime has no Worker";
  },
  spawnWorker(events) {
    // The literal pattern bundlers rewrite (Vite, webpack 5, Rollup, Parcel): keep it as is.
    const w = new Worker(new URL("./exec/worker.js", import.meta.url), { type: "module" });
    return wrapWebWorker(w, events, "exec/worker.js");
  },
  createSha256() {
    return nobleSha256.create();
  },
};

let current: Platform = webPlatform;

/** The platform in use. */
export function platform(): Platform {
  return current;
}

/** Replaces the platform (the Node entry does this once when imported). */
export function setPlatform(p: Platform): void {
  current = p;
}
