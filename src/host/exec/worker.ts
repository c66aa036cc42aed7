// Worker entry of the pool (pool.ts): instantiates the kernels over the shared memory,
// then claims and runs tasks of the stages the calling thread dispatches through the
// control words. It leaves its wait loop only when told a message is coming (a new
// schedule) or to exit, so the message queue is read only then.

import { instantiateKernels, type KernelExports } from "../wasm/kernels.js";
import { runtimeName } from "../runtime.js";
import { decodeTasks, type EncodedSchedule } from "../plan/schedule.js";
import { C, CMD_EXIT, CMD_MESSAGE, KERNEL_OP_SLOT, PROFILE_SLOTS, type WorkerInit, type WorkerReply, type WorkerRequest } from "./pool.js";

interface Port { post(message: WorkerReply): void; close(): void }

let kernels: KernelExports;
let ctrl: Int32Array<ArrayBufferLike>;
let busy: Float64Array<ArrayBufferLike>;
let lane = 0;
let spinMs = 0;
let seen = 0;
let tasks: { kernel: keyof KernelExports; args: number[] }[] = [];
let stageStarts: Int32Array<ArrayBufferLike> = new Int32Array(1);
let kernelOf: Int32Array<ArrayBufferLike> = new Int32Array(0);
let port: Port;

function handle(message: WorkerRequest): void {
  if (message.type === "init") {
    init(message);
  } else if (message.type === "schedule") {
    const e: EncodedSchedule = message.schedule;
    tasks = decodeTasks(e, message.scratch);
    stageStarts = e.stageStarts;
    kernelOf = e.kernel;
    port.post({ type: "ack", id: message.id });
  }
  loop();
}

function init(message: WorkerInit): void {
  lane = message.lane;
  ctrl = new Int32Array(message.control);
  busy = new Float64Array(message.profile);
  spinMs = message.spinMs;
  seen = Atomics.load(ctrl, C.GEN);
  try {
    kernels = instantiateKernels(message.module, message.memory);
    kernels.probePeak(0, 1000); // warm: the first call of a kernel on this thread
  } catch (error) {
    port.post({ type: "fatal", message: `instantiation failed: ${(error as Error).message}` });
    return;
  }
  port.post({ type: "ready", lane });
}

/** Waits for the next generation (bounded spin, then Atomics.wait); runs stages; returns for messages. */
function loop(): void {
  if (!ctrl || !kernels) return;
  for (;;) {
    let g = Atomics.load(ctrl, C.GEN);
    if (g === seen && spinMs > 0) {
      const t0 = performance.now();
      for (let i = 1; g === seen; i++) {
        if ((i & 63) === 0 && performance.now() - t0 > spinMs) break;
        g = Atomics.load(ctrl, C.GEN);
      }
    }
    if (g === seen) {
      Atomics.add(ctrl, C.SLEEPERS, 1);
      Atomics.wait(ctrl, C.GEN, seen);
      Atomics.sub(ctrl, C.SLEEPERS, 1);
      continue;
    }
    seen = g;
    const cmd = Atomics.load(ctrl, C.CMD);
    if (cmd === CMD_MESSAGE) return;
    if (cmd === CMD_EXIT) { port.close(); return; }
    work();
  }
}

/** Claims tasks of the current stage until none is left (see pool.ts for the claim word). */
function work(): void {
  const stages = stageStarts.length - 1;
  const profiling = Atomics.load(ctrl, C.PROFILE) !== 0;
  for (;;) {
    const v = Atomics.load(ctrl, C.CLAIM);
    const s = v >>> 16, j = v & 0xffff;
    if (s >= stages) return;
    const t = stageStarts[s] + j;
    const end = stageStarts[s + 1];
    if (t >= end) return;
    if (Atomics.compareExchange(ctrl, C.CLAIM, v, v + 1) !== v) continue;
    if (Atomics.load(ctrl, C.FAIL) === 0) {
      Atomics.store(ctrl, C.CURRENT + lane, t + 1);
      const t0 = profiling ? performance.now() : 0;
      try {
        const task = tasks[t];
        (kernels[task.kernel] as (...a: number[]) => void)(...task.args);
      } catch (error) {
        if (Atomics.compareExchange(ctrl, C.FAIL, 0, t + 1) === 0) {
          port.post({ type: "error", task: t, message: `${(error as Error)?.message ?? String(error)} (on worker ${lane})` });
        }
      }
      if (profiling) busy[lane * PROFILE_SLOTS + KERNEL_OP_SLOT[kernelOf[t]]] += performance.now() - t0;
      Atomics.store(ctrl, C.CURRENT + lane, 0);
    }
    if (Atomics.add(ctrl, C.DONE, 1) + 1 === end - stageStarts[s]) Atomics.notify(ctrl, C.DONE);
  }
}

if (runtimeName() === "node") {
  const { parentPort } = await import("node:worker_threads");
  if (!parentPort) throw new Error("worker.js must run as a worker thread");
  const p = parentPort;
  port = { post: (m) => p.postMessage(m), close: () => p.close() };
  p.on("message", handle);
} else {
  const scope = globalThis as unknown as { postMessage(m: unknown): void; close(): void; onmessage: ((e: MessageEvent) => void) | null };
  port = { post: (m) => scope.postMessage(m), close: () => scope.close() };
  scope.onmessage = (e) => handle(e.data as WorkerRequest);
}
