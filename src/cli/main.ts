#!/usr/bin/env node
// inception-wasm command line: classify, summary, convert, export-onnx, export-tflite, bench, weights, verify.

import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { maxThreads } from "../host/engine/wasm.js";
import { nodeRuntime } from "../node/runtime.js";
import { InceptionError } from "../host/errors.js";
import { expectedWeights } from "../host/ir/tensors.js";
import type { BuildChoice } from "../host/wasm/kernels.js";
import type { Precision } from "../host/plan/winogradLayers.js";
import { RESIZE_FILTERS, type ResizeFilter } from "../model/image/preprocess.js";
import { formatSummary, summarize } from "../model/network/summary.js";
import { resolveNetwork } from "../api/network.js";
import { DEFAULT_INPUT_SIZE, googlenetGraph } from "../model/network/googlenet.js";
import { shortLabel } from "../model/network/labels.js";
import { GoogLeNet, type CropCount, type Prediction } from "../node/index.js";
import { convertMatDirectory, resolveDataDir } from "../node/weights.js";
import { benchNetwork, formatBench } from "./bench.js";
import { formatCost } from "./cost.js";
import { WEIGHTS_USAGE, weightsCommand } from "./weights.js";

const USAGE = `usage: inception-wasm <command> [options]

commands:
  classify <image...> [--photos] [--top N] [--json] [--weights PATH] [--build B] [--tile T] [--threads N]
           [--crops 1|10|144] [--ensemble W1,W2,...] [--fast] [--resize F]
      top classes of JPEG/PNG images; --photos adds every photo of the data folder; --crops: the
      centre crop, BVLC's 10 crops or the paper's 144, probabilities averaged; --ensemble: several
      weight files averaged
  eval <folder> --labels FILE [--crops 1,10,144] [--ensemble W1,W2,...] [--resize F] [--json] [--out FILE]
      top-1/top-5 error over a labelled folder (FILE: "<file> <class>" lines, or one sub-folder
      per class index), per crop protocol and model set, in the layout of the paper's Table 3
  summary [--json] [--input-size N] [--fast] [--weights MODEL.onnx]
      the paper's Table 1 for the network: layers, sizes, params, multiply-adds; --fast adds the
      layers fast mode may run as Winograd (a load measures which) and their multiply-adds;
      --weights MODEL.onnx: the table of that model's graph (a row per node unless it is
      GoogLeNet's BVLC graph)
  convert <mat-dir> <out.iwnet>
      converts the per-layer BVLC MAT weights to one inception-wasm weight file
  export-onnx <out.onnx> [--weights PATH] [--input-size N]
      writes the network with its weights as an ONNX model (opset 13, dynamic batch)
  export-tflite <out.tflite> [--weights PATH] [--input-size N]
      writes the network with its weights as a TFLite model (NHWC input, batch 1), for LiteRT
  bench [--json] [--threads 1,2] [--runs N] [--warmup N] [--build B] [--tile T] [--profile] [--fast]
      single-image latency of the whole network, per thread count (default 1)
${WEIGHTS_USAGE}
  verify [--weights PATH] [--threads N] [--json]
      checks that the baseline build reproduces the reference output bits here (exit 1 if not)

options:
  --weights PATH   weight file or MAT folder (default: $INCEPTION_WASM_WEIGHTS, else the newest
                   \`weights fetch\`, else a repository checkout's ../shared/googlenet)
  --build B        auto (default), baseline, relaxed or debug
  --tile T         GEMM register tile: auto (default: a timed probe at load, or its result kept in the
                   user cache), probe (probe again and keep the new result) or 4x8, 6x8, 4x12, 3x16,
                   4x8lanes, 6x8addr
  --threads N      threads that run kernels (classify default: the available cores)
  --fast           fast mode: 3x3 and 5x5 convolutions as Winograd where measured faster (default: strict)
  --resize F       image resize filter: antialias (default, as PIL's bilinear) or bilinear (2x2
                   taps, as OpenCV's INTER_LINEAR in Caffe's tools)
`;

/** A mistake in the command line: one line with the usage hint, exit code 2. */
const usageError = (message: string): InceptionError => new InceptionError("E_USAGE", message);

const OPTIONS = {
  json: { type: "boolean", default: false },
  photos: { type: "boolean", default: false },
  top: { type: "string", default: "5" },
  weights: { type: "string" },
  build: { type: "string", default: "auto" },
  tile: { type: "string", default: "auto" },
  threads: { type: "string" },
  runs: { type: "string", default: "30" },
  warmup: { type: "string", default: "5" },
  profile: { type: "boolean", default: false },
  fast: { type: "boolean", default: false },
  sha1: { type: "string" },
  sha256: { type: "string" },
  force: { type: "boolean", default: false },
  crops: { type: "string", default: "1" },
  resize: { type: "string", default: "antialias" },
  ensemble: { type: "string" },
  labels: { type: "string" },
  out: { type: "string" },
  "input-size": { type: "string", default: String(DEFAULT_INPUT_SIZE) },
  help: { type: "boolean", short: "h", default: false },
} as const;

