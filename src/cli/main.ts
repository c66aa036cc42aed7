#!/usr/bin/env node
// inception-wasm command line: classify, summary, convert, export-onnx, bench, weights, verify.

import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { InceptionError } from "../host/errors.js";
import { expectedWeights } from "../host/ir/tensors.js";
import type { BuildChoice } from "../host/wasm/kernels.js";
import { formatSummary, summarize } from "../model/network/summary.js";
import { DEFAULT_INPUT_SIZE, googlenetGraph } from "../model/network/googlenet.js";
import { shortLabel } from "../model/network/labels.js";
import { GoogLeNet, GoogLeNetEnsemble, type CropCount, type Prediction } from "../node/index.js";
import { convertMatDirectory, resolveDataDir } from "../node/weights.js";
import { benchNetwork, formatBench } from "./bench.js";
import { WEIGHTS_USAGE, weightsCommand } from "./weights.js";

const USAGE = `usage: inception-wasm <command> [options]

commands:
  classify <image...> [--photos] [--top N] [--json] [--weights PATH] [--build B] [--threads N]
           [--crops 1|10|144] [--ensemble W1,W2,...]
      top classes of JPEG/PNG images; --photos adds every photo of the data folder; --crops: the
      centre crop, BVLC's 10 crops or the paper's 144, probabilities averaged; --ensemble: several
      weight files averaged
  eval <folder> --labels FILE [--crops 1,10,144] [--ensemble W1,W2,...] [--json] [--out FILE]
      top-1/top-5 error over a labelled folder (FILE: "<file> <class>" lines, or one sub-folder
      per class index), per crop protocol and model set, in the layout of the paper's Table 3
  summary [--json] [--input-size N]
      the paper's Table 1 for the network: layers, sizes, params, multiply-adds
  convert <mat-dir> <out.iwnet>
      converts the per-layer BVLC MAT weights to one inception-wasm weight file
  export-onnx <out.onnx> [--weights PATH] [--input-size N]
      writes the network with its weights as an ONNX model (opset 13, dynamic batch)
  bench [--json] [--threads 1,2] [--runs N] [--warmup N] [--build B] [--profile]
      single-image latency of the whole network, per thread count (default 1)
${WEIGHTS_USAGE}
  verify [--weights PATH] [--threads N] [--json]
      checks that the baseline build reproduces the reference output bits here (exit 1 if not)

options:
  --weights PATH   weight file or MAT folder (default: $INCEPTION_WASM_WEIGHTS, else the newest
                   \`weights fetch\`, else a repository checkout's ../shared/googlenet)
  --build B        auto (default), baseline, relaxed or debug
  --threads N      threads that run kernels (classify default: the available cores)
`;

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: "boolean", default: false },
    photos: { type: "boolean", default: false },
    top: { type: "string", default: "5" },
    weights: { type: "string" },
    build: { type: "string", default: "auto" },
    threads: { type: "string" },
    runs: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
    profile: { type: "boolean", default: false },
    crops: { type: "string", default: "1" },
    ensemble: { type: "string" },
    labels: { type: "string" },
    out: { type: "string" },
    sha1: { type: "string" },
    sha256: { type: "string" },
    force: { type: "boolean", default: false },
    "input-size": { type: "string", default: String(DEFAULT_INPUT_SIZE) },
    help: { type: "boolean", short: "h", default: false },
  },
});

function intOption(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new InceptionError("E_USAGE", `--${name}: expected an integer >= ${min}, found "${value}"`);
  return n;
}

function buildOption(): BuildChoice {
  const b = opts.build;
  if (b === "auto" || b === "baseline" || b === "relaxed" || b === "debug") return b;
  throw new InceptionError("E_USAGE", `--build: expected auto, baseline, relaxed or debug, found "${b}"`);
}

/** --crops: 1, 10 or 144. */
function cropsOption(): CropCount {
  const n = Number(opts.crops);
  if (n === 1 || n === 10 || n === 144) return n;
  throw new InceptionError("E_USAGE", `--crops: expected 1, 10 or 144, found "${opts.crops}"`);
}

/** A comma-separated list of non-empty items. */
function listText(text: string): string[] {
  return text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}

/** --threads: one count, or a comma-separated list (bench). */
function threadsOption(fallback: string): number[] {
  return (opts.threads ?? fallback).split(",").map((t) => intOption("threads", t.trim(), 1));
}

async function photoFiles(): Promise<string[]> {
  const dir = join(resolveDataDir(opts.weights), "photos");
  const names = (await readdir(dir)).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort();
  return names.map((n) => join(dir, n));
}

