// Child process of the memory tests: a load's memory, measured alone. Two ways in:
// - the edge path (test/weightsStream.test.ts): `loadMemoryChild.js URL PHOTO` loads GoogLeNet
//   through the inline entry (what edge runtimes bundle) with the weights by URL (served by the
//   parent), on 1 thread without warm-up (as the Cloudflare Worker example does);
// - a Node load (test/packedCache.test.ts): `loadMemoryChild.js --file WEIGHTS CACHE_DIR THREADS TILE PHOTO`
//   loads through the Node entry from a weights file with the packed cache in CACHE_DIR (warm when
//   an earlier child filled it with the same TILE, "auto" or e.g. "4x8"), with warm-up, as
//   `GoogLeNet.load({ weights })` does by default;
// then classifies the photo and prints one JSON line: the RSS before the load (after the imports
// and a garbage collection when --expose-gc), the peak RSS (VmHWM) after the load and after the
// classification, and where the weights came from.

import { readFileSync } from "node:fs";
import { currentRss, peakRss } from "./rss.js";

const args = process.argv.slice(2);
const file = args[0] === "--file";
const [source, cacheDir, threads, tile, photoFile] = file ? args.slice(1) : [args[0], undefined, "1", "auto", args[1]];
if (!source || !photoFile) {
  throw new Error(
    "usage: loadMemoryChild.js URL PHOTO | loadMemoryChild.js --file WEIGHTS CACHE_DIR THREADS TILE PHOTO",
  );
}
const { GoogLeNet } = file ? await import("../../src/node/index.js") : await import("../../src/inline.js");
const photo = readFileSync(photoFile);
(globalThis as { gc?: () => void }).gc?.();
const before = currentRss();
const net = file
  ? await GoogLeNet.load({ weights: source, cacheDir, threads: Number(threads), tile: tile as "auto" })
  : await GoogLeNet.load({ weights: new URL(source), threads: 1, warmUp: false });
const loaded = peakRss();
const top = await net.classify(photo);
const classified = peakRss();
const from = net.loadTimes?.weightsFrom;
console.log(JSON.stringify({ before, loaded, classified, top1: top[0].index, memoryBytes: net.memoryBytes, from }));
await net.dispose();
