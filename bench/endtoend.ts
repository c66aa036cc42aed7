// End to end at 1 thread, per runtime (one child process each): decode ms of the sample photos and of a 12 MP
// JPEG (4:2:0, quality 90) and PNG (bench/bigImages.ts, made once with sharp into --images), at the
// scale classify() decodes (JPEG: the smallest DCT scale covering the 256 resize) and at full resolution; then
// classify(bytes) of each against run() of a ready tensor, interleaved in the same process. Median of --runs
// timed runs (fewer once a case took 10 s) after --warmup; the ratio classify / run is the end-to-end target
// (<= 1.5 for the 12 MP JPEG).
//
//   node dist/bench/endtoend.js [--runs 9] [--warmup 2] [--runtimes node,deno,bun] [--images DIR] [--json]

import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { median } from "./stats.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface DecodeRow {
  file: string;
  kB: number;
  size: string;
  /** Decode ms at classify()'s scale, and at full resolution (the JPEG option scaledJpeg: false). */
  scaledMs: number;
  fullMs: number;
}
interface ClassifyRow {
  file: string;
  classifyMs: number;
  runMs: number;
  ratio: number;
  top1: number;
}
interface RuntimeResult {
  runtime: string;
  decode: DecodeRow[];
  classify: ClassifyRow[];
}

const { values: opts } = parseArgs({
  options: {
    child: { type: "boolean", default: false },
    runs: { type: "string", default: "9" },
    warmup: { type: "string", default: "2" },
    runtimes: { type: "string", default: "node,deno,bun" },
    images: { type: "string", default: join(tmpdir(), "inception-wasm-bench-images") },
    json: { type: "boolean", default: false },
  },
});
const runs = Number(opts.runs),
  warmup = Number(opts.warmup);

/** Timed runs stop early once they took this long (at least 3 runs): full decodes of 12 MP files take seconds. */
const BUDGET_MS = 10_000;

/** Median ms of fn over `runs` runs (fewer past BUDGET_MS) after `warmup` untimed ones. */
async function time(fn: () => unknown): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0, spent = 0; i < runs && (i < 3 || spent < BUDGET_MS); i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
    spent += t[i];
  }
  return median(t);
}

if (opts.child) {
  const { GoogLeNet, decodeImage, syntheticInput } = await import("../src/node/index.js");
  const { PHOTOS_DIR } = await import("../test/support/data.js");
  const photos = readdirSync(PHOTOS_DIR)
    .filter((f) => /\.(jpg|png)$/.test(f))
    .map((f) => join(PHOTOS_DIR, f));
  const big = readdirSync(opts.images)
    .filter((f) => /^coffee-4000x3000.*\.(jpg|png)$/.test(f))
    .map((f) => join(opts.images, f));
  const net = await GoogLeNet.load({ threads: 1 });
  const scaled = net.decodeOptions(1);
  const decode: DecodeRow[] = [];
  for (const file of [...photos, ...big]) {
    const bytes = new Uint8Array(readFileSync(file));
    const image = decodeImage(bytes, file, scaled);
    const scaledMs = await time(() => decodeImage(bytes, file, scaled));
    decode.push({
      file: basename(file),
      kB: Math.round(bytes.length / 1024),
      size: `${image.width}x${image.height}`,
      scaledMs,
      // PNGs have no reduced scale: both are the same full decode.
      fullMs: file.endsWith(".png")
        ? scaledMs
        : await time(() => decodeImage(bytes, file, { maxPixels: scaled.maxPixels })),
    });
  }
  const input = syntheticInput(3 * 224 * 224);
  const classify: ClassifyRow[] = [];
  for (const file of [photos.find((f) => f.endsWith("eagle.jpg"))!, ...big]) {
    const bytes = new Uint8Array(readFileSync(file));
    const c: number[] = [],
      r: number[] = [];
    let top1 = -1;
    for (let i = 0; i < warmup + runs; i++) {
      let t0 = performance.now();
      top1 = (await net.classify(bytes, { topK: 1 }))[0].index;
      const tc = performance.now() - t0;
      t0 = performance.now();
      await net.run(input);
      const tr = performance.now() - t0;
      if (i >= warmup) c.push(tc), r.push(tr);
    }
    classify.push({
      file: basename(file),
      classifyMs: median(c),
      runMs: median(r),
      ratio: median(c) / median(r),
      top1,
    });
  }
  await net.dispose();
  console.log(JSON.stringify({ decode, classify }));
} else {
  const { bigImages } = await import("./bigImages.js");
  await bigImages(opts.images);
  const bin = (name: string): string => join(ROOT, "node_modules", ".bin", name);
  const commands: Record<string, string[]> = {
    node: [process.execPath, ...process.execArgv],
    deno: [bin("deno"), "run", "-A", "--node-modules-dir=manual"],
    bun: [bin("bun"), "--no-install"],
  };
  const self = join(ROOT, "dist", "bench", "endtoend.js");
  const results: RuntimeResult[] = [];
  for (const runtime of opts.runtimes.split(",")) {
    const [cmd, ...args] = commands[runtime];
    const childArgs = [...args, self, "--child", "--runs", opts.runs, "--warmup", opts.warmup, "--images", opts.images];
    const { stdout } = await promisify(execFile)(cmd, childArgs, { cwd: ROOT, maxBuffer: 1 << 24 });
    results.push({ runtime, ...(JSON.parse(stdout.trim().split("\n").pop()!) as Omit<RuntimeResult, "runtime">) });
  }
  const machine = `${cpus()[0]?.model} (${cpus().length} logical cores), load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} at the end`;
  if (opts.json) console.log(JSON.stringify({ machine, runs, warmup, results }, null, 2));
  else {
    const f = (x: number): string => x.toFixed(1);
    console.log(`${machine}; median of ${runs} runs after ${warmup}, 1 thread, ms\n`);
    console.log("| runtime | file | kB | decoded to | decode ms (classify's scale) | decode ms (full) |");
    console.log("|---|---|---|---|---|---|");
    for (const r of results)
      for (const d of r.decode)
        console.log(`| ${r.runtime} | ${d.file} | ${d.kB} | ${d.size} | ${f(d.scaledMs)} | ${f(d.fullMs)} |`);
    console.log("\n| runtime | file | classify(bytes) ms | run() ms | classify / run | top-1 |");
    console.log("|---|---|---|---|---|---|");
    for (const r of results)
      for (const c of r.classify)
        console.log(
          `| ${r.runtime} | ${c.file} | ${f(c.classifyMs)} | ${f(c.runMs)} | ${c.ratio.toFixed(2)} | ${c.top1} |`,
        );
  }
}
