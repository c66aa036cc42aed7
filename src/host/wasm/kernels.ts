// Loading the kernel module (assembly/ compiled to build/*.wasm): reading, validating,
// choosing the build, compiling once and instantiating over a shared memory.
// This is the one place that instantiates wasm (through @assemblyscript/loader).

import { instantiateSync } from "@assemblyscript/loader";
import { WasmLoadError } from "../errors.js";
import {
  declaredArity,
  encodeCall,
  KERNEL_NAMES,
  type KernelCall,
  type KernelFunction,
  type KernelName,
} from "./calls.js";
import { nodeMajor, nodeVersion } from "../runtime.js";
import {
  compileBuild,
  defaultKernelSource,
  loadBuild,
  type BuildName,
  type KernelSource,
  type KernelSources,
  type LoadedBuild,
} from "./sources.js";

export type { BuildName, KernelSource, KernelSources } from "./sources.js";
/** A build, or "auto": relaxed where the runtime validates it and it passes the self-test, else baseline. */
export type BuildChoice = BuildName | "auto";

/** The module's size queries and helpers: pointers are byte offsets into the shared memory. */
export interface KernelQueries {
  heapBase(): number;
  gemmTileCount(): number;
  gemmTileRows(tile: number): number;
  gemmTileCols(tile: number): number;
  gemmKBlock(): number;
  gemmScratchBytes(): number;
  packedWeightsBytes(M: number, K: number, tile: number): number;
  packWeights(src: number, dst: number, M: number, K: number, tile: number): void;
  probePeak(src: number, iterations: number): number;
  probeTile(tile: number, a: number, b: number, c: number, kc: number, iterations: number, tmp: number): void;
  winogradTileRows(): number;
  winogradTileBlock(): number;
  winogradOutputTile(r: number): number;
  winogradScratchBytes(C: number): number;
  winogradFilterBytes(M: number, C: number): number;
  winogradFilters(src: number, dst: number, M: number, C: number, r: number): void;
}

/**
 * An instance's exports: the queries, and every scheduled kernel (declared in calls.ts, called
 * with its arguments in parameter order, bools as i32). Contracts are in assembly/*.ts.
 */
export type KernelExports = KernelQueries & Record<KernelName, KernelFunction>;

/** Parameter count of each query export. */
const QUERY_ARITY: Record<keyof KernelQueries, number> = {
  heapBase: 0,
  gemmTileCount: 0,
  gemmTileRows: 1,
  gemmTileCols: 1,
  gemmKBlock: 0,
  gemmScratchBytes: 0,
  packedWeightsBytes: 3,
  packWeights: 5,
  probePeak: 2,
  probeTile: 7,
  winogradTileRows: 0,
  winogradTileBlock: 0,
  winogradOutputTile: 1,
  winogradScratchBytes: 1,
  winogradFilterBytes: 2,
  winogradFilters: 5,
};

/** A compiled build, ready to instantiate in any number of threads. */
export interface CompiledKernels {
  build: BuildName;
  module: WebAssembly.Module;
  /** Size of the .wasm file in bytes (0 when given as a compiled WebAssembly.Module). */
  bytes: number;
  /** The .wasm file (undefined when given as a compiled WebAssembly.Module). */
  code: Uint8Array | undefined;
  /** Why this build was chosen (e.g. "relaxed SIMD not supported by this runtime"). */
  reason: string;
}

/**
 * Why "auto" takes the baseline when the runtime does not validate the relaxed build. Node 20
 * validates relaxed SIMD only when started with the V8 flag (Node 22+ without); the library
 * never sets V8 flags itself (unsafe after start-up; it aborts Node 26).
 */
function relaxedUnsupportedReason(): string {
  const node = nodeMajor();
  return node !== undefined && node <= 20
    ? `relaxed SIMD is not supported by this runtime: Node ${nodeVersion()} validates it only when started ` +
        "with `node --experimental-wasm-relaxed-simd` (Node 22 and later without a flag)"
    : "relaxed SIMD is not supported by this runtime";
}

function sizeOf(loaded: LoadedBuild): number {
  return "bytes" in loaded ? loaded.bytes.length : 0;
}

function codeOf(loaded: LoadedBuild): Uint8Array | undefined {
  return "bytes" in loaded ? loaded.bytes : undefined;
}