async function classify(files: string[]): Promise<void> {
  if (opts.photos) files.push(...(await photoFiles()));
  if (files.length === 0) throw new InceptionError("E_USAGE", "classify: expected image files or --photos, found none");
  const topK = intOption("top", opts.top, 1);
  let threads: number | undefined;
  if (opts.threads !== undefined) {
    const list = threadsOption("1");
    if (list.length !== 1)
      throw new InceptionError("E_USAGE", `classify: --threads expects one count, found "${opts.threads}"`);
    threads = list[0];
  }
  const crops = cropsOption();
  const net = opts.ensemble
    ? await GoogLeNet.loadEnsemble(listText(opts.ensemble), { build: buildOption(), threads })
    : await GoogLeNet.load({ weights: opts.weights, build: buildOption(), threads });
  const first = net instanceof GoogLeNetEnsemble ? net.members[0] : net;
  const results: { file: string; top: Prediction[]; ms: number }[] = [];
  try {
    if (!opts.json) {
      const models = net instanceof GoogLeNetEnsemble ? `, ${net.members.length} models` : "";
      console.log(`inception-wasm: ${first.build} build, ${first.threads} thread(s), ${crops} crop(s)${models}`);
    }
    for (const file of files) {
      const t0 = performance.now();
      const top = await net.classify(new Uint8Array(await readFile(file)), { topK, name: file, crops });
      const ms = performance.now() - t0;
      results.push({ file, top, ms });
      if (!opts.json) {
        console.log(`\n${basename(file)}  (${ms.toFixed(1)} ms)`);
        for (const p of top)
          console.log(
            `  ${(p.probability * 100).toFixed(2).padStart(6)}%  ${String(p.index).padStart(3)}  ${shortLabel(p.label)}`,
          );
      }
    }
  } finally {
    await net.dispose();
  }
  if (opts.json) {
    const models = net instanceof GoogLeNetEnsemble ? net.members.length : 1;
    console.log(
      JSON.stringify({ build: first.build, threads: first.threads, crops, models, images: results }, null, 2),
    );
  }
}

async function main(): Promise<void> {
  const [command, ...rest] = positionals;
  if (opts.help || !command) {
    console.log(USAGE);
    return;
  }
  switch (command) {
    case "classify":
      return classify(rest);
    case "summary": {
      const s = summarize(intOption("input-size", opts["input-size"], 1));
      console.log(opts.json ? JSON.stringify(s, null, 2) : formatSummary(s));
      return;
    }
    case "convert": {
      if (rest.length !== 2)
        throw new InceptionError(
          "E_USAGE",
          `convert: expected <mat-dir> <out.iwnet>, found ${rest.length} argument(s)`,
        );
      const expected = expectedWeights(googlenetGraph(), DEFAULT_INPUT_SIZE, DEFAULT_INPUT_SIZE);
      const r = await convertMatDirectory(rest[0], rest[1], expected);
      console.log(`${rest[1]}: ${r.tensors} tensors, ${r.bytes} bytes`);
      return;
    }
    case "export-onnx": {
      if (rest.length !== 1)
        throw new InceptionError("E_USAGE", `export-onnx: expected <out.onnx>, found ${rest.length} argument(s)`);
      const { ONNX_OPSET } = await import("../model/formats/onnxExport.js");
      const { exportGoogLeNetOnnx } = await import("../node/exportOnnx.js");
      const bytes = await exportGoogLeNetOnnx(rest[0], {
        weights: opts.weights,
        inputSize: intOption("input-size", opts["input-size"], 1),
      });
      console.log(`${rest[0]}: ONNX opset ${ONNX_OPSET}, ${bytes} bytes`);
      return;
    }
    case "bench": {
      const result = await benchNetwork({
        weights: opts.weights,
        build: buildOption(),
        threads: threadsOption("1"),
        runs: intOption("runs", opts.runs, 1),
        warmup: intOption("warmup", opts.warmup, 0),
        profile: opts.profile,
      });
      console.log(opts.json ? JSON.stringify(result, null, 2) : formatBench(result));
      return;
    }
    case "weights":
      return weightsCommand(rest, { sha1: opts.sha1, sha256: opts.sha256, force: opts.force, json: opts.json });
    case "eval": {
      const { evaluate } = await import("./eval.js");
      if (rest.length !== 1) throw new InceptionError("E_USAGE", `eval: expected one <folder>, found ${rest.length}`);
      return evaluate({
        folder: rest[0],
        labels: opts.labels,
        weights: opts.weights,
        ensemble: opts.ensemble ? listText(opts.ensemble) : undefined,
        crops: listText(opts.crops).map((c) => Number(c)),
        build: buildOption(),
        json: opts.json,
        out: opts.out,
        threads: opts.threads === undefined ? undefined : intOption("threads", opts.threads, 1),
      });
    }
    case "verify": {
      const { verify, formatVerify } = await import("./verify.js");
      const threads = opts.threads === undefined ? undefined : intOption("threads", opts.threads, 1);
      const report = await verify({ weights: opts.weights, threads });
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatVerify(report));
      process.exitCode = report.pass ? 0 : 1;
      return;
    }
    default:
      throw new InceptionError("E_USAGE", `unknown command "${command}"\n\n${USAGE}`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof InceptionError) {
    console.error(`inception-wasm: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
});
