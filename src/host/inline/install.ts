// Installs the inline entry's defaults: the kernel builds from embedded bytes and, in browsers,
// pool workers started from the embedded worker source (a blob: URL module worker). Nothing is
// fetched by URL, so any bundler (esbuild included) works without copying assets.

import { wrapWebWorker } from "../exec/webWorker.js";
import { platform, setPlatform } from "../platform.js";
import { runtimeName } from "../runtime.js";
import { setDefaultKernelSources } from "../wasm/sources.js";
import { BASELINE_WASM_BASE64, RELAXED_WASM_BASE64, WORKER_SOURCE } from "./assets.js";

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

setDefaultKernelSources((build) => {
  if (build === "baseline") return decodeBase64(BASELINE_WASM_BASE64);
  if (build === "relaxed") return decodeBase64(RELAXED_WASM_BASE64);
  return undefined; // the debug build is not embedded: the package's file
});

const runtime = runtimeName();
if (runtime === "browser" || runtime === "browser-worker") {
  let url: string | undefined;
  const base = platform();
  setPlatform({
    ...base,
    spawnWorker(events) {
      url ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
      return wrapWebWorker(new Worker(url, { type: "module" }), events, "(inline worker, blob: URL)");
    },
  });
}
