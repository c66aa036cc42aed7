// Self time per kernel function from a V8 CPU profile (node --cpu-prof): the profile names wasm
// functions only by index (the release builds have no name section), so this compiles the same
// build once more with names (asc --debug: the same functions in the same order, checked) and
// labels the indices with them. Also JavaScript, GC and idle time, for the whole picture.
//
//   node --experimental-wasm-relaxed-simd --cpu-prof --cpu-prof-dir=prof dist/src/cli/main.js bench --fast --runs 30
//   node dist/bench/wasmProfile.js prof/<file>.cpuprofile [--build relaxed]

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import binaryen from "binaryen";

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { build: { type: "string", default: "relaxed" }, top: { type: "string", default: "15" } },
});
if (positionals.length !== 1) throw new Error("usage: wasm-profile <file.cpuprofile> [--build relaxed|baseline]");
const released = opts.build === "baseline" ? "build/kernels.wasm" : `build/kernels-${opts.build}.wasm`;

/** Function names and body sizes of a module, in index order. */
function functions(bytes: Uint8Array): { name: string; size: number }[] {
  const m = binaryen.readBinary(bytes);
  const out = [];
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const f = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    out.push({ name: f.name, size: binaryen.emitText(f.body).replace(/\$[^\s()]+/g, "$").length });
  }
  m.dispose();
  return out;
}

const named = join(mkdtempSync(join(tmpdir(), "wasm-profile-")), "named.wasm");
execFileSync("npx", ["asc", "assembly/index.ts", "--target", opts.build!, "--debug", "-o", named], { stdio: "ignore" });
const release = functions(readFileSync(released));
const withNames = functions(readFileSync(named));
if (release.length !== withNames.length || release.some((f, i) => f.size !== withNames[i].size))
  throw new Error(`${released} and its named rebuild differ: rebuild the kernels (npm run build:wasm) first`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}
const profile = JSON.parse(readFileSync(positionals[0], "utf8")) as {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const frame = byId.get(id)!.callFrame;
  const wasm = /^(?:\$?wasm-function\[(\d+)\]|\$?(\d+))$/.exec(frame.functionName);
  const index = wasm ? Number(wasm[1] ?? wasm[2]) : -1;
  const name = index >= 0 ? `wasm ${withNames[index]?.name ?? index}` : frame.functionName || `(js ${frame.url})`;
  self.set(name, (self.get(name) ?? 0) + profile.timeDeltas[i]);
  total += profile.timeDeltas[i];
});
console.log(`${positionals[0]}: ${(total / 1e3).toFixed(0)} ms sampled; self time by function (${released}):`);
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(opts.top))) {
  console.log(`${(us / 1e3).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`);
}
