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
import { callAccesses, callCost, narrowCall, type ByteRange, type KernelCall } from "../wasm/calls.js";
import type { Plan, Step } from "./plan.js";

/** One kernel call: step `step` narrowed to a range of its outputs. */
export interface Task {
  step: number;
  /** The step's call over the task's rows and columns (scratch 0: each thread sets its own). */
  call: KernelCall;
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

const overlaps = (x: ByteRange[], y: ByteRange[]): boolean =>
  x.some((p) => y.some((q) => p.start < q.end && q.start < p.end));

/** Groups step indices into stages: each step goes right after the last step it conflicts with. */
export function buildStages(steps: readonly Step[]): number[][] {
  const access = steps.map((s) => callAccesses(s.call));
  const stageOf: number[] = [];
  const stages: number[][] = [];
  steps.forEach((_, i) => {
    let stage = 0;
    for (let j = 0; j < i; j++) {
      const a = access[i],
        b = access[j];
      if (overlaps(a.reads, b.writes) || overlaps(a.writes, b.reads) || overlaps(a.writes, b.writes)) {
        stage = Math.max(stage, stageOf[j] + 1);
      }
    }
    stageOf.push(stage);
    (stages[stage] ??= []).push(i);
  });
  return stages;
}

/** Below this many multiply-add equivalents a step is not worth splitting (~ a few µs). */
const MIN_TASK_COST = 100_000;

/** Even split of `units` aligned units of `align` elements (total `n` elements) into `parts`. */
function ranges(n: number, align: number, parts: number): [number, number][] {
  const units = Math.ceil(n / align);
  const out: [number, number][] = [];
  for (let p = 0; p < parts; p++) {
    const u0 = Math.floor((p * units) / parts),
      u1 = Math.floor(((p + 1) * units) / parts);
    if (u1 > u0) out.push([u0 * align, Math.min(n, u1 * align)]);
  }
  return out;
}

/**
 * Splits a step into about `parts` tasks. GEMMs (the calls with column ranges) split columns
 * (output pixels) first: measured here, column tasks cost nothing extra even one 8-column panel
 * wide, while each row split repacks (im2col) the task's B panels: 8 row tasks made conv2/3x3 1.5x
 * and conv1 3x slower. Rows are split only when there are too few column panels (7x7 maps).
 * Other kernels split their rows (channels / outputs).
 */
export function splitStep(step: Step, index: number, parts: number): Task[] {
  const { rows, cols } = step.split;
  const units = (d: { first: number; end: number; align: number } | undefined): number =>
    d ? Math.ceil((d.end - d.first) / d.align) : 1;
  const rowUnits = units(rows);
  const colUnits = units(cols);
  parts = Math.max(1, Math.min(parts, rowUnits * colUnits));
  let best = { r: 1, c: 1 };
  if (cols) {
    const c = Math.min(parts, colUnits);
    best = { c, r: 2 * c <= parts ? Math.min(rowUnits, Math.ceil(parts / c)) : 1 };
  } else if (rows) {
    best = { r: Math.min(parts, rowUnits), c: 1 };
  }
  const rowRanges = rows ? ranges(rows.end, rows.align, best.r) : [[0, 0] as [number, number]];
  const colRanges = cols ? ranges(cols.end, cols.align, best.c) : [[0, 0] as [number, number]];
  const tasks: Task[] = [];
  for (const [r0, r1] of rowRanges) {
    for (const [c0, c1] of colRanges) {
      const call = narrowCall(step.call, { r0, r1, c0, c1 }, 0);
      tasks.push({ step: index, call, cost: callCost(call) });
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
  if (!(Number.isInteger(threads) && threads >= 1))
    throw new ArgumentError("schedulePlan", "threads", "a positive integer", threads);
  const target = threads === 1 ? 1 : 4 * threads;
  const stages = buildStages(plan.steps).map((steps): Stage => {
    const costs = steps.map((i) => callCost(plan.steps[i].call));
    const total = costs.reduce((a, b) => a + b, 0);
    const tasks: Task[] = [];
    steps.forEach((i, j) => {
      const share = threads === 1 || total === 0 ? 1 : Math.round((target * costs[j]) / total);
      const parts = Math.max(1, Math.min(share, Math.floor(costs[j] / MIN_TASK_COST)));
      tasks.push(...splitStep(plan.steps[i], i, parts));
    });
    // Largest first, so the last tasks claimed are small ones (a stable, deterministic order).
    tasks.sort((x, y) => y.cost - x.cost || x.step - y.step);
    return { steps, tasks };
  });
  return { threads, stages };
}
