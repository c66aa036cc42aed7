// The packed weights cache on server runtimes: one IWPACK file (model/formats/iwpack.ts) per
// weights and configuration, `<cacheDir>/packed/<weights hash>-<build>-<tile>-<precision>-<key>.iwpack`
// (the key: 16 hex digits of the layout key), so strict and fast loads, builds and tiles each keep
// their own entry. A hit is read in 1 MiB chunks straight into the network's memory and marks the
// entry used (its mtime); every write prunes the folder (prunePackedCache).

import { open, readdir, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { hex, sha256 } from "../host/digest.js";
import type { PackedEntry, PackedWeightsCache } from "../host/engine/packedWeights.js";
import { nodeSha256 } from "./sha256.js";
import { encodePackedHeader, readPackedWeights } from "../model/formats/iwpack.js";
import { removeStalePartials, warnNotCached, writeFileAtomic } from "./files.js";
import { locateWeights } from "./lookup.js";
import { packedCacheDir, userCacheDir } from "./userCache.js";
import { projectRoot, weightsIdentity } from "./weights.js";

/**
 * What the packed cache keeps (README "Warm start"): entries used in the last PACKED_MAX_AGE_DAYS, at
 * most PACKED_MAX_PER_WEIGHTS per weights (strict and fast of each of the 4 tiles a timed tile probe
 * may pick, so a probe that picks another tile under load does not evict the others), and at most
 * PACKED_MAX_BYTES in all; beyond that the least recently used go first. The entry just written is
 * always kept.
 */
export const PACKED_MAX_AGE_DAYS = 30;
export const PACKED_MAX_PER_WEIGHTS = 8;
export const PACKED_MAX_BYTES = 512 * 2 ** 20;
/** Temporary files of a killed writer are removed after this long (a write takes seconds). */
const PARTIAL_STALE_MS = 60 * 60 * 1000;

/**
 * The names this library gives entries, with the weights hash as group 1: today's and the earlier
 * `<weights hash>-<build>.iwpack` (one entry per build, which strict and fast loads overwrote).
 * Pruning never touches another name.
 */
const ENTRY_NAME = /^([0-9a-f]{16})-[a-z]+(?:-\d+x\d+[a-z]*-[a-z]+-[0-9a-f]{16})?\.iwpack$/;

/**
 * The packed weights cache for the weights `source` names (or the default locations find), in
 * `cacheDir` (default userCacheDir()); undefined when no weights are found (the load then reports
 * that itself).
 */
export async function openPackedCache(
  source: string | undefined,
  cacheDir: string = userCacheDir(),
): Promise<PackedWeightsCache | undefined> {
  const located = await locateWeights({ option: source, cacheDir, root: projectRoot() }).catch(() => undefined);
  const weightsId = located && (await weightsIdentity(located.path).catch(() => undefined));
  if (weightsId === undefined) return undefined;
  const prefix = hex((await sha256(new TextEncoder().encode(weightsId))).subarray(0, 8));
  const dir = packedCacheDir(cacheDir);
  const fileOf = ({ label, key }: PackedEntry): string =>
    join(dir, `${prefix}-${label}-${hex(key.subarray(0, 8))}.iwpack`);
  return {
    weightsId,
    async read(entry, region) {
      const file = fileOf(entry);
      let handle: Awaited<ReturnType<typeof open>>;
      let size: number;
      try {
        handle = await open(file, "r");
        size = (await handle.stat()).size;
      } catch (error) {
        return `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
      }
      try {
        const read = async (into: Uint8Array): Promise<number> =>
          (await handle.read(into, 0, into.length, null)).bytesRead;
        await readPackedWeights(read, size, file, entry.key, region, nodeSha256());
      } catch (error) {
        await handle.close().catch(() => undefined);
        await rm(file, { force: true }).catch(() => undefined); // stale or corrupt: discarded, rebuilt by the caller
        return error instanceof Error ? error.message : String(error);
      }
      await handle.close().catch(() => undefined);
      const now = new Date();
      await utimes(file, now, now).catch(() => undefined); // last use, for pruning
      return true;
    },
    async write(entry, region) {
      const file = fileOf(entry);
      try {
        const header = encodePackedHeader(entry.key, region, nodeSha256());
        await writeFileAtomic(file, header, region); // straight from the memory, never copied whole
      } catch (error) {
        warnNotCached("the packed weights", file, error);
        return;
      }
      await prunePackedCache(dir, file).catch(() => undefined); // pruning never fails a load
    },
  };
}

/**
 * Removes packed cache entries of `dir` beyond the policy (PACKED_MAX_AGE_DAYS, PACKED_MAX_PER_WEIGHTS,
 * PACKED_MAX_BYTES; least recently used first, by mtime, which a hit updates), keeping `keep` (the
 * entry just written), and writers' temporary files older than an hour. Only names this library
 * gives entries are considered (ENTRY_NAME). Returns the files removed. A file that vanishes
 * meanwhile is not an error.
 */
export async function prunePackedCache(dir: string, keep: string, now = Date.now()): Promise<string[]> {
  await removeStalePartials(dir, PARTIAL_STALE_MS);
  const entries: { file: string; weights: string; bytes: number; used: number }[] = [];
  for (const name of await readdir(dir)) {
    const weights = ENTRY_NAME.exec(name)?.[1];
    const file = join(dir, name);
    const s = weights === undefined ? undefined : await stat(file).catch(() => undefined);
    if (weights !== undefined && s?.isFile()) entries.push({ file, weights, bytes: s.size, used: s.mtimeMs });
  }
  // Most recently used first, the kept entry before all.
  entries.sort((a, b) => Number(b.file === keep) - Number(a.file === keep) || b.used - a.used);
  const perWeights = new Map<string, number>();
  let total = 0;
  const removed: string[] = [];
  for (const e of entries) {
    const count = (perWeights.get(e.weights) ?? 0) + 1;
    const fits =
      e.file === keep ||
      (now - e.used <= PACKED_MAX_AGE_DAYS * 86_400_000 &&
        count <= PACKED_MAX_PER_WEIGHTS &&
        total + e.bytes <= PACKED_MAX_BYTES);
    if (fits) {
      perWeights.set(e.weights, count);
      total += e.bytes;
    } else {
      await rm(e.file, { force: true });
      removed.push(e.file);
    }
  }
  return removed;
}
