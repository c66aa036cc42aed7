// Where the kernel builds come from. A runtime names each build's default source (KernelFiles):
// the package's build/*.wasm (packagedKernelSource: literal `new URL("…/build/<file>.wasm",
// import.meta.url)` expressions that Vite, webpack 5, Rollup and Parcel see and copy), or the
// inline entry's embedded bytes; a caller may pass each build as a compiled WebAssembly.Module
// (workerd imports .wasm files as modules and forbids compiling bytes), a URL, a fetch Response or
// the bytes.

import { WasmLoadError } from "../errors.js";

/** The wasm builds: baseline (SIMD, mul then add: same bits on every machine), relaxed
 * (f32x4.relaxed_madd in the GEMM), debug (asserts on, unoptimised). */
export type BuildName = "baseline" | "relaxed" | "debug";

/** One kernel build: compiled, or where its bytes are (a URL string is resolved against the page, if any). */
export type KernelSource = WebAssembly.Module | URL | string | Response | Uint8Array | ArrayBuffer;

/** The builds a caller supplies; "auto" takes relaxed when given and usable, else baseline. */
export type KernelSources = Partial<Record<BuildName, KernelSource>>;

/** What a runtime supplies for reading kernel builds. */
export interface KernelFiles {
  /** Reads the bytes behind a URL (`file:` URLs included where the runtime has files). */
  readUrl(url: URL): Promise<Uint8Array>;
  /** Where a build comes from when the caller passes none (e.g. packagedKernelSource). */
  kernelSource(build: BuildName): KernelSource;
}

/** A build ready to compile (bytes) or already compiled, with where it came from for messages. */
export type LoadedBuild = { file: string; bytes: Uint8Array } | { file: string; module: WebAssembly.Module };

/** The package's build files; each URL is a literal expression so bundlers copy the file. */
function packagedUrl(build: BuildName): URL {
  switch (build) {
    case "baseline":
      return new URL("../../../../build/kernels.wasm", import.meta.url);
    case "relaxed":
      return new URL("../../../../build/kernels-relaxed.wasm", import.meta.url);
    case "debug":
      return new URL("../../../../build/kernels-debug.wasm", import.meta.url);
  }
}

/**
 * The package's file of a build, next to this module. Throws WasmLoadError when the runtime gives
 * modules no usable `import.meta.url` (workerd, edge-runtime's script bundles), naming the
 * `kernels` option.
 */
export function packagedKernelSource(build: BuildName): KernelSource {
  try {
    return packagedUrl(build);
  } catch (cause) {
    throw new WasmLoadError(
      `build/${build === "baseline" ? "kernels" : `kernels-${build}`}.wasm`,
      `cannot locate the ${build} build: this runtime gives modules no import.meta.url ` +
        `(${(cause as Error).message}); import the .wasm files (inception-wasm/build/*.wasm) and pass them ` +
        'as the load option { kernels: { relaxed, baseline } }, or import "inception-wasm/inline"',
      { cause },
    );
  }
}

function resolveUrl(url: string): URL {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(url, base);
  } catch (cause) {
    throw new WasmLoadError(url, "expected an absolute URL for a kernel build (no page to resolve it against)", {
      cause,
    });
  }
}

/** Why bytes that should be wasm are not, in words: an HTML page (a dev server's fallback), text, or else. */
function notWasm(bytes: Uint8Array): string {
  const hex = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
  const text = new TextDecoder().decode(bytes.subarray(0, 16)).replace(/[^\x20-\x7e]/g, ".");
  const found = `expected magic 00 61 73 6d, found ${hex || "no bytes"} ("${text}")`;
  if (/^\s*</.test(text)) {
    return (
      `not a WebAssembly module: an HTML page was served instead (${found}); the server does not have the ` +
      "file at this URL and answered with a page (a dev server's fallback): see the README's Bundlers section"
    );
  }
  return `not a WebAssembly module: ${found}`;
}

function checkMagic(bytes: Uint8Array, file: string): Uint8Array {
  const magic = [0x00, 0x61, 0x73, 0x6d];
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) throw new WasmLoadError(file, notWasm(bytes));
  return bytes;
}

/** Reads a build from its source (a URL through `files`): a Module as is; bytes checked for the wasm magic. */
export async function loadBuild(build: BuildName, source: KernelSource, files: KernelFiles): Promise<LoadedBuild> {
  if (source instanceof WebAssembly.Module) return { file: `${build} build (WebAssembly.Module)`, module: source };
  if (source instanceof Uint8Array) return { file: `${build} build (bytes)`, bytes: checkMagic(source, build) };
  if (source instanceof ArrayBuffer) {
    return { file: `${build} build (bytes)`, bytes: checkMagic(new Uint8Array(source), build) };
  }
  // URLs before Response: the first use of the global Response makes Node 20 load its fetch implementation (60-70 ms).
  if (typeof source !== "string" && !(source instanceof URL)) {
    if (typeof Response === "function" && source instanceof Response) {
      const file = source.url || `${build} build (Response)`;
      if (!source.ok) throw new WasmLoadError(file, `HTTP ${source.status} ${source.statusText}: ${MISSING_HINT}`);
      return { file, bytes: checkMagic(new Uint8Array(await source.arrayBuffer()), file) };
    }
  }
  const url = typeof source === "string" ? resolveUrl(source) : (source as URL);
  let bytes: Uint8Array;
  try {
    bytes = await files.readUrl(url);
  } catch (cause) {
    const message = (cause as Error).message;
    throw new WasmLoadError(url.href, `cannot read the ${build} kernel build: ${message}; ${MISSING_HINT}`, {
      cause,
    });
  }
  return { file: url.href, bytes: checkMagic(bytes, url.href) };
}

const MISSING_HINT =
  "the file is not where the package expects it: a bundler that does not copy `new URL(…, import.meta.url)` " +
  'assets (esbuild) needs import "inception-wasm/inline" or the `kernels` option (README, Bundlers); in a ' +
  "checkout, `npm run build` makes the files";

/** Compiles a build's bytes; the message says whether the runtime forbids compiling or lacks SIMD/threads. */
export function compileBuild(loaded: LoadedBuild): WebAssembly.Module {
  if ("module" in loaded) return loaded.module;
  try {
    return new WebAssembly.Module(loaded.bytes as Uint8Array<ArrayBuffer>);
  } catch (cause) {
    const message = (cause as Error).message;
    const forbidden = /disallowed|not allowed|code generation|unsafe-eval|Content Security Policy/i.test(message);
    throw new WasmLoadError(
      loaded.file,
      forbidden
        ? `this runtime forbids compiling WebAssembly from bytes (${message}): import the .wasm files as modules ` +
            "(Cloudflare Workers do) and pass them as the load option { kernels: { relaxed, baseline } }; in a page, " +
            "allow 'wasm-unsafe-eval' in the Content-Security-Policy"
        : `does not compile in this runtime (needs WebAssembly SIMD and threads): ${message}`,
      { cause },
    );
  }
}
