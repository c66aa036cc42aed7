// JPEG decode timing: jpeg-js (full decode, what decode.ts uses today) against decodeJpegScaled at full size and
// at the scale minShortSide 256 picks, on the sample photos and on a generated 12 MP (4000x3000) photo-like JPEG
// (jpeg-js's encoder, quality 90; made in memory, never written). One thread; the median of --runs runs after
// --warmup runs, per decoder and file.
//
//   node dist/bench/jpeg.js [--runs 7] [--warmup 2] [--json]

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decode as jpegJsDecode, encode as jpegJsEncode } from "jpeg-js";
import { decodeJpegScaled, isJpegUnsupported } from "../src/model/image/jpeg.js";
import { PHOTOS_DIR } from "../test/support/data.js";
import { photoLike } from "../test/support/synthetic.js";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "7" },
    warmup: { type: "string", default: "2" },
    json: { type: "boolean", default: false },
  },
});
const runs = Number(opts.runs),
  warmup = Number(opts.warmup);

/** Median milliseconds of fn over `runs` timed runs after `warmup` untimed ones. */
function median(fn: () => unknown): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function scaled(bytes: Uint8Array, file: string, minShortSide: number): string {
  const image = decodeJpegScaled(bytes, file, { minShortSide });
  if (isJpegUnsupported(image)) throw new Error(`${file}: ${image.message}`);
  return `${image.width}x${image.height}`;
}

const files: { name: string; bytes: Uint8Array }[] = readdirSync(PHOTOS_DIR)
  .filter((f) => f.endsWith(".jpg"))
  .map((f) => ({ name: f, bytes: readFileSync(join(PHOTOS_DIR, f)) }));
const big = photoLike(4000, 3000);
files.push({ name: "synthetic 4000x3000 q90", bytes: jpegJsEncode(big, 90).data });

const rows = files.map(({ name, bytes }) => {
  const jpegJs = median(() => jpegJsDecode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 }));
  const full = median(() => scaled(bytes, name, Infinity));
  const at256 = median(() => scaled(bytes, name, 256));
  const at1 = median(() => scaled(bytes, name, 1));
  return { name, kB: Math.round(bytes.length / 1024), jpegJs, full, at256, size256: scaled(bytes, name, 256), at1 };
});

if (opts.json) console.log(JSON.stringify({ runs, warmup, rows }, null, 2));
else {
  console.log(`median of ${runs} runs after ${warmup} warm-up, ms; ${process.version}`);
  console.log("file | kB | jpeg-js full | ours full | ours minShortSide 256 (size) | ours 1/8");
  for (const r of rows) {
    const f = (v: number): string => v.toFixed(1);
    console.log(`${r.name} | ${r.kB} | ${f(r.jpegJs)} | ${f(r.full)} | ${f(r.at256)} (${r.size256}) | ${f(r.at1)}`);
  }
}