function parseCommandLine() {
  try {
    return parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (error) {
    // node:util's messages (unknown option, missing value) name the option; no stack for those.
    throw usageError((error as Error).message.split("\n")[0].replace(/\. To specify.*$/, ""));
  }
}

/** A decimal integer option (digits only: "1e3" and "0x10" are refused) in min..max. */
function intOption(name: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d{1,15}$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw usageError(`--${name}: expected an integer ${range}, found "${value}"`);
  }
  return n;
}

function buildOption(): BuildChoice {
  const b = opts.build;
  if (b === "auto" || b === "baseline" || b === "relaxed" || b === "debug") return b;
  throw usageError(`--build: expected auto, baseline, relaxed or debug, found "${b}"`);
}

/** --tile: "auto", "probe" or ROWSxCOLS (an unknown tile of that form is the library's ArgumentError, listing the tiles). */
function tileOption(): string {
  if (opts.tile === "auto" || opts.tile === "probe" || /^\d{1,2}x\d{1,2}$/.test(opts.tile)) return opts.tile;
  throw usageError(`--tile: expected auto, probe or a tile such as 4x8, found "${opts.tile}"`);
}

/** --fast: the precision mode. */
function precision(): Precision {
  return opts.fast ? "fast" : "strict";
}

/** --resize: the image resize filter. */
function resizeOption(): ResizeFilter {
  if (RESIZE_FILTERS.includes(opts.resize as ResizeFilter)) return opts.resize as ResizeFilter;
  throw usageError(`--resize: expected ${RESIZE_FILTERS.join(" or ")}, found "${opts.resize}"`);
}

/** --crops: 1, 10 or 144. */
function cropsOption(): CropCount {
  const n = Number(opts.crops);
  if (n === 1 || n === 10 || n === 144) return n;
  throw usageError(`--crops: expected 1, 10 or 144, found "${opts.crops}"`);
}

/** A comma-separated list of non-empty items. */
function listText(text: string): string[] {
  return text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}

/** --threads: one count, or a comma-separated list (bench); each in 1..maxThreads(). */

function threadsOption(fallback: string): number[] {
  return (opts.threads ?? fallback).split(",").map((t) => intOption("threads", t.trim(), 1, maxThreads(nodeRuntime)));
}

