// npm run soak -- [--runs N] [--every K] [--threads T] [--cycles C]
// Runs N classifications of one photo on one network (T threads) and prints RSS, heap, live
// threads and open descriptors every K runs; then C load/dispose cycles, printed the same way. Run it under
// `node --expose-gc` to collect garbage before each sample.
// Ends with the RSS change after warm-up (the first report) and the thread/descriptor counts
// against the start; exits 1 when RSS moved more than 5 % or a thread or descriptor leaked.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GoogLeNet } from "../../src/node/index.js";
import { PHOTOS_DIR } from "../support/data.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "1000" },
    every: { type: "string", default: "500" },
    threads: { type: "string", default: "2" },
    cycles: { type: "string", default: "200" },
  },
});
const runs = Number(values.runs);
const every = Number(values.every);
const threads = Number(values.threads);
const cycles = Number(values.cycles);

/** Threads of this process (Linux: /proc/self/task) and open descriptors (/proc/self/fd). */
const count = (dir: string): number => readdirSync(dir).length;
function sample(label: string): { rss: number; threads: number; fds: number } {
  // With `node --expose-gc`, collect first, so that memory only awaiting a collection is not counted.
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const s = { rss: m.rss, threads: count("/proc/self/task"), fds: count("/proc/self/fd") };
  console.log(
    `${label.padEnd(14)} rss ${(m.rss / 2 ** 20).toFixed(1)} MiB  heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MiB  ` +
      `threads ${s.threads}  fds ${s.fds}`,
  );
  return s;
}

const photo = new Uint8Array(readFileSync(join(PHOTOS_DIR, "eagle.jpg")));
const start = sample("start");
const net = await GoogLeNet.load({ threads });
const first = (await net.classify(photo))[0];
let warm = sample("loaded");
const t0 = performance.now();
for (let i = 1; i <= runs; i++) {
  const top = (await net.classify(photo))[0];
  if (top.index !== first.index || top.probability !== first.probability) throw new Error(`run ${i}: result changed`);
  if (i % every === 0) {
    const s = sample(`run ${i}`);
    if (i === every) warm = s;
  }
}
const last = sample("runs done");
console.log(`${runs} runs at ${net.threads} threads in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
await net.dispose();
const afterRuns = sample("disposed");
for (let c = 1; c <= cycles; c++) {
  const n = await GoogLeNet.load({ threads });
  await n.classify(photo);
  await n.dispose();
  if (c % Math.max(1, Math.floor(cycles / 5)) === 0) sample(`cycle ${c}`);
}
const end = sample("cycles done");
const drift = (last.rss - warm.rss) / warm.rss;
const cycleDrift = (end.rss - afterRuns.rss) / afterRuns.rss;
console.log(
  `RSS after warm-up ${(drift * 100).toFixed(1)} %, over the cycles ${(cycleDrift * 100).toFixed(1)} %; ` +
    `threads ${start.threads} -> ${end.threads}, descriptors ${start.fds} -> ${end.fds}`,
);
process.exitCode = Math.abs(drift) > 0.05 || end.threads > start.threads || end.fds > start.fds ? 1 : 0;
