// Resident memory of the current process, for the memory measurements in child processes.

import { existsSync, readFileSync } from "node:fs";

/** A field of /proc/self/status in bytes (VmRSS: now, VmHWM: the peak since exec), or undefined off Linux. */
function status(field: "VmRSS" | "VmHWM"): number | undefined {
  const text = existsSync("/proc/self/status") ? readFileSync("/proc/self/status", "utf8") : "";
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
