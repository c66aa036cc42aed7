// Child process of test/formats.test.ts: reads one weight file, decodes it with decodeWeights
// and prints one JSON line with the times and the process's peak resident set size before and
// after, so the measurement is not disturbed by the test's own memory.
// Usage: node dist/test/support/decodeChild.js FILE

import { readFileSync } from "node:fs";
import { decodeWeights } from "../../src/model/formats/detect.js";
import { googlenetGraph } from "../../src/model/network/googlenet.js";
import { peakRss } from "./rss.js";

const file = process.argv[2];
if (!file) throw new Error("usage: decodeChild.js FILE");
const graph = googlenetGraph();
const rssBefore = peakRss();
const start = performance.now();
const bytes = readFileSync(file);
const read = performance.now();
const tensors = await decodeWeights(bytes, file, graph);
const decoded = performance.now();
const rssPeak = peakRss();
const views = [...tensors.values()].filter((t) => t.data.buffer === bytes.buffer).length;
console.log(
  JSON.stringify({
    bytes: bytes.length,
    tensors: tensors.size,
    views,
    readMs: read - start,
    decodeMs: decoded - read,
    rssBefore,
    rssPeak,
  }),
);
