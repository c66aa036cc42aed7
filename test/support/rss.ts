// Resident memory of the current process, for the memory measurements in child processes, and of
// another process (by pid, Linux only: workerd's in test/workerd.test.ts).

import { existsSync, readFileSync, writeFileSync } from "node:fs";

/**
 * A field of /proc/<pid>/status in bytes (VmRSS: now, VmHWM: the peak since exec or the last
 * resetPeakRss), or undefined off Linux.
 */
function status(field: "VmRSS" | "VmHWM", pid: number | "self" = "self"): number | undefined {
  const file = `/proc/${pid}/status`;
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text);
  return kb ? Number(kb[1]) * 1024 : undefined;
}

/**
 * Peak resident set size of this process in bytes. On Linux, VmHWM of /proc/self/status: the
 * peak of this process's own memory since exec. process.resourceUsage().maxRSS does not do there,
 * as Linux carries the parent's peak (here the test's, hundreds of MB) across fork and exec into
 * it. Elsewhere maxRSS.
 */
export function peakRss(): number {
  return status("VmHWM") ?? process.resourceUsage().maxRSS * 1024;
}

/** Resident set size of this process now, in bytes. */
export function currentRss(): number {
  return status("VmRSS") ?? process.memoryUsage().rss;
}

/** Resident set size now (VmRSS) and its peak (VmHWM) of process `pid`, in bytes; throws off Linux. */
export function processRss(pid: number): { rss: number; peak: number } {
  const rss = status("VmRSS", pid);
  const peak = status("VmHWM", pid);
  if (rss === undefined || peak === undefined) throw new Error(`no VmRSS/VmHWM in /proc/${pid}/status (Linux only)`);
  return { rss, peak };
}

/** Sets process `pid`'s VmHWM to its VmRSS now (Linux: "5" into /proc/<pid>/clear_refs; the process must be ours). */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}
