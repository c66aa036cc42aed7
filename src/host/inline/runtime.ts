// The inline entry's Runtime: the web runtime with the kernel builds from embedded bytes and, in
// browsers, pool workers started from the embedded worker source (a blob: URL module worker).
// Nothing is fetched by URL, so any bundler (esbuild included) works without copying assets.

import { webRuntime, type Runtime } from "../engine/runtime.js";
import { wrapWebWorker } from "../exec/workers.js";
import { runtimeName } from "../runtimeName.js";
import { BASELINE_WASM_BASE64, RELAXED_WASM_BASE64, WORKER_SOURCE } from "./assets.js";

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const inBrowser = runtimeName() === "browser" || runtimeName() === "browser-worker";
let workerUrl: string | undefined;

export const inlineRuntime: Runtime = {
  ...webRuntime,
  kernelSource(build) {
    if (build === "baseline") return decodeBase64(BASELINE_WASM_BASE64);
    if (build === "relaxed") return decodeBase64(RELAXED_WASM_BASE64);
    return webRuntime.kernelSource(build); // the debug build is not embedded: the package's file
  },
  spawnWorker(events) {
    if (!inBrowser) return webRuntime.spawnWorker(events);
    workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    return wrapWebWorker(new Worker(workerUrl, { type: "module" }), events, "(inline worker, blob: URL)");
  },
};
