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
/** A stage's smallest tasks (one grid cell) are about 1 / (UNITS_PER_THREAD x threads) of its work. */
const UNITS_PER_THREAD = 16;
/** A task takes at most 1 / (GUIDE x threads) of the stage's work not yet handed out. */
const GUIDE = 2;

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

/** A step's output split into a grid of row ranges x column ranges ([0, 0] where it has no such dimension). */
interface Grid {
  rows: [number, number][];
  cols: [number, number][];
}

/**
 * The grid of about `parts` cells a step splits into. GEMMs (the calls with column ranges) split
 * columns (output pixels) first: measured here, column tasks cost nothing extra even one 8-column
 * panel wide, while each row split repacks (im2col) the task's B panels: 8 row tasks made
 * conv2/3x3 1.5x and conv1 3x slower. Rows are split only when there are too few column panels
 * (7x7 maps). Other kernels split their rows (channels / outputs).
 */
function splitGrid(step: Step, parts: number): Grid {
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
  return {
    rows: rows ? ranges(rows.end, rows.align, best.r) : [[0, 0]],
    cols: cols ? ranges(cols.end, cols.align, best.c) : [[0, 0]],
  };
}

/** The task of step `index` over rows [r0, r1) and columns [c0, c1). */
function task(step: Step, index: number, r0: number, r1: number, c0: number, c1: number): Task {
  const call = narrowCall(step.call, { r0, r1, c0, c1 }, 0);
  return { step: index, call, cost: callCost(call) };
}

/** Step `index` whole, as one task. */
function wholeStep(step: Step, index: number): Task {
  const { rows, cols } = splitGrid(step, 1);
  return task(step, index, rows[0][0], rows[0][1], cols[0][0], cols[0][1]);
}

/**
 * Guided split of one stage (guided self-scheduling over the cells of each step's grid): each task
 * is as large as it can be without passing the stage's work not yet handed out / (GUIDE x threads),
 * and never smaller than one grid cell (about 1 / (UNITS_PER_THREAD x threads) of the stage). The
 * first tasks claimed are large, the last are single cells, so a stage ends with every thread
 * busy to within about one small cell, even when one thread runs slower or is preempted. A task is
 * a rectangle of cells: whole columns of the grid (every row), or rows of one grid column, so the
 * large tasks of a row-split step (7x7 maps; Winograd's output channels on small maps) pack or
 * transform their input columns once, as the whole step does; only the last cells repeat it.
 */
function guidedTasks(plan: Pick<Plan, "steps">, steps: readonly number[], threads: number): Task[] {
  const costs = steps.map((i) => callCost(plan.steps[i].call));
  const total = costs.reduce((a, b) => a + b, 0);
  const cell = Math.max(MIN_TASK_COST, total / (UNITS_PER_THREAD * threads));
  let remaining = total;
  const tasks: Task[] = [];
  /** The most work the next task may take. */
  const goal = (): number => remaining / (GUIDE * threads);
  /** Emits the largest run of units [from, end) (at least one) whose task fits the goal; returns end. */
  const take = (from: number, units: number, over: (end: number) => Task): number => {
    const most = goal();
    let end = from + 1;
    let t = over(end);
    for (let next: Task; end < units && (next = over(end + 1)).cost <= most; end++) t = next;
    tasks.push(t);
    remaining -= t.cost;
    return end;
  };
  const order = steps.map((i, j) => ({ i, cost: costs[j] })).sort((x, y) => y.cost - x.cost || x.i - y.i);
  for (const { i, cost } of order) {
    const step = plan.steps[i];
    const { rows, cols } = splitGrid(step, Math.floor(cost / cell));
    const rect = (r0: number, r1: number, c0: number, c1: number): Task =>
      task(step, i, rows[r0][0], rows[r1 - 1][1], cols[c0][0], cols[c1 - 1][1]);
    for (let c = 0; c < cols.length; ) {
      if (rows.length === 1 || rect(0, rows.length, c, c + 1).cost <= goal()) {
        // Whole grid columns (every row): as many as fit the goal.
        c = take(c, cols.length, (end) => rect(0, rows.length, c, end));
      } else {
        // One grid column too large for the goal: its rows, as many at a time as fit.
        for (let r = 0; r < rows.length; ) r = take(r, rows.length, (end) => rect(r, end, c, c + 1));
        c++;
      }
    }
  }
  // Largest first, so the last tasks claimed are small ones (a stable, deterministic order).
  return tasks.sort((x, y) => y.cost - x.cost || x.step - y.step);
}

/**
 * The schedule of `plan` for `threads` threads: stages of independent steps, each split into
 * tasks by guidedTasks (1 task per step for one thread). A pure function of the plan's steps and
 * the thread count.
 */
export function schedulePlan(plan: Pick<Plan, "steps">, threads: number): Schedule {
  if (!(Number.isInteger(threads) && threads >= 1))
    throw new ArgumentError("schedulePlan", "threads", "a positive integer", threads);
  const stages = buildStages(plan.steps).map(
    (steps): Stage => ({
      steps,
      tasks: threads === 1 ? steps.map((i) => wholeStep(plan.steps[i], i)) : guidedTasks(plan, steps, threads),
    }),
  );
  return { threads, stages };
}
