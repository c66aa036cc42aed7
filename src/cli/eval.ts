// inception-wasm eval: top-1 and top-5 error over a labelled image folder for every combination
// of crop protocol and model set, printed in the layout of the paper's Table 3 (models, crops,
// cost, top-5 error, delta to the 1-model 1-crop row) and written as JSON. Unreadable images are
// skipped with a count and a reason; Ctrl-C stops the run and prints the partial table.

import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { SingleBar } from "cli-progress";
import { InceptionError } from "../host/errors.js";
import type { BuildChoice } from "../host/wasm/kernels.js";
import { CROP_COUNTS, type CropCount } from "../model/image/crops.js";
import type { ResizeFilter } from "../model/image/preprocess.js";
import { CLASSES } from "../model/network/googlenet.js";
import { GoogLeNet } from "../node/index.js";

export interface EvalOptions {
  folder: string;
  /** "<file> <class index>" lines (ILSVRC-2012 validation ground truth), or undefined: one sub-folder per class index. */
  labels: string | undefined;
  weights: string | undefined;
  /** Weight files of an ensemble evaluated besides the single model (its first member). */
  ensemble: string[] | undefined;
  crops: number[];
  build: BuildChoice;
  /** How images are resized (LoadOptions.resizeFilter). */
  resizeFilter: ResizeFilter;
  threads: number | undefined;
  json: boolean;
  /** Where the JSON report goes (default: only with --json, to stdout). */
  out: string | undefined;
}

/** One labelled image. */
export interface LabelledImage {
  file: string;
  label: number;
}

/** One row of the table: a model set and crop protocol over the images evaluated. */
export interface EvalRow {
  models: number;
  crops: CropCount;
  /** Forward passes per image: models x crops. */
  passes: number;
  /** Multiply-adds per image (passes x one pass's). */
  multiplyAdds: number;
  /** Bytes of every model's weights (float32 parameters). */
  weightBytes: number;
  images: number;
  seconds: number;
  top1Error: number;
  top5Error: number;
}

/** One image under one row's model set and crop protocol. */
export interface ImageResult {
  models: number;
  crops: CropCount;
  /** The most probable class and the probability of the labelled class. */
  top1: number;
  probability: number;
  ms: number;
}

export interface EvalReport {
  folder: string;
  images: number;
  skipped: { file: string; reason: string }[];
  interrupted: boolean;
  rows: EvalRow[];
  /** Per evaluated image: its label and a result per row. */
  results: { file: string; label: number; runs: ImageResult[] }[];
}

const IMAGE = /\.(jpe?g|png)$/i;

/**
 * The labelled images of a folder: from a labels file ("<file> <class>" per line; blank lines and
 * "#" comments ignored; files relative to the folder) or, without one, from sub-folders named by
 * class index. Throws InceptionError (E_USAGE) naming the file and line for a malformed entry.
 */
export async function labelledImages(folder: string, labels: string | undefined): Promise<LabelledImage[]> {
  const classOf = (text: string, where: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n >= CLASSES) {
      throw new InceptionError("E_USAGE", `${where}: expected a class index in 0..${CLASSES - 1}, found "${text}"`);
    }
    return n;
  };
  if (labels !== undefined) {
    const lines = (await readFile(labels, "utf8")).split(/\r?\n/);
    const out: LabelledImage[] = [];
    lines.forEach((line, i) => {
      const t = line.trim();
      if (t === "" || t.startsWith("#")) return;
      const m = /^(.*\S)\s+(\S+)$/.exec(t);
      if (!m) throw new InceptionError("E_USAGE", `${labels}:${i + 1}: expected "<file> <class index>", found "${t}"`);
      out.push({ file: join(folder, m[1]), label: classOf(m[2], `${labels}:${i + 1}`) });
    });
    return out;
  }
  const out: LabelledImage[] = [];
  for (const dir of (await readdir(folder)).sort()) {
    if (!(await stat(join(folder, dir))).isDirectory()) continue;
    const label = classOf(dir, join(folder, dir));
    for (const f of (await readdir(join(folder, dir))).sort()) {
      if (IMAGE.test(f)) out.push({ file: join(folder, dir, f), label });
    }
  }
  if (out.length === 0) {
    throw new InceptionError(
      "E_USAGE",
      `${folder}: no --labels file and no sub-folders of images named by class index`,
    );
  }
  return out;
}

/** Top-1 and top-5 hits of probabilities against a label. */
function hits(p: Float32Array, label: number): { top1: boolean; top5: boolean } {
  const mine = p[label];
  let above = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > mine || (p[i] === mine && i < label)) above++;
  return { top1: above === 0, top5: above < 5 };
}

