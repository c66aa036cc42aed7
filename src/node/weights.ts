// Where the GoogLeNet weights come from, for server runtimes (Node, Deno, Bun): per-layer BVLC
// MAT files, a converted IWNET file, and an IWNET cache of the MAT files. Parsing lives in
// mat.ts and weightFile.ts; browsers fetch an IWNET file and call decodeWeightFile themselves.
//
// Which weights load when none are named: lookup.ts. The data folder (labels, photos, Caffe's
// reference blobs): resolveDataDir() takes an explicit option (the CLI's --weights), else the
// environment variable INCEPTION_WASM_DATA, else <project root>/../shared/googlenet.

import { existsSync } from "node:fs";
import { open, readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { WeightsError } from "../host/errors.js";
import { readMat, type MatVariable } from "../model/formats/mat.js";
import { decodeWeights, detectWeightFormat } from "../model/formats/detect.js";
import { externalDataReader } from "./onnxFiles.js";
import { decodeWeightFile, encodeWeightFile, hasIwnetMagic, readWeightStream } from "../model/formats/iwnet.js";
import { googlenetGraph } from "../model/network/googlenet.js";
import { checkTensors, type ExpectedTensor, type TensorMap } from "../host/ir/tensors.js";
import { hex, sha256 } from "../host/digest.js";
import type { WeightFeed } from "../host/plan/plan.js";
import { nodeSha256 } from "./sha256.js";
import { fileChunks, warnNotCached, writeFileAtomic } from "./files.js";
import { locateWeights } from "./lookup.js";
import { matCacheDir, userCacheDir } from "./userCache.js";

/** Expected tensor names and row-major shapes, as given by the network definition. */
type ExpectedTensors = readonly ExpectedTensor[];

const MAT_WEIGHT = /^(.+)_(w|b)\.mat$/;

/** The package root: the nearest folder above this module holding package.json (works from src/ and dist/src/). */
export function projectRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) {
      throw new WeightsError(
        start,
        undefined,
        "cannot locate the project root: expected package.json in this folder or above, found none",
      );
    }
  }
}

/** The default GoogLeNet data folder: <project root>/../shared/googlenet. */
export function defaultDataDir(): string {
  return resolve(projectRoot(), "..", "shared", "googlenet");
}

/** The GoogLeNet data folder: `option` if given, else $INCEPTION_WASM_DATA if set, else defaultDataDir(). */
export function resolveDataDir(option?: string): string {
  return option || process.env["INCEPTION_WASM_DATA"] || defaultDataDir();
}

/**
 * Reads every `<layer>_w.mat` / `<layer>_b.mat` of a folder (the googlenet data folder, whose
 * `bvlc-params/` subfolder is then used, or that subfolder itself) into tensors
 * `<layer>.weight` (conv OIHW [cout, cin, ky, kx] or FC [out, in]) and `<layer>.bias` ([n]).
 * Throws WeightsError if the folder is missing, holds no MAT weights, or a file is malformed.
 */
export async function readMatWeights(dir: string): Promise<TensorMap> {
  const paramsDir = await matWeightDir(dir);
  const tensors: TensorMap = new Map();
  for (const name of await matWeightFiles(paramsDir)) {
    const file = join(paramsDir, name);
    const { name: tensor, shape, data } = matWeightTensor(await readWeightFile(file), file);
    tensors.set(tensor, { shape, data });
  }
  return tensors;
}

/**
 * The tensor of one BVLC MAT weight file, `<layer>_w.mat` (variable "weights": conv weights
 * (kx, ky, cin, cout) or FC weights (in, out), as OIHW / [out, in]) or `<layer>_b.mat` (variable
 * "bias", (n, 1), as [n]); the layer comes from the file name. Throws WeightsError naming `file`.
 */
export function matWeightTensor(
  bytes: Uint8Array,
  file: string,
): { name: string; shape: number[]; data: Float32Array } {
  const match = MAT_WEIGHT.exec(basename(file));
  if (!match) throw new WeightsError(file, undefined, "expected a file name <layer>_w.mat or <layer>_b.mat");
  const [, layer, kind] = match;
  const v = matVariable(readMat(bytes, file), file, kind === "w" ? "weights" : "bias");
  if (kind === "w") {
    if (v.dims.length !== 4 && v.dims.length !== 2) {
      throw new WeightsError(
        file,
        `${layer}.weight`,
        `expected conv weights (kx, ky, cin, cout) or FC weights (in, out), found MAT dims [${v.dims.join(", ")}]`,
      );
    }
    // Column-major MAT dims reversed are the row-major shape: OIHW for conv, [out, in] for FC.
    return { name: `${layer}.weight`, shape: [...v.dims].reverse(), data: v.data };
  }
  if (v.dims.filter((d) => d !== 1).length > 1) {
    throw new WeightsError(
      file,
      `${layer}.bias`,
      `expected a bias vector (n, 1), found MAT dims [${v.dims.join(", ")}]`,
    );
  }
  return { name: `${layer}.bias`, shape: [v.data.length], data: v.data };
}

