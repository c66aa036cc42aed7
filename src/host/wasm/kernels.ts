// Loading the kernel module (assembly/ compiled to build/*.wasm): reading, validating,
// choosing the build, compiling once and instantiating over a shared memory.
// This is the one place that instantiates wasm (through @assemblyscript/loader).

import { instantiateSync } from "@assemblyscript/loader";
import { WasmLoadError } from "../errors.js";
import { Arena } from "./arena.js";
import { encodeCall, KERNEL_NAMES, KERNELS, type KernelCall, type KernelFunction, type KernelName } from "./calls.js";
import { nodeMajor, nodeVersion } from "../runtimeName.js";
import {
  compileBuild,
  loadBuild,
  type BuildName,
  type KernelFiles,
  type KernelSource,
  type KernelSources,
  type LoadedBuild,
} from "./sources.js";

export type { BuildName, KernelFiles, KernelSource, KernelSources } from "./sources.js";
/** A build, or "auto": relaxed where the runtime validates it and it passes the self-test, else baseline. */
export type BuildChoice = BuildName | "auto";

/** The module's size queries and helpers: pointers are byte offsets into the shared memory. */
export interface KernelQueries {
  heapBase(): number;
  gemmTileCount(): number;
  gemmTileRows(tile: number): number;
  gemmTileCols(tile: number): number;
  gemmTileLoads(tile: number): number;
  gemmKBlock(): number;
  gemmScratchBytes(): number;
  packedWeightsBytes(M: number, K: number, tile: number): number;
  packWeights(src: number, dst: number, M: number, K: number, tile: number): void;
  probePeak(src: number, iterations: number): number;
  probeTile(tile: number, a: number, b: number, c: number, kc: number, iterations: number, tmp: number): void;
  probeRegisterChains(): number;
  probeRegisterPeak(x: number, y: number, iterations: number): number;
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

/**
 * Parameter names of each query export, in the order of its parameters (assembly/*.ts;
 * test/kernelsSignatures.test.ts holds these and calls.ts's records to the sources by name; the
 * compiler, each list's length to its KernelQueries method's).
 */
const QUERY_PARAMS = {
  heapBase: [],
  gemmTileCount: [],
  gemmTileRows: ["tile"],
  gemmTileCols: ["tile"],
  gemmTileLoads: ["tile"],
  gemmKBlock: [],
  gemmScratchBytes: [],
  packedWeightsBytes: ["M", "K", "tile"],
  packWeights: ["src", "dst", "M", "K", "tile"],
  probePeak: ["src", "iterations"],
  probeTile: ["tile", "a", "b", "c", "kc", "iterations", "tmp"],
  probeRegisterChains: [],
  probeRegisterPeak: ["x", "y", "iterations"],
  winogradTileRows: [],
  winogradTileBlock: [],
  winogradOutputTile: ["r"],
  winogradScratchBytes: ["C"],
  winogradFilterBytes: ["M", "C"],
  winogradFilters: ["src", "dst", "M", "C", "r"],
} as const satisfies {
  [Q in keyof KernelQueries]: readonly string[] & { length: Parameters<KernelQueries[Q]>["length"] };
};

/** Every export the host uses, with its parameter names in order: the queries, then the scheduled kernels. */
export function declaredExports(): [name: string, params: readonly string[]][] {
  return [
    ...Object.entries(QUERY_PARAMS),
    ...KERNEL_NAMES.map((n) => [n, KERNELS[n].args] as [string, readonly string[]]),
  ];
}

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
 * bytes) or the runtime's defaults (`files.kernelSource`: the package's files, or the inline
 * entry's bytes), URLs read through `files.readUrl`.
 * "auto" takes the relaxed build when the runtime validates it (WebAssembly.validate, no engine
 * flag is set; a given module counts as validated) and its GEMM passes a self-test with a known
 * exact result, else the baseline; `reason` says which and why. With `sources` that hold only
 * one build, "auto" takes that one.
 */
