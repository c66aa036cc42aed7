// Pool workers as the host sees them: a started worker (WorkerHandle) reporting through
// WorkerEvents, and what a runtime offers for threads (WorkerHost). The web's WorkerHost
// (webWorkers) starts module Web Workers, which browsers, Deno and Bun provide; the Node entry's
// starts worker_threads (src/node/runtime.ts).

import type { WorkerReply, WorkerRequest } from "./protocol.js";

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

/** What a runtime offers for threads: its cores, whether workers run, and starting one. */
export interface WorkerHost {
  /** Logical cores the runtime reports (at least 1). */
  cores(): number;
  /** Why workers over shared memory cannot run here, or undefined when they can. */
  workersUnavailable(): string | undefined;
  /** Starts one pool worker (the module exec/worker.js or the runtime's equivalent). */
  spawnWorker(events: WorkerEvents): WorkerHandle;
}

/**
 * Wraps a started Web Worker; `what` names its script in messages. A module worker that fails to
 * load fires a plain `error` Event (no message, no file), so the reason then names the usual causes
 * instead of "undefined".
 */
export function wrapWebWorker(w: Worker, events: WorkerEvents, what: string): WorkerHandle {
  w.onmessage = (e: MessageEvent) => events.onMessage(e.data as WorkerReply);
  w.onerror = (e: Event) => {
    e.preventDefault();
    const message = (e as ErrorEvent).message;
    events.onDeath(
      message
        ? `worker failed: ${message}`
        : `the worker script ${what} did not load (not found, served with a non-JavaScript MIME type, or ` +
            "blocked by the page's Cross-Origin-Embedder-Policy or Content-Security-Policy; a bundler that does not " +
            'rewrite `new Worker(new URL(…, import.meta.url))` (esbuild) needs import "inception-wasm/inline")',
    );
  };
  w.onmessageerror = () => events.onDeath("worker could not read a message");
  return { post: (m) => w.postMessage(m), terminate: async () => w.terminate() };
}

/** The web's threads: navigator.hardwareConcurrency and module Web Workers of exec/worker.js. */
export const webWorkers: WorkerHost = {
  cores() {
    const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
    return Math.max(1, n ?? 1);
  },
  workersUnavailable() {
    return typeof (globalThis as { Worker?: unknown }).Worker === "function" ? undefined : "this runtime has no Worker";
  },
  spawnWorker(events) {
    // The literal pattern bundlers rewrite (Vite, webpack 5, Rollup, Parcel): keep it as is.
    const w = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    return wrapWebWorker(w, events, "exec/worker.js");
  },
};
