// The user's weights cache: where it is, what `weights fetch` leaves in it, and how an entry is
// checked. Layout (see README "Where the weights come from"):
//
//   <cache>/fetched/<name>/manifest.json        written last: its presence marks a complete entry
//   <cache>/fetched/<name>/weights.iwnet        the download converted to IWNET
//   <cache>/fetched/<name>/original/<file>      the download as published
//   <cache>/mat/googlenet-<key>.iwnet           MAT folders converted by loads (see loadWeights)
//
// <name> is "caffe", "onnx", or derived from the URL (see fetchWeights.ts).

import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join, posix, win32 } from "node:path";
import { readdir, readFile, stat } from "node:fs/promises";
import { WeightsError } from "../host/errors.js";
import { checkTensors, type ExpectedTensor } from "../host/ir/tensors.js";
import { decodeWeightFile } from "../model/formats/iwnet.js";

/** Name of an entry's manifest file. */
export const MANIFEST_FILE = "manifest.json";
/** Name of an entry's converted weights. */
export const IWNET_FILE = "weights.iwnet";
/** Subfolder of an entry holding the download as published. */
export const ORIGINAL_DIR = "original";

/** What `weights fetch` records about an entry (manifest.json, version 1). */
export interface WeightsManifest {
  manifest: 1;
  /** The entry's folder name under fetched/. */
  name: string;
  /** The URL asked for (a known source's published URL, or the one given). */
  source: string;
  /** The URL the bytes came from, after redirects. */
  url: string;
  /** ISO 8601 time the download finished. */
  fetched: string;
  original: {
    /** Path relative to the entry folder, e.g. "original/bvlc_googlenet.caffemodel". */
    file: string;
    bytes: number;
    sha1: string;
    sha256: string;
    /** The digests that were checked against published (or --sha1/--sha256) values; empty when none was given. */
    verified: ("sha1" | "sha256")[];
  };
  iwnet: { file: string; bytes: number; sha256: string; tensors: number };
}

/** An entry folder under fetched/: its manifest, or why it has none that can be used. */
export interface CacheEntry {
  name: string;
  dir: string;
  manifest: WeightsManifest | undefined;
  problem: string | undefined;
}

/**
 * The user cache folder: $INCEPTION_WASM_CACHE if set, else on Windows %LOCALAPPDATA%\inception-wasm
 * (else <home>\AppData\Local\inception-wasm), elsewhere $XDG_CACHE_HOME/inception-wasm (an
 * absolute path, as the XDG spec requires), else <home>/.cache/inception-wasm. Never inside
 * the package. Only computes the path; nothing is created.
 */
export function userCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const path = platform === "win32" ? win32 : posix;
  const own = env["INCEPTION_WASM_CACHE"];
  if (own) return path.resolve(own);
  if (platform === "win32") {
    return path.join(env["LOCALAPPDATA"] || path.join(home, "AppData", "Local"), "inception-wasm");
  }
  const xdg = env["XDG_CACHE_HOME"];
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, ".cache"), "inception-wasm");
}

/** The folder of fetched entries. */
export function fetchedDir(cacheDir: string): string {
  return join(cacheDir, "fetched");
}

/** The folder of MAT-folder conversions made by loads. */
export function matCacheDir(cacheDir: string): string {
  return join(cacheDir, "mat");
}

/** The folder of packed weight regions (warm-start entries, see packedCache.ts). */
export function packedCacheDir(cacheDir: string): string {
  return join(cacheDir, "packed");
}

/** The folder of the tile probe table (one entry per engine, build and CPU, see tileCache.ts). */
export function tileCacheDir(cacheDir: string): string {
  return join(cacheDir, "tiles");
}

/**
 * Every entry folder under `<cacheDir>/fetched`, newest fetch first (entries without a usable
 * manifest last, by name). An entry's `problem` says why its manifest is missing or unusable.
 * A missing cache folder gives no entries.
 */
export async function readEntries(cacheDir: string): Promise<CacheEntry[]> {
  const root = fetchedDir(cacheDir);
  const names = (await readdir(root, { withFileTypes: true }).catch(() => []))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const entries = await Promise.all(
    names.map(async (name): Promise<CacheEntry> => {
      const dir = join(root, name);
      const file = join(dir, MANIFEST_FILE);
      const text = await readFile(file, "utf8").catch(() => undefined);
      if (text === undefined) {
        const problem = "incomplete: no manifest.json (a fetch failed or was interrupted)";
        return { name, dir, manifest: undefined, problem };
      }
      try {
        return { name, dir, manifest: parseManifest(text, file), problem: undefined };
      } catch (error) {
        return { name, dir, manifest: undefined, problem: (error as Error).message };
      }
    }),
  );
  const fetched = (e: CacheEntry): string => e.manifest?.fetched ?? "";
  return entries.sort((a, b) => {
    if (fetched(a) !== fetched(b)) return fetched(a) < fetched(b) ? 1 : -1;
    return a.name < b.name ? -1 : 1;
  });
}

/**
 * The newest entry whose manifest is valid and whose weights.iwnet exists with the recorded
 * size (a cheap check: loading verifies the IWNET's own SHA-256), or why there is none.
 */
export async function newestUsableEntry(
  cacheDir: string,
): Promise<{ file: string; entry: CacheEntry } | { why: string }> {
  const entries = await readEntries(cacheDir);
  if (entries.length === 0) return { why: `no fetched weights (no entry in ${fetchedDir(cacheDir)})` };
  const reasons: string[] = [];
  for (const entry of entries) {
    if (!entry.manifest) {
      reasons.push(`${entry.name}: ${entry.problem}`);
      continue;
    }
    const file = join(entry.dir, entry.manifest.iwnet.file);
    const size = (await stat(file).catch(() => undefined))?.size;
    if (size === entry.manifest.iwnet.bytes) return { file, entry };
    const found = size === undefined ? "is missing" : `has ${size} bytes, expected ${entry.manifest.iwnet.bytes}`;
    reasons.push(`${entry.name}: ${file} ${found}`);
  }
  return { why: `no usable entry (${reasons.join("; ")})` };
}

