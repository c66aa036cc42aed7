// LiteRT.js's wasm builds by file stem (no imports: the Chromium page's bundle and the Node start share it).

/** LiteRT.js's wasm builds, as its loader picks them (threads need relaxed SIMD; the JSPI build, for WebNN and WebGPU partitions, is not used). */
export const LITERT_WASM = {
  threaded: "litert_wasm_threaded_internal",
  relaxed: "litert_wasm_internal",
  compat: "litert_wasm_compat_internal",
} as const;
