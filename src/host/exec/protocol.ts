// The worker pool's wire protocol, shared by the calling thread (pool.ts) and the workers
// (worker.ts): the control words, the commands, the messages, the encoded schedule, and the one
// claim loop every thread runs.
//
// Control words (an Int32Array over a small SharedArrayBuffer):
//   GEN       bumped once per command; idle workers spin briefly on it, then Atomics.wait
//   CMD       what a bump means: run a stage, read a message (new schedule), or exit
//   CLAIM     stage << 16 | next task of the stage; threads claim with compareExchange, so a
//             successful claim is always a task of the stage being run
//   DONE      tasks of the stage finished (skipped ones included); the last one notifies
//   FAIL      0, or 1 + the task whose kernel threw; later tasks of the stage are skipped
//   SLEEPERS  workers inside Atomics.wait (the caller notifies only when there are any)
//   PROFILE   1 while a profiled run records busy time per op
//   CURRENT+l what thread l holds: 0 nothing, CLAIMING while it may hold a claim it has not
//             yet named, else 1 + the task it runs or has just counted in DONE. A task is counted
//             before its thread lets go of it, so a stage is lost to a dead worker only when DONE
//             stays short while no live thread holds anything (pool.ts stageLost).

import {
  encodeCall,
  KERNEL_NAMES,
  PROFILE_OPS,
  PROFILE_SLOT_OF,
  setEncodedScratch,
  type KernelCall,
  type KernelName,
} from "../wasm/calls.js";

/** Control word indices. */
export const C = { GEN: 0, CMD: 1, CLAIM: 2, DONE: 3, FAIL: 4, SLEEPERS: 5, PROFILE: 6, CURRENT: 16 } as const;
/** Commands, the value of CMD when GEN is bumped. */
export const CMD = { RUN: 0, MESSAGE: 1, EXIT: 2 } as const;
/** Int32 words of the control block (CURRENT has one word per thread). */
export const CONTROL_WORDS = 1024;
/** Most threads the control block has CURRENT words for. */
export const MAX_POOL_THREADS = CONTROL_WORDS - C.CURRENT;
/** CURRENT's value while a thread is inside the claim loop between tasks. */
export const CLAIMING = -1;
/** The claim word between runs: a stage index no schedule reaches, so no thread claims anything. */
export const IDLE_CLAIM = 0x7fff << 16;
/** Most stages and tasks per stage the claim word can address. */
export const MAX_STAGES = 0x7fff - 1;
export const MAX_STAGE_TASKS = 0xffff;
/** Busy-time slots per thread in the profile buffer (one per profiled op). */
export const PROFILE_SLOTS = PROFILE_OPS.length;

/**
 * A schedule flattened for transfer to workers: tasks in stage order; for task t,
 * args[offsets[t] .. offsets[t+1]) is its kernel's arguments in parameter order (ranges set, the
 * scratch argument 0: each thread puts its own scratch there).
 */
export interface EncodedSchedule {
  /** First task index of each stage, plus the total task count at the end. */
  stageStarts: Int32Array;
  /** Kernel id (index into KERNEL_NAMES) of each task. */
  kernel: Int32Array;
  /** Step index of each task (for error messages). */
  step: Int32Array;
  offsets: Int32Array;
  args: Float64Array;
}

/** Encodes tasks given as (stage, step, call) in stage order. */
export function encodeSchedule(stages: readonly (readonly { step: number; call: KernelCall }[])[]): EncodedSchedule {
  const tasks = stages.flat();
  const stageStarts = new Int32Array(stages.length + 1);
  stages.reduce((start, s, i) => {
    stageStarts[i] = start;
    return start + s.length;
  }, 0);
  stageStarts[stages.length] = tasks.length;
  const kernel = new Int32Array(tasks.length);
  const step = new Int32Array(tasks.length);
  const offsets = new Int32Array(tasks.length + 1);
  const args: number[] = [];
  tasks.forEach((t, i) => {
    kernel[i] = KERNEL_NAMES.indexOf(t.call.kernel);
    step[i] = t.step;
    offsets[i] = args.length;
    args.push(...encodeCall(t.call));
  });
  offsets[tasks.length] = args.length;
  return { stageStarts, kernel, step, offsets, args: Float64Array.from(args) };
}