/** One check of `verifyEntry`: what was checked and, when it failed, why. */
export interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

/**
 * Re-checks an entry in full: the original download's size and both digests against the
 * manifest (the original may have been deleted to save space: reported, not fatal for loading),
 * weights.iwnet's size and SHA-256 against the manifest, and that it decodes (its own checksum)
 * to the `expected` tensors.
 */
export async function verifyEntry(entry: CacheEntry, expected: readonly ExpectedTensor[]): Promise<Check[]> {
  const m = entry.manifest;
  if (!m) return [{ what: "manifest", ok: false, detail: entry.problem ?? "missing" }];
  const original = join(entry.dir, m.original.file);
  const iwnet = join(entry.dir, m.iwnet.file);
  const checks: Check[] = [];
  const originalBytes = await readFile(original).catch(() => undefined);
  if (originalBytes === undefined) {
    checks.push({ what: m.original.file, ok: false, detail: "missing (the converted weights still load)" });
  } else {
    const digests = { sha1: m.original.sha1, sha256: m.original.sha256 };
    checks.push(compareFile(m.original.file, originalBytes, m.original.bytes, digests));
  }
  const iwnetBytes = await readFile(iwnet).catch(() => undefined);
  if (iwnetBytes === undefined) {
    checks.push({ what: m.iwnet.file, ok: false, detail: "missing" });
    return checks;
  }
  const same = compareFile(m.iwnet.file, iwnetBytes, m.iwnet.bytes, { sha256: m.iwnet.sha256 });
  checks.push(same);
  if (same.ok) checks.push(await decodeCheck(m.iwnet.file, iwnet, iwnetBytes, expected));
  return checks;
}

/** Decodes an IWNET file and checks its tensors against `expected`. */
export async function decodeCheck(
  what: string,
  file: string,
  bytes: Uint8Array,
  expected: readonly ExpectedTensor[],
): Promise<Check> {
  try {
    const tensors = await decodeWeightFile(bytes, file);
    checkTensors(tensors, expected, file);
    return { what, ok: true, detail: `decodes: ${tensors.size} tensors, the network's shapes` };
  } catch (error) {
    if (!(error instanceof WeightsError)) throw error;
    return { what, ok: false, detail: error.message };
  }
}

/** Compares a file's size and digests with recorded ones. */
function compareFile(
  what: string,
  bytes: Uint8Array,
  size: number,
  digests: { sha1?: string; sha256?: string },
): Check {
  if (bytes.length !== size) return { what, ok: false, detail: `size: expected ${size} bytes, found ${bytes.length}` };
  for (const [algorithm, expected] of Object.entries(digests)) {
    const found = createHash(algorithm).update(bytes).digest("hex");
    if (found !== expected) {
      const name = algorithm === "sha1" ? "SHA-1" : "SHA-256";
      return { what, ok: false, detail: `${name} mismatch: expected ${expected}, found ${found}` };
    }
  }
  const names = Object.keys(digests).map((a) => (a === "sha1" ? "SHA-1" : "SHA-256"));
  return { what, ok: true, detail: `${size} bytes, ${names.join(" and ")} ${names.length > 1 ? "match" : "matches"}` };
}

/** Parses and validates manifest.json; throws WeightsError naming the file and the bad field. */
export function parseManifest(text: string, file: string): WeightsManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new WeightsError(file, undefined, `damaged manifest: not JSON (${(cause as Error).message})`, { cause });
  }
  const m = value as WeightsManifest;
  const bad = (field: string, expected: string): never => {
    throw new WeightsError(file, undefined, `damaged manifest: expected ${field} to be ${expected}`);
  };
  const hexOf = (n: number) => new RegExp(`^[0-9a-f]{${n}}$`);
  if (typeof m !== "object" || m === null || m.manifest !== 1) bad("manifest", "1");
  for (const field of ["name", "source", "url", "fetched"] as const) {
    if (typeof m[field] !== "string") bad(field, "a string");
  }
  if (Number.isNaN(Date.parse(m.fetched))) bad("fetched", "an ISO 8601 date");
  const o = m.original,
    w = m.iwnet;
  if (typeof o !== "object" || o === null || typeof w !== "object" || w === null) bad("original and iwnet", "objects");
  if (!isRelativeFile(o.file) || !isRelativeFile(w.file)) bad("original.file and iwnet.file", "paths inside the entry");
  if (!Number.isSafeInteger(o.bytes) || !Number.isSafeInteger(w.bytes) || !Number.isSafeInteger(w.tensors)) {
    bad("original.bytes, iwnet.bytes and iwnet.tensors", "integers");
  }
  if (!hexOf(40).test(o.sha1)) bad("original.sha1", "40 hex digits");
  if (!hexOf(64).test(o.sha256) || !hexOf(64).test(w.sha256)) bad("original.sha256 and iwnet.sha256", "64 hex digits");
  if (!Array.isArray(o.verified) || o.verified.some((v) => v !== "sha1" && v !== "sha256")) {
    bad("original.verified", `a list of "sha1" / "sha256"`);
  }
  return m;
}

/** A relative path that stays inside its folder (no "..", not absolute). */
function isRelativeFile(p: unknown): p is string {
  return (
    typeof p === "string" &&
    p.length > 0 &&
    !posix.isAbsolute(p) &&
    !win32.isAbsolute(p) &&
    !p.split(/[\\/]/).includes("..")
  );
}
