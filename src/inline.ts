// The inline entry, "inception-wasm/inline": the browser-safe entry (src/index.ts) with the kernel
// builds embedded (base64, about 28 KB of source for both) and, in browsers, the pool worker embedded
// as source. For bundlers that do not copy `new URL(…, import.meta.url)` assets or rewrite
// `new Worker(new URL(…))` (esbuild), and for pages served from places the package's files are not.

import "./host/inline/install.js";

export * from "./index.js";
