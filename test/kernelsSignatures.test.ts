// The kernel interface by name: every export the host declares (the scheduled kernels' records in
// src/host/wasm/calls.ts, the queries in src/host/wasm/kernels.ts) names the parameters of the
// AssemblyScript export in assembly/, in order, as the compiler's parser reads them; every
// export of the module is declared; parameters passed on by name inside assembly/ keep their
// place. The parse is held to the compiled builds (the same exports, the same parameter counts),
// and the comparison is shown to catch a swapped pair (strideY/strideX, padTop/padLeft).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { nodeRuntime } from "../src/node/runtime.js";
import { KERNELS } from "../src/host/wasm/calls.js";
import { compileKernels, declaredExports } from "../src/host/wasm/kernels.js";
import { assemblyExports, forwardingMismatches, signatureMismatches } from "./support/assemblyExports.js";

const exports = assemblyExports();
const declared = declaredExports();

test("every declared export names the AssemblyScript parameters, in order", () => {
  assert.equal(signatureMismatches(declared, exports), []);
  console.log(`  ${declared.length} exports, ${declared.reduce((n, [, p]) => n + p.length, 0)} parameters by name`);
});

test("every export of the kernel module is declared by the host", () => {
  const names = new Set(declared.map(([name]) => name));
  assert.equal(
    [...exports.keys()].filter((name) => !names.has(name)),
    [],
    "exports the host does not declare (declare them in wasm/kernels.ts or wasm/calls.ts, or drop them)",
  );
});

test("parameters passed on by name inside assembly/ keep their position", () => {
  assert.equal(forwardingMismatches(), []);
});

for (const build of ["baseline", "relaxed", "debug"] as const) {
  test(`${build}: the parsed exports are the compiled module's, with the same parameter counts`, async () => {
    const { module } = await compileKernels(build, nodeRuntime);
    const compiled = WebAssembly.Module.exports(module).filter((e) => e.kind === "function");
    assert.equal(compiled.map((e) => e.name).sort(), [...exports.keys()].sort());
    // Parameter counts from an instance (a function's length is its wasm parameter count).
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const abort = () => {
      throw new Error("abort");
    };
    const instance = new WebAssembly.Instance(module, { env: { memory, abort } });
    for (const [name, ex] of exports) {
      assert.is((instance.exports[name] as (...a: number[]) => unknown).length, ex.params.length, name);
    }
  });
}

test("the comparison catches two swapped names (strideY/strideX, padTop/padLeft) and a missing one", () => {
  const swap = (args: readonly string[], a: string, b: string): string[] =>
    args.map((x) => (x === a ? b : x === b ? a : x));
  const gemmConv = swap(swap(KERNELS.gemmConv.args, "strideY", "strideX"), "padTop", "padLeft");
  const problems = signatureMismatches([["gemmConv", gemmConv]], exports);
  assert.is(problems.length, 1);
  for (const pair of ["strideX vs strideY", "strideY vs strideX", "padLeft vs padTop", "padTop vs padLeft"])
    assert.ok(problems[0].includes(pair), problems[0]);
  const avgPool = swap(KERNELS.avgPool.args, "padBottom", "padRight");
  assert.is(signatureMismatches([["avgPool", avgPool]], exports).length, 1);
  const short = KERNELS.lrn.args.slice(0, -1);
  assert.match(signatureMismatches([["lrn", short]], exports)[0], /\(none\) vs c1/);
  assert.match(signatureMismatches([["noSuchKernel", []]], exports)[0], /not exported/);
});

test.run();
