// The inline entry, "inception-wasm/inline": the browser-safe entry (src/index.ts) with GoogLeNet on
// the inline runtime (src/host/inline/runtime.ts): the kernel builds embedded (base64; the README
// gives the size) and, in browsers, the pool worker embedded as source. For bundlers that do
// not copy `new URL(…, import.meta.url)` assets or rewrite `new Worker(new URL(…))` (esbuild), and
// for pages served from places the package's files are not.

import { GoogLeNet as Network } from "./api/googlenet.js";
import { inlineRuntime } from "./host/inline/runtime.js";

export * from "./index.js";

/** GoogLeNet on the inline runtime: embedded kernel builds and pool worker. */
export class GoogLeNet extends Network {
  protected static override readonly runtime = inlineRuntime;
}