/** A task as a thread invokes it: the kernel and its positional arguments with this thread's scratch. */
export interface DecodedTask {
  kernel: KernelName;
  args: number[];
}

/** Every task of an encoded schedule, with `scratch` as its scratch argument. */
export function decodeTasks(e: EncodedSchedule, scratch: number): DecodedTask[] {
  const out: DecodedTask[] = [];
  for (let t = 0; t + 1 < e.offsets.length; t++) {
    const kernel = KERNEL_NAMES[e.kernel[t]];
    const args = Array.from(e.args.subarray(e.offsets[t], e.offsets[t + 1]));
    setEncodedScratch(kernel, args, scratch);
    out.push({ kernel, args });
  }
  return out;
}

/** First message to a worker: what it instantiates and the shared buffers it works on. */
export interface WorkerInit {
  type: "init";
  lane: number;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  profile: SharedArrayBuffer;
  spinMs: number;
}
/** Messages to a worker. */
export type WorkerRequest = WorkerInit | { type: "schedule"; id: number; schedule: EncodedSchedule; scratch: number };
/** Messages from a worker. */
export type WorkerReply =
  | { type: "ready"; lane: number }
  | { type: "ack"; id: number }
  | { type: "error"; task: number; message: string }
  | { type: "fatal"; message: string };

/** What one thread needs to claim and run tasks. */
export interface ClaimContext {
  ctrl: Int32Array<ArrayBufferLike>;
  /** This thread's lane: 0 for the calling thread, 1.. for workers. */
  lane: number;
  stageStarts: Int32Array<ArrayBufferLike>;
  kernelOf: Int32Array<ArrayBufferLike>;
  /** Busy milliseconds per lane and profile slot (lane * PROFILE_SLOTS + slot). */
  busy: Float64Array<ArrayBufferLike>;
  /** Runs task t (a global task index). */
  run(task: number): void;
}

/**
 * Claims and runs tasks of the stage the claim word names until the stage has none left; every
 * claimed task counts as done (a task after a failure is skipped, not run), and the thread that
 * completes a stage's last task notifies DONE. Returns the task and error when this thread's task
 * was the stage's first failure (FAIL then holds 1 + that task), else undefined.
 */
export function claimAndRun(c: ClaimContext): { task: number; error: unknown } | undefined {
  const { ctrl, lane, stageStarts } = c;
  const stages = stageStarts.length - 1;
  const profiling = Atomics.load(ctrl, C.PROFILE) !== 0;
  const holding = C.CURRENT + lane;
  let failure: { task: number; error: unknown } | undefined;
  Atomics.store(ctrl, holding, CLAIMING);
  for (;;) {
    const v = Atomics.load(ctrl, C.CLAIM);
    const s = v >>> 16;
    const j = v & 0xffff;
    if (s >= stages) break;
    const start = stageStarts[s];
    const count = stageStarts[s + 1] - start;
    if (j >= count) break;
    if (Atomics.compareExchange(ctrl, C.CLAIM, v, v + 1) !== v) continue;
    const t = start + j;
    Atomics.store(ctrl, holding, t + 1);
    if (Atomics.load(ctrl, C.FAIL) === 0) {
      const t0 = profiling ? performance.now() : 0;
      try {
        c.run(t);
      } catch (error) {
        if (Atomics.compareExchange(ctrl, C.FAIL, 0, t + 1) === 0) failure = { task: t, error };
      }
      if (profiling) c.busy[lane * PROFILE_SLOTS + PROFILE_SLOT_OF[c.kernelOf[t]]] += performance.now() - t0;
    }
    if (Atomics.add(ctrl, C.DONE, 1) + 1 === count) Atomics.notify(ctrl, C.DONE);
    Atomics.store(ctrl, holding, CLAIMING);
  }
  Atomics.store(ctrl, holding, 0);
  return failure;
}
