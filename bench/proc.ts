// Process trees from Linux's /proc: a child's descendants (Chromium's browser, GPU and renderer
// processes under the Chromium child), their CPU ticks and peak RSS. Elsewhere: nothing (undefined).

import { readdirSync, readFileSync } from "node:fs";

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces): [0] state, [1] ppid, [11] utime, [12] stime. */
function statFields(pid: number): number[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
  } catch {
    return undefined; // exited meanwhile
  }
}

/** `pid` and every process below it. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [pid];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = statFields(Number(name))?.[1];
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  for (let todo = [pid]; todo.length > 0; ) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** A process's CPU time (user + system, all threads) in clock ticks, or 0 once it has exited. */
export function cpuTicks(pid: number): number {
  const f = statFields(pid);
  return f ? f[11] + f[12] : 0;
}

/** The sum of the processes' peak resident set sizes (VmHWM) in bytes. */
export function peakRss(pids: number[]): number {
  let bytes = 0;
  for (const p of pids) {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1];
      bytes += Number(kb ?? 0) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return bytes;
}
