// The GoogLeNet data folder for tests (the library's one configured location) and its photo list.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveDataDir } from "../../src/node/weights.js";

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
