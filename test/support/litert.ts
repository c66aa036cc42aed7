// LiteRT.js (@litertjs/core) under Node, Deno or Bun, for the comparison suite's engine
// (bench/engines.ts) and the TFLite export's test. Its loader is written for pages: it runs the
// chosen build's Emscripten JavaScript with a <script> or importScripts, which sets
// self.ModuleFactory. Here importScripts is a require of that file. The file is CommonJS inside a
// "type": "module" package, so its JavaScript (only that) is copied into a temporary CommonJS
// folder, from which the threaded build's pthreads (worker_threads) start it too; Module.locateFile
// points the .wasm files at the package's own. Node 20 has no `navigator`: the pthread pool is
// sized by navigator.hardwareConcurrency, so it gets one with the cores available.

import { copyFile, mkdtemp, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type * as LiteRt from "@litertjs/core";
import { LITERT_WASM } from "./litertWasm.js";

const require = createRequire(import.meta.url);

/** The @litertjs/core package folder (its wasm/ holds the builds) and version. */
export function litertPackage(): { dir: string; version: string } {
  const file = require.resolve("@litertjs/core/package.json");
  return { dir: dirname(file), version: (require(file) as { version: string }).version };
}

/**
 * Loads LiteRT.js's wasm (the threaded build when `threaded`, else the one its loader picks) in
 * this process (once: LiteRT.js keeps one global instance). Returns the temporary folder of the
 * copied JavaScript, for the caller to remove when done.
 */
export async function startLitertNode(lrt: typeof LiteRt, threaded: boolean): Promise<string> {
  const wasmDir = join(litertPackage().dir, "wasm");
  const dir = await mkdtemp(join(tmpdir(), "inception-wasm-litert-"));
  await writeFile(join(dir, "package.json"), '{ "type": "commonjs" }\n');
  await Promise.all(Object.values(LITERT_WASM).map((f) => copyFile(join(wasmDir, `${f}.js`), join(dir, `${f}.js`))));
  const g = globalThis as unknown as Record<string, unknown>;
  g.self ??= globalThis;
  g.navigator ??= { hardwareConcurrency: availableParallelism() };
  g.importScripts = (file: string) => {
    g.ModuleFactory = require(file);
  };
  g.Module = { locateFile: (file: string) => join(wasmDir, file) };
  await lrt.loadLiteRt(`${dir}/`, { threads: threaded });
  return dir;
}
