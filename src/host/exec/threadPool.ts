// The worker pool executor: threads-1 workers plus the calling thread run a plan's schedule
// (plan/schedule.ts) over one shared memory, one stage at a time, through the control words and
// messages of protocol.ts. The schedule is posted to the workers once per plan; a run only
// writes control words. Spinning is bounded, and with more threads than cores nobody spins.

import { ArgumentError, DisposedError, ExecutionError, InceptionError } from "../errors.js";
import type { WorkerEvents, WorkerHandle, WorkerHost } from "./workers.js";
import type { Plan } from "../plan/plan.js";
import { schedulePlan } from "../plan/schedule.js";
import { describeEncodedRanges, KERNEL_NAMES, PROFILE_OPS } from "../wasm/calls.js";
import { instantiateKernels, type KernelExports } from "../wasm/kernels.js";
import type { Executor, Profile } from "./executor.js";
import {
  C,
  claimAndRun,
  CMD,
  CONTROL_WORDS,
  decodeTasks,
  encodeSchedule,
  IDLE_CLAIM,
  MAX_POOL_THREADS,
  MAX_STAGE_TASKS,
  MAX_STAGES,
  PROFILE_SLOTS,
  type DecodedTask,
  type EncodedSchedule,
  type WorkerReply,
} from "./protocol.js";

/**
 * How long a worker may take to say ready (a module worker is fetched, compiled and instantiated;
 * 0.05-0.5 s on a busy 2-core machine). A pool whose worker stays silent longer does not start,
 * and the load falls back to one thread with the reason.
 */
export const WORKER_START_TIMEOUT_MS = 15_000;

/** What the runtime offers for threads. */
export interface ThreadSupport {
  /** Whether workers over shared memory work here at all. */
  available: boolean;
  /** Threads to use by default: the cores, or 1 when threads are unavailable. */
  maxThreads: number;
  /** Logical cores reported by the runtime. */
  cores: number;
  /** Why maxThreads is what it is. */
  reason: string;
}

/** Detects shared memory, Atomics.wait, workers (`host`'s) and the core count. */
export function threadSupport(host: Pick<WorkerHost, "cores" | "workersUnavailable">): ThreadSupport {
  const cores = host.cores();
  const no = (reason: string): ThreadSupport => ({ available: false, maxThreads: 1, cores, reason });
  if (typeof SharedArrayBuffer !== "function") {
    return no("SharedArrayBuffer is unavailable (browsers need cross-origin isolation: COOP/COEP headers)");
  }
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return no("the page is not cross-origin isolated (COOP/COEP headers), so memory cannot be shared");
  }
  if (typeof Atomics !== "object" || typeof Atomics.wait !== "function") return no("Atomics.wait is unavailable");
  const noWorkers = host.workersUnavailable();
  if (noWorkers !== undefined) return no(noWorkers);
  return {
    available: true,
    maxThreads: Math.min(cores, MAX_POOL_THREADS),
    cores,
    reason: `${cores} core(s) available`,
  };
}

/** A plan's schedule, encoded for workers and decoded for the calling thread. */
interface Prepared {
  id: number;
  encoded: EncodedSchedule;
  tasks: DecodedTask[];
  /** Graph node of each step (for error messages). */
  nodes: string[];
}

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
}

let nextScheduleId = 1;

/**
 * How long an idle thread spins before it blocks in Atomics.wait: a worker for the next stage, the
 * calling thread for a stage's last tasks. Short: the guided schedule ends stages in small tasks, a
 * futex wake takes about 0.1 ms, and on a loaded machine a spinning thread takes the core from one
 * still computing (measured: the README's "2 threads" under Benchmarks).
 */
const SPIN_MS = 0.1;
/** The calling thread's spin where it cannot block (a browser page's main thread). */
const NON_BLOCKING_JOIN_SPIN_MS = 2;
/** How long a join may block the calling thread in Atomics.wait before it waits without blocking. */
const BLOCKING_JOIN_MS = 10;

/**
 * Whether Atomics.wait may block this thread: not on a browser page's main thread, where it throws
 * (checked before the value, so this probe with a value the word does not hold never blocks).
 */
