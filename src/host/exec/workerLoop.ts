// A pool worker's work (pool.ts starts the workers): instantiate the kernels over the shared
// memory, then claim and run tasks of the stages the calling thread dispatches through the
// control words (protocol.ts). It leaves its wait loop only when told a message is coming (a new
// schedule) or to exit, so the message queue is read only then. The runtime-specific entries
// (worker.ts for Web Workers, src/node/worker.ts for worker_threads) only wire up the port.

import { instantiateKernels, type KernelExports } from "../wasm/kernels.js";
import {
  C,
  CMD,
  claimAndRun,
  decodeTasks,
  type DecodedTask,
  type WorkerInit,
  type WorkerReply,
  type WorkerRequest,
} from "./protocol.js";

/** How a worker talks to the calling thread. */
export interface WorkerPort {
  post(message: WorkerReply): void;
  close(): void;
}

interface WorkerState {
  init: WorkerInit;
  kernels: KernelExports;
  ctrl: Int32Array;
  busy: Float64Array;
  seen: number;
  tasks: DecodedTask[];
  stageStarts: Int32Array;
  kernelOf: Int32Array;
}

/** The message handler of one worker: feed it every message the worker receives. */
export function createWorker(port: WorkerPort): (message: WorkerRequest) => void {
  let state: WorkerState | undefined;
  return (message) => {
    if (message.type === "init") {
      state = init(message, port);
    } else if (message.type === "schedule" && state) {
      state.tasks = decodeTasks(message.schedule, message.scratch);
      state.stageStarts = message.schedule.stageStarts;
      state.kernelOf = message.schedule.kernel;
      port.post({ type: "ack", id: message.id });
    }
    if (state) loop(state, port);
  };
}

function init(message: WorkerInit, port: WorkerPort): WorkerState | undefined {
  let kernels: KernelExports;
  try {
    kernels = instantiateKernels(message.module, message.memory);
    kernels.probePeak(0, 1000); // the first call of a kernel on this thread
  } catch (error) {
    port.post({ type: "fatal", message: `instantiation failed: ${(error as Error).message}` });
    return undefined;
  }
  const ctrl = new Int32Array(message.control);
  // Read the generation before saying ready: the caller may bump it (to send a schedule) right after.
  const seen = Atomics.load(ctrl, C.GEN);
  port.post({ type: "ready", lane: message.lane });
  return {
    init: message,
    kernels,
    ctrl,
    busy: new Float64Array(message.profile),
    seen,
    tasks: [],
    stageStarts: new Int32Array(1),
    kernelOf: new Int32Array(0),
  };
}

/** Waits for the next generation (bounded spin, then Atomics.wait); runs stages; returns for messages. */
function loop(w: WorkerState, port: WorkerPort): void {
  const { ctrl } = w;
  const spinMs = w.init.spinMs;
  for (;;) {
    let g = Atomics.load(ctrl, C.GEN);
    if (g === w.seen && spinMs > 0) {
      const t0 = performance.now();
      for (let i = 1; g === w.seen; i++) {
        if ((i & 63) === 0 && performance.now() - t0 > spinMs) break;
        g = Atomics.load(ctrl, C.GEN);
      }
    }
    if (g === w.seen) {
      Atomics.add(ctrl, C.SLEEPERS, 1);
      Atomics.wait(ctrl, C.GEN, w.seen);
      Atomics.sub(ctrl, C.SLEEPERS, 1);
      continue;
    }
    w.seen = g;
    const cmd = Atomics.load(ctrl, C.CMD);
    if (cmd === CMD.MESSAGE) return;
    if (cmd === CMD.EXIT) {
      port.close();
      return;
    }
    const lane = w.init.lane;
    const failure = claimAndRun({
      ctrl,
      lane,
      stageStarts: w.stageStarts,
      kernelOf: w.kernelOf,
      busy: w.busy,
      run: (t) => {
        const task = w.tasks[t];
        w.kernels[task.kernel](...task.args);
      },
    });
    if (failure) {
      const { task, error } = failure;
      port.post({ type: "error", task, message: `${(error as Error)?.message ?? String(error)} (on worker ${lane})` });
    }
  }
}
