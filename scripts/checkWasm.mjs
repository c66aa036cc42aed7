// Post-build check of the kernel builds with binaryen: each module must validate with only
// the features its build may use (so no relaxed-SIMD opcode slips into the baseline), must
// hold no mutable globals (kernels keep no mutable static data: several threads run the
// same module over one memory), and must stay under the size budget. Prints each size.
import binaryen from "binaryen";
import { readFileSync } from "node:fs";

const F = binaryen.Features;
const threads = F.MVP | F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.Atomics | F.SIMD128;
const builds = [
  { file: "build/kernels.wasm", features: threads, relaxed: false },
  { file: "build/kernels-relaxed.wasm", features: threads | F.RelaxedSIMD, relaxed: true },
  { file: "build/kernels-debug.wasm", features: threads, relaxed: false },
];
const BUDGET = 64 * 1024;

let failed = false;
for (const { file, features, relaxed } of builds) {
  const bytes = readFileSync(file);
  const module = binaryen.readBinary(bytes);
  module.setFeatures(features);
  const problems = [];
  if (!module.validate()) problems.push("does not validate with its build's features");
  const text = module.emitText();
  if (relaxed !== /relaxed_madd/.test(text)) problems.push(relaxed ? "has no relaxed_madd" : "uses relaxed SIMD");
  const mutable = text.match(/\(global \$\S+ \(mut /g) ?? [];
  // The stack pointer of the stub runtime is the one mutable global the debug build may keep.
  if (mutable.length > 0 && !file.includes("debug")) problems.push(`${mutable.length} mutable global(s)`);
  if (bytes.length > BUDGET) problems.push(`${bytes.length} bytes, over the ${BUDGET}-byte budget`);
  module.dispose();
  console.log(`${file}: ${bytes.length} bytes${problems.length ? " - " + problems.join("; ") : ", ok"}`);
  failed ||= problems.length > 0;
}
if (failed) process.exit(1);