/**
 * Loads and checks the network's weights. `source` is an IWNET file or a MAT folder (see
 * readMatWeights); when not given, locateWeights() finds one (option, environment, user cache,
 * checkout). `cacheDir` is the user cache folder (default userCacheDir()). A MAT folder is
 * cached as `<cacheDir>/mat/googlenet-<key>.iwnet`, keyed by the folder path and its files'
 * sizes and mtimes; an invalid cache file is rebuilt, and a cache that cannot be written
 * (read-only, or no such place) only warns, once.
 * Throws WeightsError when no weights are found, cannot be read or do not match `expected`.
 */
export async function loadWeights(options: {
  source?: string;
  cacheDir?: string;
  expected: ExpectedTensors;
}): Promise<{ tensors: TensorMap; from: string; cached: boolean }> {
  const cacheDir = options.cacheDir ?? userCacheDir();
  const { path: source } = await locateWeights({ option: options.source, cacheDir, root: projectRoot() });
  if ((await stat(source).catch(() => undefined))?.isFile()) {
    const bytes = await readWeightFile(source);
    // IWNET holds named tensors, checked against `expected` below; other formats are read by matching GoogLeNet.
    const tensors =
      detectWeightFormat(bytes, source) === "iwnet"
        ? await decodeWeightFile(bytes, source)
        : await decodeWeights(bytes, source, googlenetGraph(), externalDataReader(source));
    checkTensors(tensors, options.expected, source);
    return { tensors, from: source, cached: false };
  }
  const paramsDir = await matWeightDir(source);
  const cacheFile = join(matCacheDir(cacheDir), `googlenet-${await folderKey(paramsDir)}.iwnet`);
  const cachedTensors = await readFile(cacheFile)
    .then((bytes) => decodeWeightFile(bytes, cacheFile))
    .then((tensors) => {
      checkTensors(tensors, options.expected, cacheFile);
      return tensors;
    })
    .catch(() => undefined); // absent, unreadable, corrupt or stale: rebuild it
  if (cachedTensors) return { tensors: cachedTensors, from: cacheFile, cached: true };

  const tensors = await readMatWeights(paramsDir);
  checkTensors(tensors, options.expected, paramsDir);
  await writeFileAtomic(cacheFile, await encodeWeightFile(tensors)).catch((error: unknown) =>
    warnNotCached("the converted weights", cacheFile, error),
  );
  return { tensors, from: paramsDir, cached: false };
}

/**
 * The weights for a load, as loadWeights finds them; but when `feed` is set and they are an IWNET
 * file, a feed that reads the file in chunks (fileChunks) and delivers each tensor, checked as
 * decodeWeightFile checks it (readWeightStream), for the engine to write into the network's memory:
 * the file is never held whole. Other formats, MAT folders and `feed: false` (the reference engine,
 * which needs the tensors) get loadWeights' tensors.
 */
export async function openWeights(options: {
  source?: string;
  cacheDir?: string;
  expected: ExpectedTensors;
  feed: boolean;
}): Promise<TensorMap | WeightFeed> {
  if (options.feed) {
    const cacheDir = options.cacheDir ?? userCacheDir();
    const { path } = await locateWeights({ option: options.source, cacheDir, root: projectRoot() });
    if (await startsWithIwnetMagic(path)) {
      return async (write) => {
        const handle = await open(path, "r").catch((cause: unknown) => {
          throw new WeightsError(path, undefined, `cannot read file: ${(cause as Error).message}`, { cause });
        });
        try {
          await readWeightStream(fileChunks(handle, path), path, write, nodeSha256());
        } finally {
          await handle.close().catch(() => undefined);
        }
      };
    }
  }
  return (await loadWeights(options)).tensors;
}

