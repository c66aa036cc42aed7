// Pool worker entry for Node's worker_threads: wires parentPort to createWorker.

import { parentPort } from "node:worker_threads";
import type { WorkerRequest } from "../host/exec/protocol.js";
import { createWorker } from "../host/exec/workerLoop.js";

if (!parentPort) throw new Error("inception-wasm: worker.js must run as a worker thread");
const port = parentPort;
const handle = createWorker({ post: (m) => port.postMessage(m), close: () => port.close() });
port.on("message", (m: WorkerRequest) => handle(m));
