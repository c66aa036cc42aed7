// Which runtimes `npm run bench:profile` (bench/profileRuns.ts) profiles and how, or why not
// (tested in test/benchProfileRuns.test.ts): the comparison suite's runtime ids (bench/suite.ts:
// the host Node, node22/24/26, deno, bun, chromium) plus workerd, which is always skipped.

import { InceptionError } from "../src/host/errors.js";
import { chromiumMissing } from "../test/support/chromium.js";
import { RUNTIMES, runtimeCommand } from "../test/support/runtimes.js";
import { parseRuntimes, runtimeIds } from "./suite.js";

/** Precision modes a profile can run in. */
export const PROFILE_PRECISIONS = ["strict", "fast"] as const;
export type ProfilePrecision = (typeof PROFILE_PRECISIONS)[number];

/** Runtimes no profile can run in, with the reason. */
export const UNPROFILABLE: Record<string, string> = {
  workerd:
    "its clock stands still while code runs (performance.now() and Date.now() advance only at I/O, against timing attacks), " +
    "so no step can be timed inside it; from outside only whole requests can (README: the runtime table's workerd row)",
};

/** Every runtime id `--runtimes` takes, in the default order. */
export function profileRuntimeIds(): string[] {
  return [...runtimeIds(), ...Object.keys(UNPROFILABLE)];
}

/** `--runtimes`: ids from profileRuntimeIds(), comma-separated, in the order given, each once (the suite's parseRuntimes checks the others). */
export function parseProfileRuntimes(text: string): string[] {
  const ids = [...new Set(text.split(",").map((t) => t.trim()))];
  const suiteIds = ids.filter((id) => !(id in UNPROFILABLE));
  const known = suiteIds.length > 0 ? parseRuntimes(suiteIds.join(",")) : [];
  return ids.filter((id) => known.includes(id) || id in UNPROFILABLE);
}

/** `--precision`: modes from PROFILE_PRECISIONS, comma-separated, each once. */
export function parseProfilePrecisions(text: string): ProfilePrecision[] {
  const modes = text.split(",").map((t) => t.trim());
  const bad = modes.filter((m) => !PROFILE_PRECISIONS.some((p) => p === m));
  if (bad.length > 0 || modes.length === 0)
    throw new InceptionError(
      "E_USAGE",
      `--precision: expected modes from ${PROFILE_PRECISIONS.join(", ")}, found "${bad.join(", ")}"`,
    );
  return [...new Set(modes as ProfilePrecision[])];
}

/** How one configuration is profiled: a process (argv before the script), the Chromium page, or not at all. */
export type ProfileTarget = { runtime: string; precision: ProfilePrecision } & (
  | { how: "process"; argv: string[] }
  | { how: "chromium" }
  | { how: "skip"; reason: string }
);

/** What the targets depend on outside: the runtimes' commands and Chromium (injected, so tests can fake them). */
export interface TargetProbe {
  /** The command prefix of a process runtime id (the host Node, node22/24/26, deno, bun), or why it has none. */
  command(id: string): { argv: string[] } | { error: string };
  /** Why Chromium cannot be launched, or undefined when it can. */
  chromiumMissing(): string | undefined;
}

/** Options that change what a runtime can do. */
export interface TargetOptions {
  /** --kernels DIR: builds the Chromium page (the inline entry's embedded builds) cannot load. */
  kernels?: string;
}

/** Every (runtime, precision) in the order given, runtime by runtime, each with how it runs or why it cannot. */
export function profileTargets(
  runtimes: string[],
  precisions: ProfilePrecision[],
  probe: TargetProbe,
  options: TargetOptions = {},
): ProfileTarget[] {
  return runtimes.flatMap((runtime) => {
    const how = ((): { how: "process"; argv: string[] } | { how: "chromium" } | { how: "skip"; reason: string } => {
      if (runtime in UNPROFILABLE) return { how: "skip", reason: UNPROFILABLE[runtime] };
      if (runtime === "chromium") {
        const missing = probe.chromiumMissing();
        if (missing) return { how: "skip", reason: missing };
        if (options.kernels)
          return {
            how: "skip",
            reason: `--kernels ${options.kernels}: the page runs the inline entry's embedded builds, not a folder's`,
          };
        return { how: "chromium" };
      }
      const cmd = probe.command(runtime);
      return "error" in cmd ? { how: "skip", reason: cmd.error } : { how: "process", argv: cmd.argv };
    })();
    return precisions.map((precision) => ({ runtime, precision, ...how }));
  });
}

/** This machine: the host Node (the suite's first id) is the tests' "node", the others their ids. */
export const systemProbe: TargetProbe = {
  command(id) {
    const runtime = RUNTIMES.find((r) => r === (id === runtimeIds()[0] ? "node" : id));
    return runtime ? runtimeCommand(runtime) : { error: `unknown runtime ${id}` };
  },
  chromiumMissing,
};
