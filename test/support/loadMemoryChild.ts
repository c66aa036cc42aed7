// Child process of test/weights-stream.test.ts: the edge path's memory, measured alone. Loads
// GoogLeNet through the inline entry (what edge runtimes bundle) with the weights by URL (served
// by the parent), on 1 thread without warm-up (as the Cloudflare Worker example does), then
// classifies a photo; prints one JSON line: the RSS before the load (after the imports and a
// garbage collection when --expose-gc), and the peak RSS (VmHWM) after the load and after the
// classification. Usage: node [--expose-gc] dist/test/support/loadMemoryChild.js URL PHOTO

import { readFileSync } from "node:fs";
import { GoogLeNet } from "../../src/inline.js";
import { currentRss, peakRss } from "./rss.js";

const [url, photoFile] = process.argv.slice(2);
if (!url || !photoFile) throw new Error("usage: loadMemoryChild.js URL PHOTO");
const photo = readFileSync(photoFile);
(globalThis as { gc?: () => void }).gc?.();
const before = currentRss();
const net = await GoogLeNet.load({ weights: new URL(url), threads: 1, warmUp: false });
const loaded = peakRss();
const top = await net.classify(photo);
const classified = peakRss();
console.log(JSON.stringify({ before, loaded, classified, top1: top[0].index, memoryBytes: net.memoryBytes }));
await net.dispose();