export async function compileKernels(
  choice: BuildChoice,
  files: KernelFiles,
  sources?: KernelSources,
): Promise<CompiledKernels> {
  const sourceOf = (build: BuildName): KernelSource => {
    const given = sources?.[build];
    if (given !== undefined) return given;
    if (sources !== undefined && Object.keys(sources).length > 0) {
      throw new WasmLoadError(
        `${build} build`,
        `the kernels option supplies ${Object.keys(sources).join(", ")}, not the ${build} build that is needed`,
      );
    }
    return files.kernelSource(build);
  };
  if (choice !== "auto") {
    const loaded = await loadBuild(choice, sourceOf(choice), files);
    return {
      build: choice,
      module: compileBuild(loaded),
      bytes: sizeOf(loaded),
      code: codeOf(loaded),
      reason: "requested",
    };
  }
  const onlyBaseline = sources !== undefined && sources.relaxed === undefined && sources.baseline !== undefined;
  const relaxed = onlyBaseline ? undefined : await loadBuild("relaxed", sourceOf("relaxed"), files);
  let reason = onlyBaseline ? "the kernels option supplies the baseline build only" : relaxedUnsupportedReason();
  if (
    relaxed !== undefined &&
    ("module" in relaxed || WebAssembly.validate(relaxed.bytes as Uint8Array<ArrayBuffer>))
  ) {
    const module = compileBuild(relaxed);
    const { failure, scratch } = selfTest(module);
    if (failure === undefined) {
      const compiled: CompiledKernels = {
        build: "relaxed",
        module,
        bytes: sizeOf(relaxed),
        code: codeOf(relaxed),
        reason: "relaxed SIMD validated and passed the self-test",
      };
      if (scratch !== undefined) scratches.set(compiled, scratch);
      return compiled;
    }
    reason = `relaxed build failed its self-test: ${failure}`;
  }
  const base = await loadBuild("baseline", sourceOf("baseline"), files);
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
  const kernels: Record<string, unknown> = {};
  for (const [name, params] of declaredExports()) {
    const wrapped = exports[name] as ((...args: number[]) => number) & { original?: (...args: number[]) => number };
    if (typeof wrapped !== "function") throw new WasmLoadError("kernel module", `missing export ${name}`);
    const raw = wrapped.original ?? wrapped; // the raw export: skips the loader's per-call wrapper
    if (raw.length !== params.length) {
      throw new WasmLoadError(
        "kernel module",
        `export ${name} takes ${raw.length} parameters, its declaration names ${params.length} (${params.join(", ")})`,
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

/** Bytes a scratch memory starts with (the tile probe's areas, the largest setup, fit) and may grow to. */
const SCRATCH_BYTES = 6 << 20;
const SCRATCH_MAX_BYTES = 64 << 20;

/**
 * A private instance of a build over a throwaway memory of its own: for the calls of a load whose
 * results are checked or discarded (the self-test, the tile probe, the warm-up) and the planner's
 * size queries before the network's memory exists; never the network's memory. Each user lays
 * out its areas with `arena()` (a fresh arena from heapBase(): the previous user's areas are then
 * free). One load's steps share one (scratchKernels), one after another, never concurrently.
 */
export interface ScratchKernels {
  readonly k: KernelExports;
  readonly memory: WebAssembly.Memory;
  /** A new arena over the whole memory, from heapBase(): 64-byte aligned areas, growing the memory as needed. */
  arena(): Arena;
}

function newScratch(module: WebAssembly.Module): ScratchKernels {
  const memory = createSharedMemory(SCRATCH_BYTES, SCRATCH_MAX_BYTES);
  const k = instantiateKernels(module, memory);
  return { k, memory, arena: () => new Arena(memory, k.heapBase()) };
}

/** The scratch instance of each compiled build: made by its self-test, else at first use. */
const scratches = new WeakMap<CompiledKernels, ScratchKernels>();

/**
 * The scratch instance of `compiled` (see ScratchKernels): the self-test's when there was one,
 * else a new one, kept until releaseScratch(compiled) (or until `compiled` is collected).
 */
export function scratchKernels(compiled: CompiledKernels): ScratchKernels {
  let scratch = scratches.get(compiled);
  if (scratch === undefined) {
    scratch = newScratch(compiled.module);
    scratches.set(compiled, scratch);
  }
  return scratch;
}

/** Gives the scratch memory of `compiled` back (releaseSharedMemory) once its load is done with it. */
export function releaseScratch(compiled: CompiledKernels): void {
  const scratch = scratches.get(compiled);
  scratches.delete(compiled);
  if (scratch !== undefined) releaseSharedMemory(scratch.memory);
}

/**
 * Runs a small GEMM whose exact result is known (small integers: every product and sum is exact
 * in f32, fused or not) with every tile, on a scratch instance of `module` (returned for the load
 * to reuse). `failure` describes the first mismatch, or is undefined.
 */
function selfTest(module: WebAssembly.Module): { failure?: string; scratch?: ScratchKernels } {
  let scratch: ScratchKernels;
  try {
    scratch = newScratch(module);
  } catch (error) {
    return { failure: `instantiation failed: ${(error as Error).message}` };
  }
  const { k } = scratch;
  const arena = scratch.arena();
  const M = 5,
    K = 7,
    N = 11;
  const a = arena.alloc(M * K * 4),
    b = arena.alloc(K * N * 4),
    c = arena.alloc(M * N * 4),
    gemmScratch = arena.alloc(k.gemmScratchBytes());
  const f = new Float32Array(scratch.memory.buffer);
  for (let i = 0; i < M * K; i++) f[a / 4 + i] = (i % 5) - 2;
  for (let i = 0; i < K * N; i++) f[b / 4 + i] = (i % 7) - 3;
  for (let tile = 0; tile < k.gemmTileCount(); tile++) {
    const packed = arena.alloc(k.packedWeightsBytes(M, K, tile));
    k.packWeights(a, packed, M, K, tile);
    const call: KernelCall = {
      kernel: "gemmDense",
      args: {
        tile,
        a: packed,
        bias: 0,
        M,
        K,
        N,
        src: b,
        dst: c,
        ldc: N,
        m0: 0,
        m1: M,
        n0: 0,
        n1: N,
        relu: 0,
        scratch: gemmScratch,
      },
    };
    k.gemmDense(...encodeCall(call));
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let want = 0;
        for (let j = 0; j < K; j++) want += f[a / 4 + m * K + j] * f[b / 4 + j * N + n];
        const got = f[c / 4 + m * N + n];
        if (got !== want) return { failure: `tile ${tile}: C[${m}][${n}] = ${got}, expected ${want}` };
      }
    }
  }
  return { scratch };
}

/**
 * Rounds of warmUpKernels. V8 tiers a function up once it has run a budget of baseline code:
 * in these rounds every kernel that real runs make hot (the last: LRN, softmax, FC) got
 * there within about 20-80 rounds under Node 20 to 26 on the project's machine.
 */
const WARM_UP_ROUNDS = 100;

/**
 * Gets the kernels of `compiled` out of the engine's baseline tier before their first real call.
 * V8 compiles wasm first with its baseline compiler (Liftoff; these kernels run 2-3x slower in
 * it) and compiles a function again, optimised and in the background, once it has run enough;
 * a call keeps the code it started with (V8 has no on-stack replacement for wasm), so a long
 * first call would run unoptimised to its end. This makes WARM_UP_ROUNDS rounds of short calls
 * (about 0.1 ms a round) of every inference kernel (GEMMs with `tile`), on problems shaped like
 * GoogLeNet's, on the load's scratch instance (scratchKernels). Compiled code belongs to the module: the optimised code then
 * serves every instance and thread. Other engines run the same calls (JavaScriptCore, in Bun,
 * can tier up inside a running call anyway). Results are discarded. `pause` is awaited after every
 * round (it lets I/O started before proceed: the packed weights cache is read meanwhile).
 */
export async function warmUpKernels(
  compiled: CompiledKernels,
  tile: number,
  pause?: () => Promise<void> | undefined,
): Promise<void> {
  const { k, memory, arena: newArena } = scratchKernels(compiled);
  const arena = newArena();
  const MB = 1 << 20;
  const src = arena.alloc(MB),
    dst = arena.alloc(MB),
    packed = arena.alloc(k.packedWeightsBytes(128, 147, tile)),
    winogradFilters = arena.alloc(k.winogradFilterBytes(16, 8)),
    winograd5Filters = arena.alloc(k.winogradFilterBytes(16, 8)),
    scratch = arena.alloc(Math.max(k.gemmScratchBytes(), k.winogradScratchBytes(8)));
  const values = new Float32Array(memory.buffer, src, MB / 4);
  for (let i = 0; i < values.length; i++) values[i] = ((i * 7) % 9) - 4;
  k.packWeights(src, packed, 128, 147, tile);
  k.winogradFilters(src, winogradFilters, 16, 8, 3);
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
    // 1x1: dense B; every row panel ends in an edge tile of 3 columns (edgeEpilogue, called per
    // edge tile: a last panel whose columns fill whole vectors stores them directly instead)
    { kernel: "gemmDense", args: { ...gemm, M: 128, K: 8, N: 11, ldc: 11, m1: 128, n1: 11 } },
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
}
