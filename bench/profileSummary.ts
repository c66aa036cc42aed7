// The profiles of many runtimes side by side (pure, tested in test/benchProfileTable.test.ts): the
// combined JSON `npm run bench:profile` (bench/profileRuns.ts) writes, and the README's tables
// made from it (bench/profileReadme.ts writes them between the README's markers): per runtime and
// mode the total, the fraction of the peak-bound time, the register peak and the ms of each cause;
// per class of layer its ms and dominant cause.

import { dominantCause, type Causes } from "./profileCauses.js";
import type { ProfileReport, ProfileRow } from "./profileCore.js";

/** One configuration's profile in a combined run. */
export interface ProfileRun {
  /** The runtime id (bench/profileTargets.ts), e.g. node20, deno, chromium. */
  runtime: string;
  precision: string;
  /** Wall seconds the profile took, start of its process (or page) to its report. */
  seconds: number;
  /** Its own JSON, relative to the project root. */
  file: string;
  report: ProfileReport;
}

/** The combined JSON of `npm run bench:profile`: every configuration that ran, and why the others did not. */
export interface ProfileRuns {
  kind: "profiles";
  schema: 1;
  date: string;
  cpu: string;
  cores: number;
  /** The command line that made it. */
  command: string;
  runs: ProfileRun[];
  skipped: { runtime: string; precision?: string; reason: string }[];
}

/** The classes of layer the table sums over, in its column order. */
export const LAYER_CLASSES = ["conv1", "3x3", "5x5", "1x1", "3x3/5x5 reduce", "pooling", "LRN", "FC"] as const;
export type LayerClass = (typeof LAYER_CLASSES)[number] | "other";

/**
 * A step's class, from its kernel and layer name: conv1; the inception 3x3 and 5x5 convolutions
 * (conv2/3x3 with them); their 1x1 reductions (conv2/3x3_reduce too); the other 1x1 convolutions
 * (each module's 1x1 and pool_proj); max and average pooling; LRN; the classifier and its softmax.
 */
export function layerClass(row: Pick<ProfileRow, "layer" | "kernel">): LayerClass {
  switch (row.kernel) {
    case "maxPool":
    case "avgPool":
      return "pooling";
    case "lrn":
      return "LRN";
    case "fullyConnected":
    case "softmax":
      return "FC";
  }
  if (row.layer.startsWith("conv1/")) return "conv1";
  if (row.layer.endsWith("_reduce")) return "3x3/5x5 reduce";
  if (row.layer.endsWith("/3x3")) return "3x3";
  if (row.layer.endsWith("/5x5")) return "5x5";
  if (row.layer.endsWith("/1x1") || row.layer.endsWith("/pool_proj")) return "1x1";
  return "other";
}

/** The causes in the tables' column order. */
const CAUSES = ["compute", "loads", "packing", "transforms", "sync", "other"] as const;

/** The sum of the rows' causes, in the tables' order (a cause none of them has stays absent). */
function sumCauses(rows: ProfileRow[]): Causes {
  const sum: Causes = {};
  for (const r of rows) for (const c of CAUSES) if (r.causes[c] !== undefined) sum[c] = (sum[c] ?? 0) + r.causes[c]!;
  return sum;
}

const label = (r: ProfileReport): string => `${r.runtime} (${r.build}, ${r.clock} clock)`;
const mode = (r: ProfileReport): string =>
  `${r.precision}, ${r.threads === 1 ? "1 thread" : `1 thread, sync at ${r.threads}`}`;
const ms = (x: number | undefined): string => (x === undefined ? "-" : x.toFixed(1));
const row = (cells: string[]): string => `| ${cells.join(" | ")} |`;
const header = (cells: string[]): string => `${row(cells)}\n|${" --- |".repeat(cells.length)}`;

/** Per report: total ms, peak-bound fraction, register peak, tile, and ms per cause (Markdown). */
export function totalsTable(reports: ProfileReport[]): string {
  const lines = reports.map((r) => {
    const c = sumCauses(r.rows);
    return row([
      label(r),
      mode(r),
      ms(r.totalMs),
      r.ofPeak.toFixed(2),
      r.registerPeakGflops.toFixed(1),
      `${r.tile} (${r.tileL1Gflops.toFixed(1)})`,
      ...CAUSES.map((name) => ms(c[name])),
    ]);
  });
  const causes = CAUSES.map((c) => `${c} ms`);
  return [
    header(["runtime", "mode", "total ms", "peak-bound / total", "register peak GF/s", "tile (L1 GF/s)", ...causes]),
    ...lines,
  ].join("\n");
}

/** Per report and class of layer: its ms and dominant cause (Markdown); a class no report has is left out. */
export function classTable(reports: ProfileReport[]): string {
  const present = (cls: LayerClass) => reports.some((r) => r.rows.some((x) => layerClass(x) === cls));
  const classes = [...LAYER_CLASSES, "other" as const].filter(present);
  const lines = reports.map((r) =>
    row([
      label(r),
      mode(r),
      ...classes.map((cls) => {
        const rows = r.rows.filter((x) => layerClass(x) === cls);
        if (rows.length === 0) return "-";
        return `${ms(rows.reduce((a, x) => a + x.ms, 0))} ${dominantCause(sumCauses(rows))}`;
      }),
    ]),
  );
  return [header(["runtime", "mode", ...classes.map((c) => `${c} ms, cause`)]), ...lines].join("\n");
}

/** A line per runtime and reason: "- not profiled: RUNTIME (MODES): REASON". */
function skippedLines(skipped: ProfileRuns["skipped"]): string[] {
  const byReason = new Map<string, { runtime: string; reason: string; modes: string[] }>();
  for (const s of skipped) {
    const key = `${s.runtime}\n${s.reason}`;
    const entry = byReason.get(key) ?? { runtime: s.runtime, reason: s.reason, modes: [] };
    if (s.precision) entry.modes.push(s.precision);
    byReason.set(key, entry);
  }
  return [...byReason.values()].map(
    (s) => `- not profiled: ${s.runtime}${s.modes.length ? ` (${s.modes.join(", ")})` : ""}: ${s.reason}`,
  );
}

/** What the README's section is made from: a combined run, or single reports (no seconds, nothing skipped). */
export interface SectionInput {
  cpu: string;
  date: string;
  command: string;
  runs: { runtime: string; precision: string; seconds?: number; report: ProfileReport }[];
  skipped: ProfileRuns["skipped"];
}

/** The README's section: the CPU, date and command, both tables, the skipped configurations with their reasons. */
export function profileSection(runs: SectionInput): string {
  const reports = runs.runs.map((r) => r.report);
  const seconds = runs.runs
    .filter((r) => r.seconds !== undefined)
    .map((r) => `${r.runtime} ${r.precision} ${r.seconds!.toFixed(0)} s`)
    .join(", ");
  return [
    `${runs.cpu}, ${runs.date.slice(0, 10)}: \`${runs.command}\`${seconds ? ` (${seconds})` : ""}. Sums over the network's steps at 1 thread; ` +
      '"peak-bound / total": the time the multiply-adds of the direct convolutions take at the register-only peak over the total ' +
      '(fast mode\'s Winograd steps do fewer, so it can pass 1); "sync": ' +
      "idle thread-ms of each step alone on N threads, as a share of its 1-thread time (beside the total, not in it).",
    "",
    totalsTable(reports),
    "",
    'Per class of layer (ms, and the cause with the most ms; "other": the kernel itself):',
    "",
    classTable(reports),
    ...(runs.skipped.length ? ["", ...skippedLines(runs.skipped)] : []),
  ].join("\n");
}