/**
 * Reads and compiles a build, from `sources` (each build as a compiled module, URL, Response or
 * bytes) or the defaults (defaultKernelSource: the package's files, or the inline entry's bytes).
 * "auto" takes the relaxed build when the runtime validates it (WebAssembly.validate, no engine
 * flag is set; a given module counts as validated) and its GEMM passes a self-test with a known
 * exact result, else the baseline; `reason` says which and why. With `sources` that hold only
 * one build, "auto" takes that one.
 */
export async function compileKernels(choice: BuildChoice = "auto", sources?: KernelSources): Promise<CompiledKernels> {
  const sourceOf = (build: BuildName): KernelSource => {
    const given = sources?.[build];
    if (given !== undefined) return given;
    if (sources !== undefined && Object.keys(sources).length > 0) {
      throw new WasmLoadError(
        `${build} build`,
        `the kernels option supplies ${Object.keys(sources).join(", ")}, not the ${build} build that is needed`,
      );
    }
    return defaultKernelSource(build);
  };
  if (choice !== "auto") {
    const loaded = await loadBuild(choice, sourceOf(choice));
    return {
      build: choice,
      module: compileBuild(loaded),
      bytes: sizeOf(loaded),
      code: codeOf(loaded),
      reason: "requested",
    };
  }
  const onlyBaseline = sources !== undefined && sources.relaxed === undefined && sources.baseline !== undefined;
  const relaxed = onlyBaseline ? undefined : await loadBuild("relaxed", sourceOf("relaxed"));
  let reason = onlyBaseline ? "the kernels option supplies the baseline build only" : relaxedUnsupportedReason();
  if (
    relaxed !== undefined &&
    ("module" in relaxed || WebAssembly.validate(relaxed.bytes as Uint8Array<ArrayBuffer>))
  ) {
    const module = compileBuild(relaxed);
    const failure = selfTest(module);
    if (failure === undefined) {
      return {
        build: "relaxed",
        module,
        bytes: sizeOf(relaxed),
        code: codeOf(relaxed),
        reason: "relaxed SIMD validated and passed the self-test",
      };
    }
    reason = `relaxed build failed its self-test: ${failure}`;
  }
  const base = await loadBuild("baseline", sourceOf("baseline"));
  return { build: "baseline", module: compileBuild(base), bytes: sizeOf(base), code: codeOf(base), reason };
}

/**
 * Memories given back (releaseSharedMemory) by size, "initial/maximum" pages, held weakly: until
 * the garbage collector frees one, the next memory of its size is that one. V8 collects a dead
 * wasm memory only at a major collection, which its pages do not hasten: in a load/dispose loop
 * that allocates little else, dead networks' memories (35 MB each) were measured piling up to
 * 10 deep (RSS +35 MB a cycle) between collections.
 */
const released = new Map<string, WeakRef<WebAssembly.Memory>>();
const sizeKeys = new WeakMap<WebAssembly.Memory, string>();

/**
 * A WebAssembly.Memory shared between threads, sized in bytes (rounded up to 64 KiB pages), all
 * zero: a fresh one, or one of that size given back and not yet collected, zeroed.
 */
export function createSharedMemory(initialBytes: number, maximumBytes: number): WebAssembly.Memory {
  const page = 65536;
  const initial = Math.max(1, Math.ceil(initialBytes / page));
  const maximum = Math.max(initial, Math.min(65536, Math.ceil(maximumBytes / page)));
  const key = `${initial}/${maximum}`;
  const reused = released.get(key)?.deref();
  released.delete(key);
  if (reused && reused.buffer.byteLength === initial * page) {
    new Uint8Array(reused.buffer).fill(0);
    return reused;
  }
  const memory = new WebAssembly.Memory({ initial, maximum, shared: true });
  sizeKeys.set(memory, key);
  return memory;
}

/**
 * Gives `memory` (from createSharedMemory) back for reuse: only once nothing will read or write it
 * again (its network disposed, every worker stopped). It stays the collector's to free.
 */
export function releaseSharedMemory(memory: WebAssembly.Memory): void {
  const key = sizeKeys.get(memory);
  if (key !== undefined) released.set(key, new WeakRef(memory));
}

