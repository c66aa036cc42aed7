// Executors run a plan's steps over the shared memory. The serial executor runs every
// step whole, in order, on the calling thread; the worker pool (a later executor) splits
// steps into output ranges across threads. Both call the same kernels on the same
// ranges' reduction order, so they give the same bits.

import type { KernelExports } from "../wasm/kernels.js";
import { runStep, type Plan, type Step } from "../plan/plan.js";

/** Milliseconds spent per op kind ("conv", "maxPool", ...), filled in when profiling. */
export type Profile = Map<Step["op"], number>;

/** Runs planned steps. */
export interface Executor {
  /** Threads that run kernels (the calling thread included). */
  readonly threads: number;
  /** Runs every step of `plan`; adds per-op milliseconds to `profile` when given. */
  run(plan: Plan, profile?: Profile): Promise<void>;
  /** Frees threads; the executor cannot run afterwards. */
  dispose(): Promise<void>;
}

/** Runs each step whole, in order, on the calling thread. */
export class SerialExecutor implements Executor {
  readonly threads = 1;
  private readonly kernels: KernelExports;

  constructor(kernels: KernelExports) {
    this.kernels = kernels;
  }

  async run(plan: Plan, profile?: Profile): Promise<void> {
    for (const step of plan.steps) {
      const t0 = profile ? performance.now() : 0;
      runStep(this.kernels, step, plan.scratch[0]);
      if (profile) profile.set(step.op, (profile.get(step.op) ?? 0) + performance.now() - t0);
    }
  }

  async dispose(): Promise<void> {}
}
