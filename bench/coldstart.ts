// Cold start in parts, one fresh process per sample, 1 thread: import of the package entry, kernel
// compile (read, validate, self-test), the GEMM tile's choice (the timed probe, or its entry in the
// user cache's probe table), weights read (cold: the IWNET file decoded and checked;
// warm: the packed cache entry read and checked), pack (cold) or copy (warm), the packed cache
// write (cold), warm-up, and the first result (run() of the benchmark input), with an empty cache
// (cold), a filled one (warm), and a filled one whose probe table is ignored (warm-probe:
// INCEPTION_WASM_TILE_PROBE=1, each process probes as before the table existed). The weights are
// the data folder's BVLC weights as one IWNET file. Medians over --samples processes per runtime
// and cache state, the states alternating.
//
//   node dist/bench/coldstart.js [--samples 7] [--runtimes node,deno,bun] [--json]

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import type { LoadTimes } from "../src/host/engine/packedWeights.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Cache states: empty; filled; filled but its probe table ignored (each process probes). */
const STATES = ["cold", "warm", "warm-probe"] as const;
type State = (typeof STATES)[number];

/** One sample: the load's own parts (LoadTimes) and the process's (a child prints it as its last line). */
interface Sample extends LoadTimes {
  importMs: number;
  loadMs: number;
  firstMs: number;
  totalMs: number;
  /** CPU time (user + system, every thread of the process) from before the import to the first result. */
  cpuMs: number;
  /** "table" (the probe table's entry) or "probe". */
  tileFrom: string;
}

if (process.argv.includes("--child")) {
  // The child: argv [--child, weights file, cache folder].
  const [weights, cacheDir] = process.argv.slice(process.argv.indexOf("--child") + 1);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { GoogLeNet, syntheticInput } = await import("../src/node/index.js");
  const t1 = performance.now();
  const net = await GoogLeNet.load({ weights, cacheDir, threads: 1 });
  const t2 = performance.now();
  await net.run(syntheticInput(3 * 224 * 224));
  const t3 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const times = net.loadTimes!;
  const tileFrom = net.kernelReason.startsWith("from the probe table") ? "table" : "probe";
  await net.dispose();
  const sample: Sample = {
    importMs: t1 - t0,
    compileMs: times.compileMs,
    tileMs: times.tileMs,
    weightsMs: times.weightsMs,
    packMs: times.packMs,
    cacheWriteMs: times.cacheWriteMs,
    warmUpMs: times.warmUpMs,
    loadMs: t2 - t1,
    firstMs: t3 - t2,
    totalMs: t3 - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    weightsFrom: times.weightsFrom,
    tileFrom,
  };
  console.log(JSON.stringify(sample));
} else {
  const { values: opts } = parseArgs({
    options: {
      samples: { type: "string", default: "7" },
      runtimes: { type: "string", default: "node,deno,bun" },
      json: { type: "boolean", default: false },
    },
  });
  const { encodeWeightFile } = await import("../src/model/formats/iwnet.js");
  const { matWeights } = await import("../test/support/data.js");
  const dir = mkdtempSync(join(tmpdir(), "coldstart-"));
  const weights = join(dir, "googlenet.iwnet");
  writeFileSync(weights, await encodeWeightFile(await matWeights()));
  const child = join(ROOT, "dist", "bench", "coldstart.js");
  const bin = (name: string): string => join(ROOT, "node_modules", ".bin", name);
  const commands: Record<string, string[]> = {
    node: [process.execPath, ...process.execArgv],
    deno: [bin("deno"), "run", "-A", "--node-modules-dir=manual"],
    bun: [bin("bun"), "--no-install"],
  };
  const samples = Number(opts.samples);
  const rows: { runtime: string; cache: State; median: Sample; samples: Sample[] }[] = [];
  try {
    for (const runtime of opts.runtimes.split(",")) {
      const [cmd, ...args] = commands[runtime];
      const sample = async (cacheDir: string, env: NodeJS.ProcessEnv = {}): Promise<Sample> => {
        const { stdout } = await run(cmd, [...args, child, "--child", weights, cacheDir], {
          cwd: ROOT,
          env: { ...process.env, INCEPTION_WASM_TILE_PROBE: "", ...env },
        });
        return JSON.parse(stdout.trim().split("\n").pop()!) as Sample;
      };
      const lists: Record<State, Sample[]> = { cold: [], warm: [], "warm-probe": [] };
      const warmCache = join(dir, `warm-${runtime}`);
      await sample(warmCache); // fills it
      for (let i = 0; i < samples; i++) {
        const coldCache = join(dir, `cold-${runtime}-${i}`);
        lists.cold.push(await sample(coldCache));
        rmSync(coldCache, { recursive: true, force: true });
        lists.warm.push(await sample(warmCache));
        lists["warm-probe"].push(await sample(warmCache, { INCEPTION_WASM_TILE_PROBE: "1" }));
      }
      for (const cache of STATES)
        rows.push({ runtime, cache, median: medianSample(lists[cache]), samples: lists[cache] });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const machine = `${cpus()[0]?.model} (${cpus().length} logical cores), load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} at the end`;
  if (opts.json) console.log(JSON.stringify({ machine, samples, rows }, null, 2));
  else {
    console.log(`${machine}; median of ${samples} processes each, 1 thread, ms\n`);
    const cols: (keyof Sample)[] = [
      "importMs",
      "compileMs",
      "tileMs",
      "weightsMs",
      "packMs",
      "cacheWriteMs",
      "warmUpMs",
      "loadMs",
      "firstMs",
      "totalMs",
      "cpuMs",
    ];
    console.log(
      `| runtime | cache | ${cols.map((c) => c.replace(/Ms$/, "")).join(" | ")} | weights from | tile from |`,
    );
    console.log(`|---|---|${cols.map(() => "---|").join("")}---|---|`);
    for (const r of rows) {
      const froms = new Set(r.samples.map((s) => s.weightsFrom.replace(/\(packed cache: .*\)/, "(packed cache miss)")));
      const from = froms.size === 1 ? [...froms][0] : "mixed";
      const tiles = [...new Set(r.samples.map((s) => s.tileFrom))].join(", ");
      console.log(
        `| ${r.runtime} | ${r.cache} | ${cols.map((c) => (r.median[c] as number).toFixed(1)).join(" | ")} | ${from} | ${tiles} |`,
      );
    }
  }
}

/** Per-part medians of samples (each part's own median; the parts need not add up to the total). */
function medianSample(list: Sample[]): Sample {
  const med = (key: keyof Sample): number => {
    const v = list.map((s) => s[key] as number).sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  return {
    importMs: med("importMs"),
    compileMs: med("compileMs"),
    tileMs: med("tileMs"),
    weightsMs: med("weightsMs"),
    packMs: med("packMs"),
    cacheWriteMs: med("cacheWriteMs"),
    warmUpMs: med("warmUpMs"),
    loadMs: med("loadMs"),
    firstMs: med("firstMs"),
    totalMs: med("totalMs"),
    cpuMs: med("cpuMs"),
    weightsFrom: list[0].weightsFrom,
    tileFrom: list[0].tileFrom,
  };
}