/** Instantiates a compiled build over `memory` (shared; the same memory for every thread). */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const { exports } = instantiateSync<Record<string, unknown>>(module, { env: { memory, abort: onAbort } });
  const arity: [string, number][] = [
    ...Object.entries(QUERY_ARITY),
    ...KERNEL_NAMES.map((n) => [n, declaredArity(n)] as [string, number]),
  ];
  const kernels: Record<string, unknown> = {};
  for (const [name, params] of arity) {
    const wrapped = exports[name] as ((...args: number[]) => number) & { original?: (...args: number[]) => number };
    if (typeof wrapped !== "function") throw new WasmLoadError("kernel module", `missing export ${name}`);
    const raw = wrapped.original ?? wrapped; // the raw export: skips the loader's per-call wrapper
    if (raw.length !== params) {
      throw new WasmLoadError(
        "kernel module",
        `export ${name} takes ${raw.length} parameters, its declaration names ${params}`,
      );
    }
    kernels[name] = raw;
  }
  return kernels as KernelExports;
}

/** The debug build's assert handler: turns an AssemblyScript abort into a JS error. */
function onAbort(_message: number, _file: number, line: number, column: number): never {
  throw new Error(`kernel assertion failed at assembly line ${line}:${column}`);
}

/**
 * Runs a small GEMM whose exact result is known (small integers: every product and sum is
 * exact in f32, fused or not) with every tile. Returns a description of the first mismatch, or undefined.
 */
function selfTest(module: WebAssembly.Module): string | undefined {
  const memory = createSharedMemory(1 << 20, 1 << 20);
  let k: KernelExports;
  try {
    k = instantiateKernels(module, memory);
  } catch (error) {
    return `instantiation failed: ${(error as Error).message}`;
  }
  const M = 5,
    K = 7,
    N = 11;
  const base = (k.heapBase() + 63) & ~63;
  const a = base,
    packed = a + 4096,
    b = packed + 4096,
    c = b + 4096,
    scratch = c + 4096;
  const f = new Float32Array(memory.buffer);
  for (let i = 0; i < M * K; i++) f[a / 4 + i] = (i % 5) - 2;
  for (let i = 0; i < K * N; i++) f[b / 4 + i] = (i % 7) - 3;
  for (let tile = 0; tile < k.gemmTileCount(); tile++) {
    k.packWeights(a, packed, M, K, tile);
    k.gemmDense(tile, packed, 0, M, K, N, b, c, N, 0, M, 0, N, 0, scratch);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let want = 0;
        for (let j = 0; j < K; j++) want += f[a / 4 + m * K + j] * f[b / 4 + j * N + n];
        const got = f[c / 4 + m * N + n];
        if (got !== want) return `tile ${tile}: C[${m}][${n}] = ${got}, expected ${want}`;
      }
    }
  }
  return undefined;
}

/** Bytes of the private memory warmUpKernels runs in: four 1 MiB areas after the heap base. */
const WARM_UP_BYTES = 5 << 20;

/**
 * Rounds of warmUpKernels. V8 tiers a function up once it has run a budget of baseline code:
 * in these rounds every kernel that real runs make hot (the last: LRN, softmax, FC) got
 * there within about 20-80 rounds under Node 20 to 26 on the project's machine.
 */
const WARM_UP_ROUNDS = 100;

/**
 * Gets the kernels of `module` out of the engine's baseline tier before their first real call.
 * V8 compiles wasm first with its baseline compiler (Liftoff; these kernels run 2-3x slower in
 * it) and compiles a function again, optimised and in the background, once it has run enough;
 * a call keeps the code it started with (V8 has no on-stack replacement for wasm), so a long
 * first call would run unoptimised to its end. This makes WARM_UP_ROUNDS rounds of short calls
 * (about 0.1 ms a round) of every inference kernel (GEMMs with `tile`), on problems shaped like GoogLeNet's, over a
 * private memory of its own. Compiled code belongs to the module: the optimised code then
 * serves every instance and thread. Other engines run the same calls (JavaScriptCore, in Bun,
 * can tier up inside a running call anyway). Results are discarded. `pause` is awaited after every
 * round (it lets I/O started before proceed: the packed weights cache is read meanwhile).
 */
