// Executors run a plan's steps over the shared memory. The serial executor runs every step
// whole, in order, on the calling thread; the worker pool (pool.ts) splits steps into output
// ranges across threads. Both call the same kernels with the same per-element reduction order,
// so they give the same bits.

import type { Plan } from "../plan/plan.js";
import { callOp, encodeCall, withScratch, type KernelName, type ProfileOp } from "../wasm/calls.js";
import type { KernelExports } from "../wasm/kernels.js";

/** Milliseconds per op ("conv", "maxPool", ...) and "wait" (idle thread-ms), filled in when profiling. */
export type Profile = Map<ProfileOp | "wait", number>;

/** Runs planned steps. */
export interface Executor {
  /** Threads that run kernels (the calling thread included). */
  readonly threads: number;
  /** Runs every step of `plan`; adds per-op milliseconds to `profile` when given. */
  run(plan: Plan, profile?: Profile): Promise<void>;
  /** Frees threads; the executor cannot run afterwards. */
  dispose(): Promise<void>;
}

interface SerialCall {
  kernel: KernelName;
  args: number[];
  op: ProfileOp;
}

/** Runs each step whole, in order, on the calling thread. */
export class SerialExecutor implements Executor {
  readonly threads = 1;
  private readonly kernels: KernelExports;
  private readonly prepared = new WeakMap<Plan, SerialCall[]>();

  constructor(kernels: KernelExports) {
    this.kernels = kernels;
  }

  async run(plan: Plan, profile?: Profile): Promise<void> {
    let calls = this.prepared.get(plan);
    if (!calls) {
      calls = plan.steps.map((s) => ({
        kernel: s.call.kernel,
        args: encodeCall(withScratch(s.call, plan.scratch[0])),
        op: callOp(s.call),
      }));
      this.prepared.set(plan, calls);
    }
    for (const c of calls) {
      const t0 = profile ? performance.now() : 0;
      this.kernels[c.kernel](...c.args);
      if (profile) profile.set(c.op, (profile.get(c.op) ?? 0) + performance.now() - t0);
    }
  }

  async dispose(): Promise<void> {}
}
