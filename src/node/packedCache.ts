// The packed weights cache on server runtimes: one IWPACK file (model/formats/iwpack.ts) per
// weights and kernel build, `<cacheDir>/packed/<weights hash>-<build>.iwpack`. A load whose layout
// key differs (other weights file contents, kernel code or plan layout) misses, repacks and
// replaces the file, so the folder holds one entry per weights and build.

import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { hex, sha256 } from "../host/digest.js";
import type { PackedWeightsCache } from "../host/engine/packedWeights.js";
import { checkPackedWeights, encodePackedWeights } from "../model/formats/iwpack.js";
import { warnNotCached, writeFileAtomic } from "./files.js";
import { locateWeights } from "./lookup.js";
import { packedCacheDir, userCacheDir } from "./userCache.js";
import { projectRoot, weightsIdentity } from "./weights.js";

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
  const fileOf = (build: string): string => join(packedCacheDir(cacheDir), `${prefix}-${build}.iwpack`);
  return {
    weightsId,
    async read(build, key, bytes) {
      const file = fileOf(build);
      let contents: Uint8Array;
      try {
        contents = await readFile(file);
      } catch (error) {
        return `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
      }
      try {
        return await checkPackedWeights(contents, file, key, bytes);
      } catch (error) {
        await rm(file, { force: true }).catch(() => undefined); // stale or corrupt: discarded, rebuilt below
        return (error as Error).message;
      }
    },
    async write(build, key, region) {
      const file = fileOf(build);
      await writeFileAtomic(file, await encodePackedWeights(key, region)).catch((error: unknown) =>
        warnNotCached("the packed weights", file, error),
      );
    },
  };
}