export async function warmUpKernels(
  module: WebAssembly.Module,
  tile: number,
  pause?: () => Promise<void> | undefined,
): Promise<void> {
  const memory = createSharedMemory(WARM_UP_BYTES, WARM_UP_BYTES);
  const k = instantiateKernels(module, memory);
  const MB = 1 << 20;
  const base = (k.heapBase() + 63) & ~63;
  const src = base,
    dst = base + MB,
    packed = base + 2 * MB,
    scratch = base + 3 * MB;
  const values = new Float32Array(memory.buffer, src, MB / 4);
  for (let i = 0; i < values.length; i++) values[i] = ((i * 7) % 9) - 4;
  k.packWeights(src, packed, 128, 147, tile);
  const winogradFilters = packed + MB / 2;
  k.winogradFilters(src, winogradFilters, 16, 8, 3);
  const winograd5Filters = winogradFilters + MB / 8;
  k.winogradFilters(src, winograd5Filters, 16, 8, 5);
  const gemm = { tile, a: packed, bias: src, src, dst, relu: 1, scratch, m0: 0, n0: 0 };
  const one = { images: 1 };
  const pool = (k: number, stride: number, pad: number) =>
    ({ kh: k, kw: k, strideY: stride, strideX: stride, padTop: pad, padLeft: pad }) as const;
  const calls: KernelCall[] = [
    // 3x3 stride 1 pad 1, 8 x 14x14 in: N = 196 ends in a partly filled panel (a narrower kernel)
    {
      kernel: "gemmConv",
      args: {
        ...gemm,
        ...one,
        M: 16,
        K: 72,
        N: 196,
        H: 14,
        W: 14,
        kh: 3,
        kw: 3,
        strideY: 1,
        strideX: 1,
        padTop: 1,
        padLeft: 1,
        outW: 14,
        ldc: 196,
        m1: 16,
        n1: 196,
      },
    },
    // 7x7 stride 2 pad 3, 3 x 14x14 in: the stride-2 im2col, N = 49 ends in a panel of 1 column
    {
      kernel: "gemmConv",
      args: {
        ...gemm,
        ...one,
        M: 16,
        K: 147,
        N: 49,
        H: 14,
        W: 14,
        kh: 7,
        kw: 7,
        strideY: 2,
        strideX: 2,
        padTop: 3,
        padLeft: 3,
        outW: 7,
        ldc: 49,
        m1: 16,
        n1: 49,
      },
    },
    // 1x1: dense B; 32 row panels each end in an edge tile (edgeEpilogue, called per edge tile)
    { kernel: "gemmDense", args: { ...gemm, M: 128, K: 8, N: 12, ldc: 12, m1: 128, n1: 12 } },
    // Winograd 3x3 and 5x5 (fast mode), 8 x 14x14 in: 16 and 49 tiles, the last row and column of them clipped
    {
      kernel: "winogradConv",
      args: { ...gemm, u: winogradFilters, M: 16, C: 8, r: 3, ...one, H: 14, W: 14, m1: 16, t0: 0, t1: 16 },
    },
    {
      kernel: "winogradConv",
      args: { ...gemm, u: winograd5Filters, M: 16, C: 8, r: 5, ...one, H: 14, W: 14, m1: 16, t0: 0, t1: 49 },
    },
    { kernel: "maxPool", args: { src, dst, H: 14, W: 14, outH: 14, outW: 14, ...pool(3, 1, 1), c0: 0, c1: 16 } },
    { kernel: "maxPool", args: { src, dst, H: 15, W: 15, outH: 7, outW: 7, ...pool(3, 2, 0), c0: 0, c1: 16 } },
    {
      kernel: "avgPool",
      args: {
        src,
        dst,
        H: 7,
        W: 7,
        outH: 1,
        outW: 1,
        ...pool(7, 1, 0),
        padBottom: 0,
        padRight: 0,
        countPad: 1,
        c0: 0,
        c1: 128,
      },
    },
    { kernel: "lrn", args: { src, dst, C: 16, HW: 198, size: 5, alpha: 1e-4, beta: 0.75, k: 1, c0: 0, c1: 16 } },
    { kernel: "fullyConnected", args: { w: src, bias: src, x: src, y: dst, inF: 1024, images: 1, o0: 0, o1: 32 } },
    { kernel: "softmax", args: { src, dst, n: 1000, images: 1 } },
  ];
  const encoded = calls.map((c) => ({ fn: k[c.kernel], args: encodeCall(c) }));
  for (let round = 0; round < WARM_UP_ROUNDS; round++) {
    for (const c of encoded) c.fn(...c.args);
    await pause?.();
  }
  releaseSharedMemory(memory);
}
