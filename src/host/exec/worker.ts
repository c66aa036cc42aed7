// Pool worker entry for Web Workers (browsers, Deno, Bun): wires the worker scope to createWorker.

import type { WorkerRequest } from "./protocol.js";
import { createWorker } from "./workerLoop.js";

const scope = globalThis as unknown as {
  postMessage(m: unknown): void;
  close(): void;
  onmessage: ((e: MessageEvent) => void) | null;
};
const handle = createWorker({ post: (m) => scope.postMessage(m), close: () => scope.close() });
scope.onmessage = (e) => handle(e.data as WorkerRequest);
