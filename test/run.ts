// Test runner: runs every dist/test/**/*.test.js in its own child process (uvu suites),
// adds up uvu's per-file totals and prints the closing line `N passed, N failed`.
// Exits non-zero when any test failed, a file crashed or timed out, a runtime is missing,
// or no test ran at all. A file that does not exit on its own within FILE_TIMEOUT_MS (e.g.
// a worker left running after dispose) is killed and counted as crashed.
//
// Usage: node dist/test/run.js [--also RUNTIME[,RUNTIME...]:SUBSTRING ...] [SUBSTRING ...]
//   SUBSTRING   only files whose path under test/ contains one (default: all), run under
//               $TEST_RUNTIME
//   --also      then also run the files whose path contains SUBSTRING under each RUNTIME,
//               e.g. `--also node22,node24,node26,deno,bun:runtimes` (what `npm test` does)
// Env: TEST_RUNTIME=node|node22|node24|node26|deno|bun (default node) selects the runtime of
// the main run.
//
// Runtimes: see test/support/runtimes.ts (also the comparison suite's runtime matrix).

import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { RUNTIMES, runtimeCommand as command, type Runtime } from "./support/runtimes.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const FILE_TIMEOUT_MS = 300_000;

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith(".test.js")) out.push(path);
  }
  return out;
}

function parseRuntime(name: string, where: string): Runtime {
  const r = RUNTIMES.find((x) => x === name);
  if (!r) throw new Error(`${where}: expected one of ${RUNTIMES.join(", ")}, found "${name}"`);
  return r;
}

interface FileResult {
  total: number;
  passed: number;
  crashed: string | undefined;
  ms: number;
}

function runFile(argv: string[], file: string): Promise<FileResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0], [...argv.slice(1), file], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", DENO_NO_UPDATE_CHECK: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, FILE_TIMEOUT_MS);
    child.stdout.on("data", (d: Buffer) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on("data", (d: Buffer) => {
      process.stderr.write(d);
    });
    child.on("error", (e) => {
      out += `\n${e.message}`;
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? NaN);
      const parsed = Number.isFinite(total) && Number.isFinite(passed);
      let crashed: string | undefined;
      if (timedOut) crashed = `did not exit within ${FILE_TIMEOUT_MS / 1000} s`;
      else if (!parsed) crashed = `no uvu summary (exit ${code})`;
      else if (code !== 0 && passed === total) crashed = `exit ${code} after all tests passed`;
      resolve({ total: parsed ? total : 0, passed: parsed ? passed : 0, crashed, ms: Date.now() - started });
    });
  });
}

const filters: string[] = [];
const runs: { runtime: Runtime; filters: string[] }[] = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] !== "--also") {
    filters.push(args[i]);
    continue;
  }
  const spec = args[++i] ?? "";
  const colon = spec.lastIndexOf(":");
  if (colon <= 0 || colon === spec.length - 1)
    throw new Error(`--also: expected RUNTIME[,RUNTIME...]:SUBSTRING, found "${spec}"`);
  for (const name of spec.slice(0, colon).split(","))
    runs.push({ runtime: parseRuntime(name, "--also"), filters: [spec.slice(colon + 1)] });
}
runs.unshift({ runtime: parseRuntime(process.env["TEST_RUNTIME"] || "node", "TEST_RUNTIME"), filters });

const allFiles = findTests(here);
let passed = 0,
  failed = 0;
const problems: string[] = [];
for (const run of runs) {
  const files = allFiles.filter(
    (f) => run.filters.length === 0 || run.filters.some((s) => relative(here, f).includes(s)),
  );
  const cmd = command(run.runtime);
  console.log(`\n## ${run.runtime}: ${files.length} file(s)${"version" in cmd ? `, ${cmd.version}` : ""}`);
  if ("error" in cmd || files.length === 0) {
    const why = "error" in cmd ? cmd.error : `no test file matches ${run.filters.join(" or ")}`;
    console.log(`# ${why}`);
    failed += 1;
    problems.push(`${run.runtime}: ${why}`);
    continue;
  }
  for (const file of files) {
    const name = `[${run.runtime}] ${relative(here, file)}`;
    console.log(`\n# ${name}`);
    const r = await runFile(cmd.argv, file);
    passed += r.passed;
    failed += r.total - r.passed;
    if (r.crashed !== undefined) {
      failed += 1;
      problems.push(`${name}: ${r.crashed}`);
    }
    console.log(`# ${name}: ${r.passed}/${r.total} in ${(r.ms / 1000).toFixed(1)} s`);
  }
}
if (problems.length) console.log(`\nCounted as one failure each:\n  ${problems.join("\n  ")}`);
if (passed + failed === 0) console.log("\nNo test ran.");
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
