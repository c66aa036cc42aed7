// The GoogLeNet data folder for tests (the library's one configured location) and its photo list.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import type { TensorMap } from "../../src/host/ir/tensors.js";
import { readMatWeights, resolveDataDir } from "../../src/node/weights.js";

export const DATA_DIR = resolveDataDir();
export const PHOTOS_DIR = join(DATA_DIR, "photos");
export const BLOBS_DIR = join(DATA_DIR, "caffe-blobs");

/** A row of photos/photos.tsv: the file and its reference top-1 class index. */
export interface PhotoCase {
  file: string;
  top1: number;
  top1Label: string;
}

/** Parses photos/photos.tsv (header row; column 5 starts with "<index> <name> <probability>"). */
export function photoCases(): PhotoCase[] {
  const lines = readFileSync(join(PHOTOS_DIR, "photos.tsv"), "utf8").trim().split(/\r?\n/).slice(1);
  return lines.map((line) => {
    const cols = line.split("\t");
    const m = /^(\d+)\s+(.+?)\s+[0-9.]+/.exec(cols[4]);
    if (!m) throw new Error(`photos.tsv: cannot read the reference top-1 of "${line}"`);
    return { file: join(PHOTOS_DIR, cols[0]), top1: Number(m[1]), top1Label: m[2] };
  });
}

let weights: TensorMap | undefined;

/** The BVLC weights of the data folder (read once per test process). */
export async function matWeights(): Promise<TensorMap> {
  weights ??= await readMatWeights(DATA_DIR);
  return weights;
}

/** SHA-256 (hex) of a float array's bytes. */
export function floatsSha(a: Float32Array): string {
  return createHash("sha256")
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest("hex");
}