/** The table in the paper's Table 3 layout. */
export function formatEval(r: EvalReport): string {
  const base = r.rows.find((x) => x.models === 1 && x.crops === 1);
  const pct = (v: number): string => `${(v * 100).toFixed(2)} %`;
  const lines = [
    `${r.images} image(s) of ${r.folder}${r.skipped.length ? `, ${r.skipped.length} skipped` : ""}` +
      `${r.interrupted ? " (interrupted: partial results)" : ""}`,
    "",
    "| models | crops | cost (passes/image) | G multiply-adds/image | weights MB | seconds | top-1 error | top-5 error | compared to base |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const x of r.rows) {
    const delta = base && x !== base ? `${((x.top5Error - base.top5Error) * 100).toFixed(2)} %` : "base";
    lines.push(
      `| ${x.models} | ${x.crops} | ${x.passes} | ${(x.multiplyAdds / 1e9).toFixed(1)} | ${(x.weightBytes / 1e6).toFixed(1)} | ` +
        `${x.seconds.toFixed(1)} | ${pct(x.top1Error)} | ${pct(x.top5Error)} | ${delta} |`,
    );
  }
  for (const s of r.skipped) lines.push(`skipped ${s.file}: ${s.reason}`);
  return lines.join("\n");
}

/** Runs the evaluation and prints the table (and the JSON where asked). */
export async function evaluate(options: EvalOptions): Promise<void> {
  const crops = options.crops.map((c) => {
    if (!CROP_COUNTS.includes(c as CropCount))
      throw new InceptionError("E_USAGE", `--crops: expected 1, 10 or 144, found "${c}"`);
    return c as CropCount;
  });
  const images = await labelledImages(options.folder, options.labels);
  const load = { build: options.build, threads: options.threads, resizeFilter: options.resizeFilter };
  const single = await GoogLeNet.load({ ...load, weights: options.ensemble?.[0] ?? options.weights });
  let ensemble: GoogLeNet | undefined;
  const report: EvalReport = {
    folder: options.folder,
    images: 0,
    skipped: [],
    interrupted: false,
    rows: [],
    results: [],
  };
  let stop = false;
  const onInterrupt = (): void => {
    stop = true;
  };
  process.once("SIGINT", onInterrupt);
  try {
    if (options.ensemble && options.ensemble.length > 1) {
      ensemble = await GoogLeNet.loadEnsemble(options.ensemble, load);
    }
    const nets = ensemble ? [single, ensemble] : [single];
    const rows = nets.flatMap((net) =>
      crops.map((c) => ({ net, cost: net.summary(c), top1: 0, top5: 0, n: 0, ms: 0 })),
    );
    const work = rows.reduce((sum, r) => sum + r.cost.passesPerImage, 0) * images.length;
    const bar = new SingleBar({
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      clearOnComplete: true,
      format: "eval [{bar}] {value}/{total} images | {rate} img/s | ETA {eta_formatted}",
    });
    bar.start(images.length, 0, { rate: "-" });
    const started = performance.now();
    let done = 0;
    for (const image of images) {
      if (stop) break;
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(image.file));
        const runs: ImageResult[] = [];
        for (const row of rows) {
          const t0 = performance.now();
          const p = await row.net.probabilities(bytes, { crops: row.cost.crops, name: image.file });
          const ms = performance.now() - t0;
          row.ms += ms;
          const h = hits(p, image.label);
          row.top1 += h.top1 ? 1 : 0;
          row.top5 += h.top5 ? 1 : 0;
          row.n++;
          const top1 = p.reduce((best, v, k) => (v > p[best] ? k : best), 0);
          runs.push({ models: row.cost.models, crops: row.cost.crops, top1, probability: p[image.label], ms });
        }
        report.images++;
        report.results.push({ file: basename(image.file), label: image.label, runs });
      } catch (error) {
        if (!(error instanceof InceptionError) && !(error instanceof Error && "code" in error)) throw error;
        report.skipped.push({ file: basename(image.file), reason: (error as Error).message });
      }
      done++;
      const rate = done / ((performance.now() - started) / 1000);
      bar.update(done, { rate: rate.toPrecision(3) });
    }
    bar.stop();
    report.interrupted = stop;
    report.rows = rows
      .filter((r) => r.n > 0)
      .map((r) => ({
        models: r.cost.models,
        crops: r.cost.crops,
        passes: r.cost.passesPerImage,
        multiplyAdds: r.cost.multiplyAddsPerImage,
        weightBytes: r.cost.weightBytes,
        images: r.n,
        seconds: r.ms / 1000,
        top1Error: 1 - r.top1 / r.n,
        top5Error: 1 - r.top5 / r.n,
      }));
    if (work === 0) throw new InceptionError("E_USAGE", "eval: nothing to evaluate");
  } finally {
    process.removeListener("SIGINT", onInterrupt);
    await single.dispose();
    await ensemble?.dispose();
  }
  const json = JSON.stringify(report, null, 2);
  if (options.out) await writeFile(options.out, `${json}\n`);
  console.log(options.json && !options.out ? json : formatEval(report));
  if (report.skipped.length > 0 || report.interrupted) process.exitCode = 1;
}
