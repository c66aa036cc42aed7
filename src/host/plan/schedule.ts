// Static schedule for the worker pool: a plan's steps grouped into stages of independent
// steps, each step split into tasks over ranges of its outputs.
//
// Stage rule: a step joins the stage after the last earlier step it conflicts with (reads
// what that step writes, writes what it reads or writes). Conflicts come from the byte
// ranges each kernel call reads and writes (activations and concat channel ranges; weights
// are read-only and scratch is per thread), so memory reused by liveness is respected too.
// In an Inception module the 1x1, 3x3_reduce, 5x5_reduce and pool steps share a stage,
// then 3x3, 5x5 and pool_proj.
//
// Determinism: a task covers whole output elements (rows x columns of a step's output),
// never part of a reduction, and each output element belongs to exactly one task. The
// kernels reduce each element in an order fixed by the step alone, so any thread may run
// any task of a stage in any order and the result has the same bits.

import { ArgumentError } from "../errors.js";
import type { KernelName, Plan, Step } from "./plan.js";

/** One kernel call: step `step` over rows [r0, r1) and columns [c0, c1). */
export interface Task {
  step: number;
  r0: number;
  r1: number;
  c0: number;
  c1: number;
  /** Estimated work, in multiply-add equivalents. */
  cost: number;
}

/** Steps that may run at the same time, and their tasks (largest first). */
export interface Stage {
  steps: number[];
  tasks: Task[];
}

export interface Schedule {
  threads: number;
  stages: Stage[];
}

/** Half-open byte range [start, end). */
interface ByteRange { start: number; end: number }

/** Bytes a step reads and writes (activations only; weights never change while running). */
export function stepAccesses(step: Step): { reads: ByteRange[]; writes: ByteRange[] } {
  const a = step.args;
  const r = (ptr: number, floats: number): ByteRange => ({ start: ptr, end: ptr + floats * 4 });
  switch (step.kernel) {
    case "gemmDense": // [w, b, M, K, N, src, dst, ldc, ...]
      return { reads: [r(a[5], a[3] * a[4])], writes: [r(a[6], (a[2] - 1) * a[7] + a[4])] };
    case "gemmConv": { // [w, b, M, K, N, src, H, W, kh, kw, stride, pad, outW, dst, ldc, ...]
      const inC = a[3] / (a[8] * a[9]);
      return { reads: [r(a[5], inC * a[6] * a[7])], writes: [r(a[13], (a[2] - 1) * a[14] + a[4])] };
    }
    case "maxPool":
    case "avgPool": // [src, dst, H, W, outH, outW, k, stride, pad, c0, c1]
      return { reads: [r(a[0], a[10] * a[2] * a[3])], writes: [r(a[1], a[10] * a[4] * a[5])] };
    case "lrn": // [src, dst, C, HW, ...]
      return { reads: [r(a[0], a[2] * a[3])], writes: [r(a[1], a[2] * a[3])] };
    case "fullyConnected": // [w, b, x, y, inF, o0, o1]
      return { reads: [r(a[2], a[4])], writes: [r(a[3], step.rows)] };
    case "softmax": // [src, dst, n]
      return { reads: [r(a[0], a[2])], writes: [r(a[1], a[2])] };
  }
}

const overlaps = (x: ByteRange[], y: ByteRange[]): boolean =>
  x.some((p) => y.some((q) => p.start < q.end && q.start < p.end));

/** Groups step indices into stages: each step goes right after the last step it conflicts with. */
export function buildStages(steps: readonly Step[]): number[][] {
  const access = steps.map(stepAccesses);
  const stageOf: number[] = [];
  const stages: number[][] = [];
  steps.forEach((_, i) => {
    let stage = 0;
    for (let j = 0; j < i; j++) {
      const a = access[i], b = access[j];
      if (overlaps(a.reads, b.writes) || overlaps(a.writes, b.reads) || overlaps(a.writes, b.writes)) {
        stage = Math.max(stage, stageOf[j] + 1);
      }
    }
    stageOf.push(stage);
    (stages[stage] ??= []).push(i);
  });
  return stages;
}

/** Estimated cost of a whole step in multiply-add equivalents (scalar kernels weigh more per op). */
export function stepCost(step: Step): number {
  const a = step.args;
  switch (step.kernel) {
    case "gemmDense":
    case "gemmConv":
    case "fullyConnected":
      return step.multiplyAdds;
    case "maxPool":
    case "avgPool":
      return 4 * a[10] * a[4] * a[5] * a[6] * a[6];
    case "lrn":
      return 8 * a[2] * a[3] * a[4];
    case "softmax":
      return 8 * a[2];
  }
}

/** Below this many multiply-add equivalents a step is not worth splitting (~ a few µs). */
const MIN_TASK_COST = 100_000;

/** Even split of `units` aligned units of `align` elements (total `n` elements) into `parts`. */
function ranges(n: number, align: number, parts: number): [number, number][] {
  const units = Math.ceil(n / align);
  const out: [number, number][] = [];
  for (let p = 0; p < parts; p++) {
    const u0 = Math.floor((p * units) / parts), u1 = Math.floor(((p + 1) * units) / parts);
    if (u1 > u0) out.push([u0 * align, Math.min(n, u1 * align)]);
  }
  return out;
}

const isGemm = (k: KernelName): boolean => k === "gemmDense" || k === "gemmConv";

/**
 * Splits a step into about `parts` tasks. GEMMs split columns (output pixels) first:
 * measured here, column tasks cost nothing extra even one 8-column panel wide, while each
 * row split repacks (im2col) the task's B panels: 8 row tasks made conv2/3x3 1.5x and
 * conv1 3x slower. Rows are split only when there are too few column panels (7x7 maps).
 * Other kernels split their rows (channels / outputs).
 */
