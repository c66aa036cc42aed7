// The tile probe table on server runtimes (Node, Deno, Bun through the Node entry): the GEMM tile
// a load-time probe picked (host/wasm/tiles.ts), kept so that later processes on the same engine,
// build and CPU skip the probe. One small JSON file per key, `<cacheDir>/tiles/<key hash>.json`:
//
//   {"tileProbe": 1, "key": {probe, build, code, runtime, engine, flags, arch, cpu},
//    "tile": "6x8", "reason": "probe (...): 4x8 41.2, ...", "measured": "2026-11-29T20:40:00.000Z",
//    "gflops": 43.1, "probes": 2}
//
// (gflops: the winner's figure; probes: how many loads have probed for it, up to SETTLE_PROBES.)
//
// Fast mode's per-layer Winograd choice (host/engine/winogradChoice.ts) is kept the same way: its
// key adds `what` (the method, tile and layer shapes), its entry `layers` (the chosen layers).
//
// An entry that cannot be read or parsed, or whose key is not the one asked for, is ignored (the
// load probes and rewrites it); a failed write only warns.

import { readFile } from "node:fs/promises";
import { arch, cpus } from "node:os";
import { join } from "node:path";
import { hex, sha256 } from "../host/digest.js";
import { runtimeLabel } from "../host/runtimeName.js";
import type { StoredProbe, TileProbeKey, TileProbeStore } from "../host/wasm/tiles.js";
import { warnNotCached, writeFileAtomic } from "./files.js";
import { tileCacheDir, userCacheDir } from "./userCache.js";

/** Version of the entry format. */
const ENTRY_VERSION = 1;

/** Set (to anything but "" or "0") to ignore the table: every process's first load probes and rewrites its entry. */
export const FORCE_PROBE_ENV = "INCEPTION_WASM_TILE_PROBE";

/** A table entry's full key: the host's part and what decides the engine's code generation here. */
export interface TileTableKey extends TileProbeKey {
  /** The runtime and its version, e.g. "node 20.20.2", "deno 2.9.6", "bun 1.4.5". */
  runtime: string;
  /** The JavaScript engine's version: "webkit <commit>" (Bun), "v8 11.3.244.8-node.38", or "unknown". */
  engine: string;
  /** The process's flags that change the engine's wasm code (ENGINE_FLAGS of process.execArgv), in order. */
  flags: string[];
  arch: string;
  /** The first logical CPU's model name (os.cpus()). */
  cpu: string;
}

/** V8 flags that change how wasm is compiled (tiers, register allocation, features); other flags do not key the table. */
const ENGINE_FLAGS = /^--(no-)?(experimental-wasm|wasm|liftoff|turbo|jitless|regalloc|max-inlined)/;

/** The engine-and-machine part of a key, for this process. */
export function machineKey(): Omit<TileTableKey, keyof TileProbeKey> {
  const versions = process.versions as Record<string, string | undefined>;
  // Bun reports a V8 version it does not run (Node compatibility): its engine is WebKit's.
  const engine = versions.webkit ? `webkit ${versions.webkit}` : versions.v8 ? `v8 ${versions.v8}` : "unknown";
  return {
    runtime: runtimeLabel(),
    engine,
    flags: process.execArgv.filter((f) => ENGINE_FLAGS.test(f)),
    arch: arch(),
    cpu: cpus()[0]?.model ?? "unknown",
  };
}

/**
 * The probe table in `cacheDir` (default userCacheDir()). `machine` (default machineKey()) and
 * `env` are parameters for tests.
 */
export function openTileCache(
  cacheDir: string = userCacheDir(),
  machine: Omit<TileTableKey, keyof TileProbeKey> = machineKey(),
  env: NodeJS.ProcessEnv = process.env,
): TileProbeStore {
  const entryOf = async (key: TileProbeKey): Promise<{ file: string; full: TileTableKey }> => {
    const full: TileTableKey = { ...key, ...machine };
    const name = hex((await sha256(new TextEncoder().encode(JSON.stringify(full)))).subarray(0, 8));
    return { file: join(tileCacheDir(cacheDir), `${name}.json`), full };
  };
  return {
    async read(key) {
      const forced = env[FORCE_PROBE_ENV];
      if (forced && forced !== "0") return `${FORCE_PROBE_ENV} is set: not read`;
      const { file, full } = await entryOf(key);
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        return `no entry for this engine, build and CPU (${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)})`;
      }
      const problem = entryProblem(text, full);
      if (problem !== undefined) return `ignored ${file} (${problem})`;
      const { tile, reason, measured, layers, gflops, probes } = JSON.parse(text) as StoredProbe;
      return {
        tile,
        reason,
        measured,
        ...(layers !== undefined ? { layers } : {}),
        ...(gflops !== undefined ? { gflops } : {}),
        ...(probes !== undefined ? { probes } : {}),
      };
    },
    async write(key, probe) {
      const { file, full } = await entryOf(key);
      const entry = { tileProbe: ENTRY_VERSION, key: full, ...probe };
      await writeFileAtomic(file, new TextEncoder().encode(`${JSON.stringify(entry, null, 2)}\n`)).catch(
        (error: unknown) => warnNotCached("the tile probe's result", file, error),
      );
    },
  };
}

/** Why the entry `text` cannot serve `key` (not JSON, another version or key, a field missing), or undefined. */
function entryProblem(text: string, key: TileTableKey): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  const e = value as { tileProbe?: unknown; key?: unknown } & Partial<Record<keyof StoredProbe, unknown>>;
  if (typeof e !== "object" || e === null) return "not an object";
  if (e.tileProbe !== ENTRY_VERSION) return `expected tileProbe ${ENTRY_VERSION}, found ${String(e.tileProbe)}`;
  if (JSON.stringify(e.key) !== JSON.stringify(key)) return "another key";
  if (typeof e.tile !== "string" || typeof e.reason !== "string") return "expected tile and reason strings";
  if (typeof e.measured !== "string" || Number.isNaN(Date.parse(e.measured))) return "expected measured, an ISO date";
  if (e.layers !== undefined && !(Array.isArray(e.layers) && e.layers.every((l) => typeof l === "string")))
    return "expected layers, an array of strings";
  if (e.gflops !== undefined && !(typeof e.gflops === "number" && e.gflops > 0))
    return "expected gflops, a positive number";
  if (e.probes !== undefined && !(Number.isInteger(e.probes) && (e.probes as number) >= 1))
    return "expected probes, a positive integer";
  return undefined;
}
