// The benchmarks' clocks: wall time, or this process's CPU time (user + system), which leaves out
// the time other processes hold the core: the figure to compare kernels by on a machine shared with
// other work, for one thread (engine threads compiling or collecting garbage in the background count too).

/** A clock kind as the --clock options take it. */
export type ClockKind = "wall" | "cpu";

/** Reads --clock: "wall" or "cpu" (an Error naming the option otherwise). */
export function clockKind(value: string): ClockKind {
  if (value === "wall" || value === "cpu") return value;
  throw new Error(`--clock: expected wall or cpu, found "${value}"`);
}

/** Milliseconds now on the `kind` clock (only differences mean anything). */
export function clockNow(kind: ClockKind): () => number {
  if (kind === "wall") return () => performance.now();
  return () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
}