function blockingAllowed(ctrl: Int32Array): boolean {
  try {
    Atomics.wait(ctrl, C.DONE, Atomics.load(ctrl, C.DONE) + 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs plans on threads-1 workers plus the calling thread; every output bit as the serial executor. */
export class WorkerPool implements Executor {
  readonly threads: number;
  private readonly module: WebAssembly.Module;
  private readonly memory: WebAssembly.Memory;
  private readonly kernels: KernelExports;
  private readonly ctrl: Int32Array;
  private readonly controlBuffer: SharedArrayBuffer;
  private readonly profileBuffer: SharedArrayBuffer;
  private readonly busy: Float64Array;
  private readonly workerSpinMs: number;
  private readonly joinSpinMs: number;
  /** Whether Atomics.wait may block the calling thread (not on a browser page's main thread). */
  private readonly canBlock: boolean;
  private readonly spawn: (events: WorkerEvents) => WorkerHandle;
  private workers: WorkerHandle[] = [];
  private epoch = 0;
  private broken: string | undefined;
  private brokenTask = -1;
  /** The first worker death reported since the workers started: the next run restarts them. */
  private lostWorker: string | undefined;
  /** Lanes whose worker died; a stage whose tasks none of the others holds can still be lost to them. */
  private readonly deadLanes = new Set<number>();
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly prepared = new WeakMap<Plan, Prepared>();
  private sent: Prepared | undefined;
  private waiters = new Map<string, Waiter>();
  private workerErrors = new Map<number, string>();
  private wake: (() => void) | undefined;

  private constructor(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    threads: number,
    cores: number,
    spawn: (events: WorkerEvents) => WorkerHandle,
    kernels: KernelExports | undefined,
  ) {
    this.module = module;
    this.spawn = spawn;
    this.memory = memory;
    this.threads = threads;
    this.kernels = kernels ?? instantiateKernels(module, memory);
    this.controlBuffer = new SharedArrayBuffer(CONTROL_WORDS * 4);
    this.ctrl = new Int32Array(this.controlBuffer);
    this.profileBuffer = new SharedArrayBuffer(threads * PROFILE_SLOTS * 8);
    this.busy = new Float64Array(this.profileBuffer);
    const oversubscribed = threads > cores;
    this.canBlock = blockingAllowed(this.ctrl);
    this.workerSpinMs = oversubscribed ? 0 : SPIN_MS;
    // A thread that cannot block waits through its event loop, which is slower to wake: it spins longer.
    this.joinSpinMs = oversubscribed ? 0.05 : this.canBlock ? SPIN_MS : NON_BLOCKING_JOIN_SPIN_MS;
  }

  /**
   * Starts threads-1 workers over `memory` (shared) and resolves when all are instantiated
   * and waiting. The control words live in a small SharedArrayBuffer of their own. `host` gives the
   * cores and starts each worker. `kernels`: the caller's instance of `module` over `memory`, which
   * the calling thread's lane then runs (default: a new one).
   */
  static async create(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    threads: number,
    host: WorkerHost,
    kernels?: KernelExports,
  ): Promise<WorkerPool> {
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= MAX_POOL_THREADS)) {
      throw new ArgumentError("WorkerPool.create", "threads", `an integer in 1..${MAX_POOL_THREADS}`, threads);
    }
    if (!(memory.buffer instanceof SharedArrayBuffer)) {
      throw new ArgumentError("WorkerPool.create", "memory", "a shared WebAssembly.Memory", "an unshared memory");
    }
    const support = threadSupport(host);
    if (threads > 1 && !support.available) {
      throw new ExecutionError("WorkerPool.create", `${threads} threads requested, but ${support.reason}`);
    }
    const pool = new WorkerPool(module, memory, threads, support.cores, (e) => host.spawnWorker(e), kernels);
    await pool.start();
    return pool;
  }

  /** Spawns the workers with fresh control words; resolves when every one is ready. */
  private async start(): Promise<void> {
    const epoch = ++this.epoch;
    this.ctrl.fill(0);
    Atomics.store(this.ctrl, C.CLAIM, IDLE_CLAIM);
    this.broken = undefined;
    this.brokenTask = -1;
    this.lostWorker = undefined;
    this.deadLanes.clear();
    this.sent = undefined;
    this.workerErrors.clear();
    const ready: Promise<void>[] = [];
    const workers: WorkerHandle[] = [];
    try {
      for (let lane = 1; lane < this.threads; lane++) {
        ready.push(this.expect(`ready ${lane}`, WORKER_START_TIMEOUT_MS));
        const w = this.spawn({
          onMessage: (m) => this.onMessage(epoch, m),
          onDeath: (reason) => this.onDeath(epoch, lane, reason),
        });
        workers.push(w);
        w.post({
          type: "init",
          lane,
          module: this.module,
          memory: this.memory,
          control: this.controlBuffer,
          profile: this.profileBuffer,
          spinMs: this.workerSpinMs,
        });
      }
      this.workers = workers;
      await Promise.all(ready);
    } catch (error) {
      this.workers = [];
      await Promise.all(workers.map((w) => w.terminate().catch(() => undefined)));
      ready.forEach((p) => p.catch(() => undefined));
      throw error instanceof InceptionError
        ? error
        : new ExecutionError("worker pool", `cannot start workers: ${(error as Error).message}`, { cause: error });
    }
  }

  private expect(key: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`timed out waiting for ${key}`));
      }, timeoutMs);
      this.waiters.set(key, {
        resolve: () => {
          clearTimeout(timer);
          this.waiters.delete(key);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          this.waiters.delete(key);
          reject(e);
        },
      });
    });
  }

  private onMessage(epoch: number, m: WorkerReply): void {
    if (epoch !== this.epoch) return;
    if (m.type === "ready") this.waiters.get(`ready ${m.lane}`)?.resolve();
    else if (m.type === "ack") this.waiters.get(`ack ${m.id}`)?.resolve();
    else if (m.type === "error") {
      this.workerErrors.set(m.task, m.message);
      this.waiters.get(`error ${m.task}`)?.resolve();
    } else if (m.type === "fatal") this.fail(`worker: ${m.message}`);
  }

  /**
   * A worker's death breaks the run at once when a message from it is awaited. Otherwise the run
   * goes on: the other threads claim what is left, and join() fails the stage only if it lost a
   * task (stageLost). Either way the next run restarts the workers.
   */
  private onDeath(epoch: number, lane: number, reason: string): void {
    if (epoch !== this.epoch || this.disposed) return;
    this.deadLanes.add(lane);
    this.lostWorker ??= `worker ${lane}: ${reason}`;
    if (this.waiters.size > 0) this.fail(`worker ${lane}: ${reason}`);
    else this.wake?.();
  }

  /**
   * Whether the stage being joined can no longer finish: every claimed task is counted in DONE
   * before its thread lets go of it (CURRENT back to CLAIMING or 0), so when no live worker holds
   * anything and DONE is still short, the missing tasks died with a worker. Marks the pool broken,
   * naming a dead worker's task. (A dead worker's CURRENT alone cannot tell: it may name a task it
   * had counted just before it died.)
   */
  private stageLost(count: number): boolean {
    let deadHolder = -1;
    for (let lane = 1; lane < this.threads; lane++) {
      const holding = Atomics.load(this.ctrl, C.CURRENT + lane);
      if (!this.deadLanes.has(lane)) {
        if (holding !== 0) return false;
      } else if (holding !== 0 && deadHolder < 0) deadHolder = lane;
    }
    if (Atomics.load(this.ctrl, C.DONE) >= count) return false;
    if (this.broken === undefined && deadHolder > 0)
      this.brokenTask = Atomics.load(this.ctrl, C.CURRENT + deadHolder) - 1;
    this.fail(this.lostWorker ?? "a worker died");
    return true;
  }

  /** Marks the pool broken: pending waits reject, a pending run stops waiting; the next run rebuilds. */
  private fail(reason: string): void {
    this.broken ??= reason;
    for (const w of [...this.waiters.values()]) w.reject(new Error(reason));
    Atomics.notify(this.ctrl, C.DONE);
    this.wake?.();
  }

  private async teardown(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    this.epoch++;
    Atomics.store(this.ctrl, C.CMD, CMD.EXIT);
    Atomics.add(this.ctrl, C.GEN, 1);
    Atomics.notify(this.ctrl, C.GEN);
    await Promise.all(workers.map((w) => w.terminate().catch(() => undefined)));
  }

  private prepare(plan: Plan): Prepared {
    let p = this.prepared.get(plan);
    if (p) return p;
    const schedule = schedulePlan(plan, this.threads);
    if (schedule.stages.length > MAX_STAGES || schedule.stages.some((s) => s.tasks.length > MAX_STAGE_TASKS)) {
      throw new ArgumentError(
        "WorkerPool.run",
        "plan",
        `at most ${MAX_STAGES} stages of at most ${MAX_STAGE_TASKS} tasks`,
        `${schedule.stages.length} stages`,
      );
    }
    const encoded = encodeSchedule(schedule.stages.map((s) => s.tasks));
    p = {
      id: nextScheduleId++,
      encoded,
      tasks: decodeTasks(encoded, plan.scratch[0]),
      nodes: plan.steps.map((x) => x.node),
    };
    this.prepared.set(plan, p);
    return p;
  }

  /** Posts a plan's schedule to every worker and waits until all have it. */
  private async send(p: Prepared, plan: Plan): Promise<void> {
    if (this.workers.length === 0) {
      this.sent = p;
      return;
    }
    let remaining = this.workers.length;
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out sending the schedule to the workers")), 60_000);
      this.waiters.set(`ack ${p.id}`, {
        resolve: () => {
          if (--remaining === 0) {
            clearTimeout(timer);
            this.waiters.delete(`ack ${p.id}`);
            resolve();
          }
        },
        reject: (e) => {
          clearTimeout(timer);
          this.waiters.delete(`ack ${p.id}`);
          reject(e);
        },
      });
    });
    this.workers.forEach((w, i) =>
      w.post({ type: "schedule", id: p.id, schedule: p.encoded, scratch: plan.scratch[i + 1] }),
    );
    Atomics.store(this.ctrl, C.CMD, CMD.MESSAGE);
    Atomics.add(this.ctrl, C.GEN, 1);
    Atomics.notify(this.ctrl, C.GEN);
    await all;
    this.sent = p;
  }

  /** Runs every stage of `plan`'s schedule; calls are queued. */
  run(plan: Plan, profile?: Profile): Promise<void> {
    const job = (): Promise<void> => this.runNow(plan, profile);
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(plan: Plan, profile?: Profile): Promise<void> {
    if (this.disposed) throw new DisposedError("WorkerPool.run", "the pool was disposed");
    if (plan.scratch.length < this.threads) {
      throw new ArgumentError(
        "WorkerPool.run",
        "plan",
        `a plan with lanes >= ${this.threads} (one scratch area per thread)`,
        `lanes ${plan.scratch.length}`,
      );
    }
    if (this.broken !== undefined || this.lostWorker !== undefined) {
      await this.teardown();
      await this.start();
    }
    const p = this.prepare(plan);
    try {
      if (this.sent !== p) await this.send(p, plan);
      await this.runStages(p, profile);
    } catch (error) {
      if (this.broken !== undefined) await this.teardown(); // rebuilt on the next run
      if (error instanceof InceptionError) throw error;
      throw new ExecutionError("worker pool", (error as Error).message, { cause: error });
    }
  }

  private async runStages(p: Prepared, profile?: Profile): Promise<void> {
    const ctrl = this.ctrl;
    const stageStarts = p.encoded.stageStarts;
    const stages = stageStarts.length - 1;
    const profiling = profile !== undefined;
    Atomics.store(ctrl, C.PROFILE, profiling ? 1 : 0);
    if (profiling) this.busy.fill(0);
    const run = (t: number): void => {
      const task = p.tasks[t];
      this.kernels[task.kernel](...task.args);
    };
    let wait = 0;
    try {
      for (let s = 0; s < stages; s++) {
        const count = stageStarts[s + 1] - stageStarts[s];
        const t0 = profiling ? performance.now() : 0;
        Atomics.store(ctrl, C.DONE, 0);
        Atomics.store(ctrl, C.CLAIM, s << 16);
        if (count > 1 && this.workers.length > 0) {
          Atomics.store(ctrl, C.CMD, CMD.RUN);
          Atomics.add(ctrl, C.GEN, 1);
          if (Atomics.load(ctrl, C.SLEEPERS) > 0) Atomics.notify(ctrl, C.GEN);
        }
        const failure = claimAndRun({ ctrl, lane: 0, stageStarts, kernelOf: p.encoded.kernel, busy: this.busy, run });
        await this.join(count);
        const failed = Atomics.load(ctrl, C.FAIL);
        if (failed !== 0) await this.raise(p, failed - 1, failure?.error);
        if (profile) wait += this.account(profile, performance.now() - t0);
      }
    } finally {
      Atomics.store(ctrl, C.CLAIM, IDLE_CLAIM);
      Atomics.store(ctrl, C.FAIL, 0);
      Atomics.store(ctrl, C.PROFILE, 0);
    }
    if (profile) profile.set("wait", (profile.get("wait") ?? 0) + wait);
  }

  /**
   * Waits until `count` tasks of the stage are done: a bounded spin; then, where this thread may
   * block, Atomics.wait in 1 ms slices for up to BLOCKING_JOIN_MS (the core goes to the threads still
   * computing, and the last task's notify wakes it at once); then without blocking the event loop
   * (which also lets a worker's death be reported).
   */
  private async join(count: number): Promise<void> {
    const ctrl = this.ctrl;
    if (Atomics.load(ctrl, C.DONE) >= count) return;
    const t0 = performance.now();
    while (Atomics.load(ctrl, C.DONE) < count) {
      if (this.broken !== undefined || (this.deadLanes.size > 0 && this.stageLost(count))) throw this.deathError();
      const waited = performance.now() - t0;
      if (waited < this.joinSpinMs) continue;
      const seen = Atomics.load(ctrl, C.DONE);
      if (seen >= count) break;
      if (this.canBlock && waited < BLOCKING_JOIN_MS) {
        Atomics.wait(ctrl, C.DONE, seen, 1);
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 20);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
        const waitAsync = (
          Atomics as unknown as {
            waitAsync?: (
              a: Int32Array,
              i: number,
              v: number,
              t: number,
            ) => { async: boolean; value: Promise<unknown> | string };
          }
        ).waitAsync;
        if (typeof waitAsync === "function") {
          const r = waitAsync(ctrl, C.DONE, seen, 20);
          if (r.async) (r.value as Promise<unknown>).then(done, done);
          else done();
        }
      });
      this.wake = undefined;
    }
  }

  private deathError(): ExecutionError {
    const p = this.sent;
    const op =
      p && this.brokenTask >= 0 && this.brokenTask < p.tasks.length
        ? p.nodes[p.encoded.step[this.brokenTask]]
        : "worker pool";
    return new ExecutionError(op, `${this.broken}; the pool restarts its workers on the next run`);
  }

  /** Turns a failed task into an ExecutionError naming its op (waits briefly for a worker's message). */
  private async raise(p: Prepared, task: number, mainError: unknown): Promise<never> {
    let message: string | undefined;
    if (mainError !== undefined) {
      message = `${(mainError as Error)?.message ?? String(mainError)} (on the calling thread)`;
    } else {
      if (!this.workerErrors.has(task)) await this.expect(`error ${task}`, 5_000).catch(() => undefined);
      message = this.workerErrors.get(task) ?? "a kernel failed in a worker";
    }
    this.workerErrors.clear();
    const kernel = KERNEL_NAMES[p.encoded.kernel[task]];
    const args = p.encoded.args.subarray(p.encoded.offsets[task], p.encoded.offsets[task + 1]);
    throw new ExecutionError(
      p.nodes[p.encoded.step[task]],
      `${kernel} failed on ${describeEncodedRanges(kernel, args)}: ${message}`,
      { cause: mainError },
    );
  }

  /** Adds a stage's wall time to the profile, split by the busy time of each op; returns idle thread-ms. */
  private account(profile: Profile, wall: number): number {
    const bySlot = new Array<number>(PROFILE_SLOTS).fill(0);
    for (let lane = 0; lane < this.threads; lane++) {
      for (let s = 0; s < PROFILE_SLOTS; s++) bySlot[s] += this.busy[lane * PROFILE_SLOTS + s];
    }
    this.busy.fill(0);
    const total = bySlot.reduce((a, b) => a + b, 0);
    if (total > 0) {
      bySlot.forEach((ms, s) => {
        if (ms > 0) profile.set(PROFILE_OPS[s], (profile.get(PROFILE_OPS[s]) ?? 0) + (wall * ms) / total);
      });
    }
    return Math.max(0, this.threads * wall - total);
  }

  /** Stops and awaits every worker; the pool cannot run afterwards. */
  dispose(): Promise<void> {
    const job = async (): Promise<void> => {
      if (this.disposed) return;
      this.disposed = true;
      await this.teardown();
    };
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