/** Whether `path` is a file that starts with the IWNET magic (false for folders and unreadable files). */
async function startsWithIwnetMagic(path: string): Promise<boolean> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return false;
  try {
    if (!(await handle.stat()).isFile()) return false;
    const head = new Uint8Array(8);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return hasIwnetMagic(head.subarray(0, bytesRead));
  } catch {
    return false;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Converts a MAT folder (see readMatWeights) to one IWNET file after checking it against `expected`. */
export async function convertMatDirectory(
  dir: string,
  outFile: string,
  expected: ExpectedTensors,
): Promise<{ tensors: number; bytes: number }> {
  const tensors = await readMatWeights(dir);
  checkTensors(tensors, expected, dir);
  const bytes = await encodeWeightFile(tensors);
  await writeFileAtomic(resolve(outFile), bytes);
  return { tensors: tensors.size, bytes: bytes.length };
}

/**
 * Reads a Caffe reference blob (caffe-blobs/<k>_<blob>.mat, variable `data`, MAT dims (W, H, C),
 * raw order already CHW) as shape [C, H, W]; MATLAB's dropped trailing singletons are restored:
 * (n, 1) -> [n], (W, H) -> [1, H, W].
 */
export async function readCaffeBlob(file: string): Promise<{ shape: number[]; data: Float32Array }> {
  const v = matVariable(readMat(await readWeightFile(file), file), file, "data");
  const [w, h] = v.dims as [number, number];
  let shape: number[];
  if (v.dims.length === 3) shape = [...v.dims].reverse();
  else if (v.dims.length === 2) shape = h === 1 ? [w] : [1, h, w];
  else
    throw new WeightsError(file, "data", `expected MAT dims (W, H, C), (W, H) or (n, 1), found [${v.dims.join(", ")}]`);
  return { shape, data: v.data };
}

/** The folder holding the MAT weights: `<dir>/bvlc-params` if it exists, else `dir`; throws if neither holds any. */
async function matWeightDir(dir: string): Promise<string> {
  const sub = join(dir, "bvlc-params");
  if ((await stat(sub).catch(() => undefined))?.isDirectory()) return sub;
  const exists = (await stat(dir).catch(() => undefined))?.isDirectory() ?? false;
  if (!exists || (await matWeightFiles(dir)).length === 0) {
    throw new WeightsError(
      dir,
      undefined,
      `no GoogLeNet weights: expected per-layer MAT files <layer>_w.mat / <layer>_b.mat in ${dir} or ${sub}, ` +
        `found ${exists ? "a folder without them" : "no such folder"}. Set the location with the --weights option or ` +
        `the environment variable INCEPTION_WASM_WEIGHTS (older name INCEPTION_WASM_DATA); the data is the BVLC ` +
        `GoogLeNet weights as per-layer MAT files (bvlc-params/*.mat, see shared/googlenet/README.md) or a weight ` +
        `file, e.g. the one \`npx inception-wasm weights fetch\` puts in the user cache.`,
    );
  }
  return dir;
}

/** Sorted names of the MAT weight files in an existing folder. */
async function matWeightFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => MAT_WEIGHT.test(name)).sort();
}

/** The variable `name` of a MAT file; throws WeightsError listing the variables found if it is absent. */
function matVariable(variables: MatVariable[], file: string, name: string): MatVariable {
  const v = variables.find((x) => x.name === name);
  if (!v) {
    throw new WeightsError(
      file,
      undefined,
      `expected MAT variable ${JSON.stringify(name)}, found [${variables.map((x) => JSON.stringify(x.name)).join(", ")}]`,
    );
  }
  return v;
}

/** Reads a file, turning I/O failures into WeightsError naming it. */
async function readWeightFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (cause) {
    throw new WeightsError(
      file,
      undefined,
      `cannot read file: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/**
 * Identity of the weights at `path` (a weight file or a MAT folder, as locateWeights returns),
 * without reading them: a file's resolved path, size, mtime and inode; a MAT folder's key.
 */
export async function weightsIdentity(path: string): Promise<string> {
  const s = await stat(path);
  if (s.isFile()) return JSON.stringify(["file", resolve(path), s.size, s.mtimeMs, s.ino]);
  return JSON.stringify(["mat", await folderKey(await matWeightDir(path))]);
}

/** Short key of a MAT folder: SHA-256 over its path and each weight file's name, size and mtime. */
async function folderKey(dir: string): Promise<string> {
  const files = await Promise.all(
    (await matWeightFiles(dir)).map(async (name) => {
      const s = await stat(join(dir, name));
      return [name, s.size, s.mtimeMs];
    }),
  );
  return hex((await sha256(new TextEncoder().encode(JSON.stringify([dir, files])))).subarray(0, 8));
}
