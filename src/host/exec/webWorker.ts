// A Web Worker as a pool worker (WorkerHandle): its replies, its death with a reason a person can
// act on. A module worker that fails to load fires a plain `error` Event (no message, no file), so
// the reason then names the usual causes instead of "undefined".

import type { WorkerEvents, WorkerHandle } from "../platform.js";
import type { WorkerReply } from "./protocol.js";

/** Wraps a started Web Worker; `what` names its script in messages. */
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
