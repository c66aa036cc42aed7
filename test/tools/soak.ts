// npm run soak -- [--runs N] [--every K] [--threads T] [--cycles C]
// Runs N classifications of one photo on one network (T threads) and prints RSS, the V8 heap (used
// of committed), RSS outside the committed heap (what malloc'd memory, wasm memory and code
// account for; V8 resizes its young generation now and then, which moves RSS by up to ~24 MiB on
// its own), ArrayBuffer backing stores (not the shared wasm memory), live threads and open
// descriptors every K runs; then C load/dispose cycles, printed the same way. Run it under
// `node --expose-gc` to collect garbage before each sample.
// Ends with the RSS change after warm-up (the runs' first report; the cycles' first fifth) and the
// thread/descriptor counts against the start; exits 1 when RSS moved more than 5 % after warm-up or a
// thread or descriptor leaked (each descriptor opened since the start is named).

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
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

/** Bytes as MiB with one decimal. */
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
/** Threads of this process (Linux: /proc/self/task). */
const count = (dir: string): number => readdirSync(dir).length;
/** Open descriptors (/proc/self/fd) with what each points at, to name a leak. */
function descriptors(): Map<string, string> {
  const targets = new Map<string, string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      targets.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // Closed between listing and reading (readdirSync's own descriptor).
    }
  }
  return targets;
}
async function sample(label: string): Promise<{ rss: number; threads: number; fds: number }> {
  // With `node --expose-gc`, collect first, so that memory only awaiting a collection is not counted;
  // V8 frees ArrayBuffer and wasm memory backing stores on a background thread after the collection,
  // so wait for that sweep, collect once more and wait for its sweep too before reading RSS (a
  // disposed network's memory, held weakly for reuse, survives the first collection when it runs in
  // the job that disposed it, as a WeakRef's target does).
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    for (let i = 0; i < 2; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const m = process.memoryUsage();
  const s = { rss: m.rss, threads: count("/proc/self/task"), fds: descriptors().size };
  console.log(
    `${label.padEnd(14)} rss ${mib(m.rss)}  heap ${mib(m.heapUsed)} of ${mib(m.heapTotal)}  ` +
      `outside heap ${mib(m.rss - m.heapTotal)}  ` +
      `buffers ${mib(m.arrayBuffers)}  threads ${s.threads}  fds ${s.fds}`,
  );
  return s;
}

const photo = new Uint8Array(readFileSync(join(PHOTOS_DIR, "eagle.jpg")));
const start = await sample("start");
const startDescriptors = descriptors();
const net = await GoogLeNet.load({ threads });
const first = (await net.classify(photo))[0];
let warm = await sample("loaded");
const t0 = performance.now();
for (let i = 1; i <= runs; i++) {
  const top = (await net.classify(photo))[0];
  if (top.index !== first.index || top.probability !== first.probability) throw new Error(`run ${i}: result changed`);
  if (i % every === 0) {
    const s = await sample(`run ${i}`);
    if (i === every) warm = s;
  }
}
const last = await sample("runs done");
console.log(`${runs} runs at ${net.threads} threads in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
await net.dispose();
await sample("disposed");
// The cycles' warm-up is their first fifth (the allocator settles on the pages it keeps).
let cyclesWarm = start;
for (let c = 1; c <= cycles; c++) {
  const n = await GoogLeNet.load({ threads });
  await n.classify(photo);
  await n.dispose();
  if (c % Math.max(1, Math.floor(cycles / 5)) === 0) {
    const s = await sample(`cycle ${c}`);
    if (cyclesWarm === start) cyclesWarm = s;
  }
}
const end = await sample("cycles done");
const drift = (last.rss - warm.rss) / warm.rss;
const cycleDrift = (end.rss - cyclesWarm.rss) / cyclesWarm.rss;
console.log(
  `RSS after warm-up ${(drift * 100).toFixed(1)} %, over the cycles after their warm-up ${(cycleDrift * 100).toFixed(1)} %; ` +
    `threads ${start.threads} -> ${end.threads}, descriptors ${start.fds} -> ${end.fds}`,
);
const opened = [...descriptors()].filter(([fd, target]) => startDescriptors.get(fd) !== target);
for (const [fd, target] of opened) console.log(`descriptor ${fd} -> ${target} opened since the start`);
process.exitCode =
  Math.abs(drift) > 0.05 || Math.abs(cycleDrift) > 0.05 || end.threads > start.threads || opened.length > 0 ? 1 : 0;
