// Runs fuzz cases (fuzz.ts) in worker threads with a heap limit and a per-case timeout: a case
// whose worker dies (out of memory, a crash) counts as "crash", one that outlives the timeout
// as "hang"; the worker is then replaced and the next case runs. Formats run in parallel up to
// `parallel` workers. Returns the per-format tally and every failing case.

import { Worker } from "node:worker_threads";
import { FAILURES, OUTCOMES, type CaseResult, type Format, type Outcome } from "./fuzz.js";

export interface FuzzOptions {
  formats: readonly Format[];
  cases: number;
  seed: number;
  /** Per-case time bound (ms); building a format's originals counts against its first case. */
  timeoutMs: number;
  /** V8 heap bound of each worker (MiB). */
  heapMb: number;
  parallel: number;
}

export interface FuzzReport {
  table: Map<Format, Record<Outcome, number>>;
  failures: CaseResult[];
  /** A few examples of each outcome per format (for the printed report). */
  examples: CaseResult[];
  ms: number;
}

async function runFormat(format: Format, options: FuzzOptions, report: FuzzReport): Promise<void> {
  const tally = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  report.table.set(format, tally);
  const record = (r: CaseResult): void => {
    tally[r.outcome]++;
    if (FAILURES.includes(r.outcome)) report.failures.push(r);
    else if (report.examples.filter((e) => e.format === format && e.outcome === r.outcome).length < 2)
      report.examples.push(r);
  };
  let next = 0;
  while (next < options.cases) {
    next = await new Promise<number>((resolve) => {
      const worker = new Worker(new URL("./fuzzWorker.js", import.meta.url), {
        resourceLimits: { maxOldGenerationSizeMb: options.heapMb },
        execArgv: [],
      });
      let current = next;
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (outcome: Outcome | undefined, detail: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (outcome) record({ format, index: current, outcome, what: `case ${current}`, detail });
        void worker.terminate();
        resolve(outcome ? current + 1 : options.cases);
      };
      const arm = (): void => {
        clearTimeout(timer);
        // The first case of a worker also builds the originals: allow it more time.
        const ms = current === next ? options.timeoutMs * 6 : options.timeoutMs;
        timer = setTimeout(() => finish("hang", `no result within ${ms} ms`), ms);
      };
      worker.on("message", (m: { type: string; index?: number; result?: CaseResult }) => {
        if (m.type === "start") {
          current = m.index!;
          arm();
        } else if (m.type === "result") {
          clearTimeout(timer);
          record(m.result!);
        } else if (m.type === "done") finish(undefined, "");
      });
      worker.on("error", (e) => finish("crash", `${e.name}: ${e.message}`));
      worker.on("exit", (code) => finish("crash", `worker exited with code ${code}`));
      worker.postMessage({ format, seed: options.seed, from: next, to: options.cases });
    });
  }
}

/** Runs `cases` cases of every format; see the file header. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = { table: new Map(), failures: [], examples: [], ms: 0 };
  const t0 = performance.now();
  const queue = [...options.formats];
  await Promise.all(
    Array.from({ length: Math.max(1, options.parallel) }, async () => {
      for (let f = queue.shift(); f !== undefined; f = queue.shift()) await runFormat(f, options, report);
    }),
  );
  report.ms = performance.now() - t0;
  return report;
}

/** The report as a Markdown table (formats in the order asked), then the failing cases. */
export function formatReport(report: FuzzReport, formats: readonly Format[]): string {
  const lines = [`| format | cases | ${OUTCOMES.join(" | ")} |`, `|---|---|${OUTCOMES.map(() => "---").join("|")}|`];
  for (const f of formats) {
    const t = report.table.get(f);
    if (!t) continue;
    const total = OUTCOMES.reduce((n, o) => n + t[o], 0);
    lines.push(`| ${f} | ${total} | ${OUTCOMES.map((o) => t[o]).join(" | ")} |`);
  }
  for (const r of report.failures.slice(0, 20))
    lines.push(`FAIL ${r.format} #${r.index} ${r.outcome}: ${r.what}: ${r.detail}`);
  return lines.join("\n");
}
