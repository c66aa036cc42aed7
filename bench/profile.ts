// Per-layer profile of GoogLeNet on the running engine (Node, Deno or Bun): bench/profileCore.ts
// measures (its header says how each cause is measured); this driver compiles the kernels from
// build/ (or --kernels DIR), reads the real weights from the data folder, prints the profile and
// writes its JSON. `npm run bench:profile` (bench/profileRuns.ts) runs it under every runtime.
//
//   node dist/bench/profile.js [--build B] [--tile T] [--fast] [--rounds N] [--threads N] [--clock wall|cpu]
//     [--json] [--json-file FILE] [--kernels DIR]   (the builds from DIR instead of build/: a kernel variant under study)
//
// --json writes bench/results/<date>-<cpu>-<runtime>-<build>-<precision>-t<N>-profile.json,
// --json-file FILE writes it to FILE. Nothing here needs a V8 profiler; bench/wasmProfile.ts labels
// a V8 CPU profile.

import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { expectedWeights } from "../src/host/ir/tensors.js";
import { runtimeLabel } from "../src/host/runtimeName.js";
import { compileKernels, type BuildChoice } from "../src/host/wasm/kernels.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { nodeRuntime } from "../src/node/runtime.js";
import { loadWeights } from "../src/node/weights.js";
import { clockKind, clockNow } from "./clock.js";
import { formatProfile, profileFileName, profileNetwork } from "./profileCore.js";

const { values: opts } = parseArgs({
  options: {
    build: { type: "string", default: "auto" },
    tile: { type: "string", default: "auto" },
    fast: { type: "boolean", default: false },
    rounds: { type: "string", default: "11" },
    threads: { type: "string", default: "1" },
    clock: { type: "string", default: "wall" },
    json: { type: "boolean", default: false },
    "json-file": { type: "string" },
    kernels: { type: "string" },
  },
});
// --kernels DIR: the builds from another folder (kernels.wasm, kernels-relaxed.wasm), e.g. a variant of the kernels under study.
const dir = opts.kernels ? pathToFileURL(`${resolve(opts.kernels)}/`) : undefined;
const compiled = await compileKernels(
  opts.build as BuildChoice,
  nodeRuntime,
  dir && { baseline: new URL("kernels.wasm", dir), relaxed: new URL("kernels-relaxed.wasm", dir) },
);
const { tensors } = await loadWeights({ expected: expectedWeights(googlenetGraph(), 224, 224) });
const report = await profileNetwork({
  compiled,
  tensors,
  tile: opts.tile,
  fast: opts.fast,
  rounds: Number(opts.rounds),
  threads: Number(opts.threads),
  now: clockNow(clockKind(opts.clock)),
  clock: opts.clock,
  host: nodeRuntime,
  runtime: runtimeLabel(),
  cpu: cpus()[0]?.model.trim() ?? "unknown CPU",
  kernels: opts.kernels ?? "build/",
});
console.log(formatProfile(report));
const file = opts["json-file"]
  ? resolve(opts["json-file"])
  : opts.json
    ? new URL(profileFileName(report), new URL("../../bench/results/", import.meta.url)).pathname
    : undefined;
if (file) {
  mkdirSync(resolve(file, ".."), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${file}`);
}
