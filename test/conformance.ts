// `npm run conformance [-- SUBSTRING ...]`: every in-scope ONNX backend node test (or those whose
// name contains a SUBSTRING) on the baseline and the relaxed build; prints the table and exits 1
// when any test fails (unsupported tests, with their reason, do not fail).

import { spawnSync } from "node:child_process";
import { compileKernels } from "../src/host/wasm/kernels.js";
import { formatTable, inScopeTests, runCase, type CaseResult } from "./support/conformance.js";
import { nodeRuntime } from "../src/node/runtime.js";

// Node 20 compiles the relaxed build only with this flag (test/run.ts adds it the same way).
const RELAXED_FLAG = "--experimental-wasm-relaxed-simd";
if (Number(process.versions.node.split(".")[0]) <= 20 && !process.execArgv.includes(RELAXED_FLAG)) {
  const child = spawnSync(process.execPath, [RELAXED_FLAG, ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(child.status ?? 1);
}

const filters = process.argv.slice(2);
const tests = inScopeTests().filter((t) => filters.length === 0 || filters.some((f) => t.includes(f)));
const results: CaseResult[] = [];
for (const build of ["baseline", "relaxed"] as const) {
  const compiled = await compileKernels(build, nodeRuntime);
  for (const test of tests) results.push(await runCase(test, compiled));
}
console.log(formatTable(results));
const count = (s: CaseResult["status"]): number => results.filter((r) => r.status === s).length;
console.log(
  `\n${tests.length} tests x 2 builds: ${count("pass")} pass, ${count("unsupported")} unsupported, ${count("fail")} fail`,
);
process.exitCode = count("fail") > 0 ? 1 : 0;