export function splitStep(step: Step, index: number, parts: number): Task[] {
  const cost = stepCost(step);
  const rowsSplittable = step.rangeArg >= 0;
  const colsSplittable = step.colArg >= 0;
  const rowUnits = rowsSplittable ? Math.ceil(step.rows / step.rowAlign) : 1;
  const colUnits = colsSplittable ? Math.ceil(step.cols / step.colAlign) : 1;
  parts = Math.max(1, Math.min(parts, rowUnits * colUnits));
  let best = { r: 1, c: 1 };
  if (isGemm(step.kernel)) {
    const c = Math.min(parts, colUnits);
    best = { c, r: 2 * c <= parts ? Math.min(rowUnits, Math.ceil(parts / c)) : 1 };
  } else if (rowsSplittable) {
    best = { r: Math.min(parts, rowUnits), c: 1 };
  }
  const rowRanges = rowsSplittable ? ranges(step.rows, step.rowAlign, best.r) : [[0, step.rows] as [number, number]];
  const colRanges = colsSplittable ? ranges(step.cols, step.colAlign, best.c) : [[0, step.cols] as [number, number]];
  const tasks: Task[] = [];
  for (const [r0, r1] of rowRanges) {
    for (const [c0, c1] of colRanges) {
      tasks.push({ step: index, r0, r1, c0, c1, cost: (cost * (r1 - r0) * (c1 - c0)) / (step.rows * step.cols) });
    }
  }
  return tasks;
}

/**
 * The schedule of `plan` for `threads` threads: stages of independent steps, each split
 * into tasks so that a stage has about 4 tasks per thread (1 task per step for one thread).
 * A pure function of the plan's steps and the thread count.
 */
export function schedulePlan(plan: Pick<Plan, "steps">, threads: number): Schedule {
  if (!(Number.isInteger(threads) && threads >= 1)) throw new ArgumentError("schedulePlan", "threads", "a positive integer", threads);
  const target = threads === 1 ? 1 : 4 * threads;
  const stages = buildStages(plan.steps).map((steps): Stage => {
    const costs = steps.map((i) => stepCost(plan.steps[i]));
    const total = costs.reduce((a, b) => a + b, 0);
    const tasks: Task[] = [];
    steps.forEach((i, j) => {
      const share = threads === 1 || total === 0 ? 1 : Math.round((target * costs[j]) / total);
      const parts = Math.max(1, Math.min(share, Math.floor(costs[j] / MIN_TASK_COST)));
      tasks.push(...splitStep(plan.steps[i], i, parts));
    });
    // Largest first, so the last tasks claimed are small ones (a stable, deterministic order).
    tasks.sort((x, y) => y.cost - x.cost || x.step - y.step || x.r0 - y.r0 || x.c0 - y.c0);
    return { steps, tasks };
  });
  return { threads, stages };
}

/** Kernel ids in encoded schedules. */
export const KERNEL_IDS: readonly KernelName[] = ["gemmDense", "gemmConv", "maxPool", "avgPool", "lrn", "fullyConnected", "softmax"];

/**
 * A schedule flattened for transfer to workers: tasks in stage order; for task t,
 * args[offsets[t] .. offsets[t+1]) is its full argument list (ranges set, scratch slot
 * set to 0: each thread writes its own scratch at scratchArg[t]).
 */
export interface EncodedSchedule {
  /** First task index of each stage, plus the total task count at the end. */
  stageStarts: Int32Array;
  kernel: Int32Array;
  scratchArg: Int32Array;
  /** Step index of each task (for error messages). */
  step: Int32Array;
  offsets: Int32Array;
  args: Float64Array;
}

export function encodeSchedule(plan: Pick<Plan, "steps">, schedule: Schedule): EncodedSchedule {
  const tasks = schedule.stages.flatMap((s) => s.tasks);
  const stageStarts = new Int32Array(schedule.stages.length + 1);
  schedule.stages.reduce((start, s, i) => { stageStarts[i] = start; return start + s.tasks.length; }, 0);
  stageStarts[schedule.stages.length] = tasks.length;
  const kernel = new Int32Array(tasks.length), scratchArg = new Int32Array(tasks.length), stepOf = new Int32Array(tasks.length);
  const offsets = new Int32Array(tasks.length + 1);
  const args: number[] = [];
  tasks.forEach((t, i) => {
    const step = plan.steps[t.step];
    const a = step.args.slice();
    if (step.rangeArg >= 0) { a[step.rangeArg] = t.r0; a[step.rangeArg + 1] = t.r1; }
    if (step.colArg >= 0) { a[step.colArg] = t.c0; a[step.colArg + 1] = t.c1; }
    if (step.scratchArg >= 0) a[step.scratchArg] = 0;
    kernel[i] = KERNEL_IDS.indexOf(step.kernel);
    scratchArg[i] = step.scratchArg;
    stepOf[i] = t.step;
    offsets[i] = args.length;
    args.push(...a);
  });
  offsets[tasks.length] = args.length;
  return { stageStarts, kernel, scratchArg, step: stepOf, offsets, args: Float64Array.from(args) };
}

/** Per task, its argument list with `scratch` in place: the form threads call kernels with. */
export function decodeTasks(e: EncodedSchedule, scratch: number): { kernel: KernelName; args: number[] }[] {
  const out: { kernel: KernelName; args: number[] }[] = [];
  for (let t = 0; t + 1 < e.offsets.length; t++) {
    const args = Array.from(e.args.subarray(e.offsets[t], e.offsets[t + 1]));
    if (e.scratchArg[t] >= 0) args[e.scratchArg[t]] = scratch;
    out.push({ kernel: KERNEL_IDS[e.kernel[t]], args });
  }
  return out;
}
