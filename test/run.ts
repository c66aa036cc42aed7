// Test runner: runs every dist/test/**/*.test.js in its own child process (uvu suites),
// adds up uvu's per-file totals and prints the closing line `N passed, N failed`.
// Exits non-zero when any test failed, a file crashed, or no test ran at all.
//
// Usage: node dist/test/run.js [substring ...]   (only files whose path contains one)
// Env: TEST_RUNTIME=node|deno|bun selects the runtime for the child processes.

import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith(".test.js")) out.push(path);
  }
  return out;
}

interface FileResult { file: string; total: number; passed: number; crashed: boolean; ms: number }

function runFile(file: string): Promise<FileResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => { out += d; process.stdout.write(d); });
    child.stderr.on("data", (d: Buffer) => { process.stderr.write(d); });
    child.on("close", (code) => {
      const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? NaN);
      const parsed = Number.isFinite(total) && Number.isFinite(passed);
      resolve({
        file,
        total: parsed ? total : 0,
        passed: parsed ? passed : 0,
        crashed: !parsed || (code !== 0 && passed === total),
        ms: Date.now() - started,
      });
    });
  });
}

const filters = process.argv.slice(2);
const files = findTests(here).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
let passed = 0, failed = 0;
const crashedFiles: string[] = [];
for (const file of files) {
  console.log(`\n# ${relative(here, file)}`);
  const r = await runFile(file);
  passed += r.passed;
  failed += r.total - r.passed;
  if (r.crashed) { failed += 1; crashedFiles.push(relative(here, file)); }
  console.log(`# ${relative(here, file)}: ${r.passed}/${r.total} in ${(r.ms / 1000).toFixed(1)} s`);
}
if (crashedFiles.length) console.log(`\nCrashed (counted as one failure each): ${crashedFiles.join(", ")}`);
if (passed + failed === 0) console.log("\nNo test ran.");
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
