// `npm run bench:profile`: the per-layer profile (bench/profileCore.ts) under every runtime, one
// after another: Node (the host and the pinned node22/24/26), Deno and Bun each run
// bench/profile.js in a process of its own (the comparison suite's commands, bench/suite.ts), Chromium
// runs it in a page (bench/profileChromium.ts); workerd, or a runtime this machine lacks, is
// listed as skipped with the reason. Every configuration (runtime x precision) writes its own JSON
// into --out, then one combined JSON (bench/profileSummary.ts's ProfileRuns) whose tables are printed;
// `npm run bench:profile:table -- FILE` puts them into the README.
//
//   npm run bench:profile [-- --runtimes node20,node22,node24,node26,deno,bun,chromium,workerd]
//     [--precision strict,fast] [--threads N] [--rounds N] [--clock wall|cpu] [--build B] [--tile T]
//     [--kernels DIR] [--out DIR]
//
// --clock cpu is the processes' CPU time; Chromium's page has none and runs on the wall clock (its
// report says so). --kernels DIR: the builds from DIR (Chromium is then skipped: its page embeds build/).

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { projectRoot } from "../src/node/weights.js";
import type { BuildChoice } from "../src/host/wasm/kernels.js";
import { clockKind } from "./clock.js";
import { formatProfile, profileFileName, type ProfileReport } from "./profileCore.js";
import { profileInChromium } from "./profileChromium.js";
import { profileSection, type ProfileRuns } from "./profileSummary.js";
import {
  parseProfilePrecisions,
  parseProfileRuntimes,
  profileRuntimeIds,
  profileTargets,
  systemProbe,
} from "./profileTargets.js";
import { intOption, usageError } from "./options.js";
import { slug } from "./slug.js";

const ROOT = projectRoot();
const PROFILE = fileURLToPath(new URL("./profile.js", import.meta.url));
/** A profile process that has not finished within this time has hung. */
const CHILD_TIMEOUT_MS = 600_000;

function fail(message: string): never {
  return usageError("bench:profile", message);
}

const { values: opts } = parseArgs({
  options: {
    runtimes: { type: "string", default: profileRuntimeIds().join(",") },
    precision: { type: "string", default: "strict,fast" },
    threads: { type: "string", default: "1" },
    rounds: { type: "string", default: "11" },
    clock: { type: "string", default: "wall" },
    build: { type: "string", default: "auto" },
    tile: { type: "string", default: "auto" },
    kernels: { type: "string" },
    out: { type: "string", default: join(ROOT, "bench", "results") },
  },
});
const int = (name: string, text: string): number => intOption("bench:profile", name, text);
const threads = int("threads", opts.threads);
const rounds = int("rounds", opts.rounds);
let targets: ReturnType<typeof profileTargets> = [];
try {
  clockKind(opts.clock);
  targets = profileTargets(parseProfileRuntimes(opts.runtimes), parseProfilePrecisions(opts.precision), systemProbe, {
    kernels: opts.kernels,
  });
} catch (error) {
  fail((error as Error).message);
}
const outDir = resolve(opts.out);
mkdirSync(outDir, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), "inception-wasm-profiles-"));

/** bench/profile.js under `argv`, its output passed through to stderr; resolves to its report. */
function profileProcess(argv: string[], fast: boolean, file: string): Promise<ProfileReport> {
  const args = [
    ...argv.slice(1),
    PROFILE,
    ...["--rounds", String(rounds), "--threads", String(threads), "--clock", opts.clock],
    ...["--build", opts.build, "--tile", opts.tile, "--json-file", file],
    ...(fast ? ["--fast"] : []),
    ...(opts.kernels ? ["--kernels", resolve(opts.kernels)] : []),
  ];
  return new Promise((done, reject) => {
    const child = spawn(argv[0], args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], timeout: CHILD_TIMEOUT_MS });
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => process.stderr.write(d));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) return done(JSON.parse(readFileSync(file, "utf8")) as ProfileReport);
      const last = stderr.trim().split("\n").filter(Boolean).pop() ?? "";
      reject(new Error(`${signal ? `killed by ${signal}` : `exit ${code}`}${last ? `: ${last}` : ""}`));
    });
  });
}

const runs: ProfileRuns = {
  kind: "profiles",
  schema: 1,
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model.trim() ?? "unknown CPU",
  cores: availableParallelism(),
  command: ["npm run bench:profile", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
  runs: [],
  skipped: [],
};
try {
  for (const [i, t] of targets.entries()) {
    if (t.how === "skip") {
      process.stderr.write(`bench:profile: ${t.runtime} (${t.precision}) skipped: ${t.reason}\n`);
      runs.skipped.push({ runtime: t.runtime, precision: t.precision, reason: t.reason });
      continue;
    }
    process.stderr.write(`\nbench:profile: ${t.runtime} (${t.precision}), ${i + 1} of ${targets.length}\n`);
    const started = performance.now();
    const fast = t.precision === "fast";
    try {
      const report =
        t.how === "chromium"
          ? await profileInChromium({
              build: opts.build as BuildChoice,
              tile: opts.tile,
              fast,
              rounds,
              threads,
              cpu: runs.cpu,
            })
          : await profileProcess(t.argv, fast, join(scratch, `${i}.json`));
      if (t.how === "chromium") process.stderr.write(`${formatProfile(report)}\n`); // a process prints its own
      const seconds = (performance.now() - started) / 1000;
      const file = join(outDir, profileFileName(report));
      writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
      runs.runs.push({ runtime: t.runtime, precision: t.precision, seconds, file: relative(ROOT, file), report });
      process.stderr.write(
        `bench:profile: ${t.runtime} (${t.precision}) ${report.totalMs.toFixed(1)} ms in ${seconds.toFixed(0)} s: ${file}\n`,
      );
    } catch (error) {
      const reason = `failed: ${(error as Error).message}`;
      process.stderr.write(`bench:profile: ${t.runtime} (${t.precision}) ${reason}\n`);
      runs.skipped.push({ runtime: t.runtime, precision: t.precision, reason });
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const combined = join(
  outDir,
  `${runs.date.slice(0, 10)}-${slug(runs.cpu)}-${[...new Set(targets.map((t) => t.runtime))].join("-")}-profiles.json`,
);
writeFileSync(combined, `${JSON.stringify(runs, null, 2)}\n`);
console.log(`${profileSection(runs)}\n\n${combined}`);
if (runs.runs.length === 0) process.exitCode = 1;