/** The photos of the data folder: --weights when it names a folder, else the default data folder. */
async function photoFiles(): Promise<string[]> {
  const weightsIsFolder =
    opts.weights !== undefined && (await stat(opts.weights).catch(() => undefined))?.isDirectory();
  const dir = join(resolveDataDir(weightsIsFolder ? opts.weights : undefined), "photos");
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    throw usageError(`--photos: cannot list the photos folder ${dir} (${error.code ?? error.message})`);
  });
  return names
    .filter((n) => /\.(jpe?g|png)$/i.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** Throws a usage error when `path` is an existing folder (an output file was expected). */
async function outputFile(command: string, path: string): Promise<string> {
  if ((await stat(path).catch(() => undefined))?.isDirectory()) {
    throw usageError(`${command}: expected an output file path, found the folder ${path}`);
  }
  return path;
}

/** The one-line message of an error a user can act on, or undefined for a bug (printed with its stack). */
function userMessage(error: unknown): string | undefined {
  if (error instanceof InceptionError) return error.message;
  const e = error as NodeJS.ErrnoException;
  if (e instanceof Error && typeof e.code === "string" && typeof e.syscall === "string") return e.message;
  return undefined;
}

async function classify(files: string[]): Promise<void> {
  if (opts.photos) files.push(...(await photoFiles()));
  if (files.length === 0) throw usageError("classify: expected image files or --photos, found none");
  const topK = intOption("top", opts.top, 1, 1000);
  let threads: number | undefined;
  if (opts.threads !== undefined) {
    const list = threadsOption("1");
    if (list.length !== 1) throw usageError(`classify: --threads expects one count, found "${opts.threads}"`);
    threads = list[0];
  }
  const crops = cropsOption();
  const net = opts.ensemble
    ? await GoogLeNet.loadEnsemble(listText(opts.ensemble), {
        build: buildOption(),
        tile: tileOption(),
        threads,
        precision: precision(),
        resizeFilter: resizeOption(),
      })
    : await GoogLeNet.load({
        weights: opts.weights,
        build: buildOption(),
        tile: tileOption(),
        threads,
        precision: precision(),
        resizeFilter: resizeOption(),
      });
  // One bad file is reported in its place (an error entry with --json); the others still run.
  const results: ({ file: string; top: Prediction[]; ms: number } | { file: string; error: string })[] = [];
  const cost = net.summary(crops); // before dispose(), which releases the memory it reports
  try {
    if (!opts.json) {
      console.log(
        `inception-wasm: ${net.build} build, ${net.capabilities.precision}, ${net.kernel} tile, ${net.threads} thread(s); ` +
          formatCost(cost),
      );
      console.log(`tile ${net.kernel}: ${net.kernelReason}`);
    }
    for (const file of files) {
      const t0 = performance.now();
      let top: Prediction[];
      try {
        top = await net.classify(new Uint8Array(await readFile(file)), { topK, name: file, crops });
      } catch (error) {
        const message = userMessage(error);
        if (message === undefined) throw error;
        results.push({ file, error: message });
        process.exitCode = 1;
        if (!opts.json) console.error(`\n${basename(file)}  error: ${message}`);
        continue;
      }
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
    console.log(
      JSON.stringify(
        {
          build: net.build,
          kernel: net.kernel,
          kernelReason: net.kernelReason,
          precision: net.capabilities.precision,
          threads: net.threads,
          crops,
          models: net.models,
          cost,
          images: results,
        },
        null,
        2,
      ),
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
      // --weights names an ONNX model: the table of its graph (GoogLeNet's when it is the BVLC graph).
      const network = opts.weights
        ? (await resolveNetwork([opts.weights], nodeRuntime.readModelFile)).graph
        : undefined;
      const s = summarize(intOption("input-size", opts["input-size"], 1), precision(), network);
      console.log(opts.json ? JSON.stringify(s, null, 2) : formatSummary(s));
      return;
    }
    case "convert": {
      if (rest.length !== 2)
        throw usageError(`convert: expected <mat-dir> <out.iwnet>, found ${rest.length} argument(s)`);
      const expected = expectedWeights(googlenetGraph(), DEFAULT_INPUT_SIZE, DEFAULT_INPUT_SIZE);
      const r = await convertMatDirectory(rest[0], await outputFile("convert", rest[1]), expected);
      console.log(`${rest[1]}: ${r.tensors} tensors, ${r.bytes} bytes`);
      return;
    }
    case "export-onnx": {
      if (rest.length !== 1) throw usageError(`export-onnx: expected <out.onnx>, found ${rest.length} argument(s)`);
      const { ONNX_OPSET } = await import("../model/formats/onnxExport.js");
      const { exportGoogLeNetOnnx } = await import("../node/exportOnnx.js");
      const bytes = await exportGoogLeNetOnnx(await outputFile("export-onnx", rest[0]), {
        weights: opts.weights,
        inputSize: intOption("input-size", opts["input-size"], 1),
      });
      console.log(`${rest[0]}: ONNX opset ${ONNX_OPSET}, ${bytes} bytes`);
      return;
    }
    case "export-tflite": {
      if (rest.length !== 1) throw usageError(`export-tflite: expected <out.tflite>, found ${rest.length} argument(s)`);
      const { TFLITE_SCHEMA_VERSION } = await import("../model/formats/tfliteExport.js");
      const { exportGoogLeNetTflite } = await import("../node/exportTflite.js");
      const bytes = await exportGoogLeNetTflite(await outputFile("export-tflite", rest[0]), {
        weights: opts.weights,
        inputSize: intOption("input-size", opts["input-size"], 1),
      });
      console.log(`${rest[0]}: TFLite schema ${TFLITE_SCHEMA_VERSION}, NHWC, ${bytes} bytes`);
      return;
    }
    case "bench": {
      const result = await benchNetwork({
        weights: opts.weights,
        build: buildOption(),
        tile: tileOption(),
        threads: threadsOption("1"),
        runs: intOption("runs", opts.runs, 1),
        warmup: intOption("warmup", opts.warmup, 0),
        profile: opts.profile,
        precision: precision(),
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
        resizeFilter: resizeOption(),
        json: opts.json,
        out: opts.out,
        threads: opts.threads === undefined ? undefined : intOption("threads", opts.threads, 1),
      });
    }
    case "verify": {
      const { verify, formatVerify } = await import("./verify.js");
      const threads =
        opts.threads === undefined ? undefined : intOption("threads", opts.threads, 1, maxThreads(nodeRuntime));
      const report = await verify({ weights: opts.weights, threads });
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatVerify(report));
      process.exitCode = report.pass ? 0 : 1;
      return;
    }
    default:
      throw usageError(`unknown command "${command}"`);
  }
}

let opts: ReturnType<typeof parseCommandLine>["values"];
let positionals: string[];

// Exit codes: 0 success, 1 a failure (a bad file, missing weights; with several images, any
// failed), 2 a usage mistake. User mistakes print one line, never a stack trace.
try {
  ({ values: opts, positionals } = parseCommandLine());
  await main();
} catch (error: unknown) {
  const message = userMessage(error);
  if (error instanceof InceptionError && error.code === "E_USAGE") {
    console.error(`inception-wasm: ${message} (inception-wasm --help for usage)`);
    process.exitCode = 2;
  } else {
    console.error(message === undefined ? error : `inception-wasm: ${message}`);
    process.exitCode = 1;
  }
}
