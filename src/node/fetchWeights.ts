// `inception-wasm weights fetch`: download published GoogLeNet weights once into the user cache,
// verify them, convert them once to IWNET and record a manifest (layout in userCache.ts).

import { createHash } from "node:crypto";
import { readFile, rm, rmdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ArgumentError, WeightsError } from "../host/errors.js";
import { checkTensors, type ExpectedTensor, type TensorMap } from "../host/ir/tensors.js";
import { encodeWeightFile } from "../model/formats/iwnet.js";
import { bytesText, DEFAULT_IDLE_TIMEOUT_MS, download } from "./download.js";
import { makeDirectories, removeStalePartials, writeFileAtomic } from "./files.js";
import {
  fetchedDir,
  IWNET_FILE,
  MANIFEST_FILE,
  ORIGINAL_DIR,
  readEntries,
  userCacheDir,
  type CacheEntry,
  type WeightsManifest,
} from "./userCache.js";

/** A published GoogLeNet weight file with its exact size and published digest. */
export interface KnownSource {
  name: "caffe" | "onnx";
  url: string;
  bytes: number;
  sha1?: string;
  sha256?: string;
}

/** The sources `weights fetch` knows by name; "caffe" (the BVLC original) is the default. */
export const KNOWN_SOURCES: readonly KnownSource[] = [
  {
    name: "caffe",
    url: "http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel",
    bytes: 53_533_754,
    sha1: "405fc5acd08a3bb12de8ee5e23a96bec22f08204",
  },
  {
    name: "onnx",
    url:
      "https://github.com/onnx/models/raw/main/validated/vision/classification/inception_and_googlenet/" +
      "googlenet/model/googlenet-7.onnx",
    bytes: 28_020_232,
    sha256: "5725ccfd90845735ce5897faf7843c3f9b13acda3c4f3bff82cb21c9337c9de8",
  },
];

/** Turns downloaded bytes (`file` names them in errors) into weight tensors; throws WeightsError when it cannot. */
export type WeightsConverter = (bytes: Uint8Array, file: string) => Promise<TensorMap>;

export interface FetchOptions {
  /** "caffe" (default), "onnx", or an http(s) URL. */
  source?: string;
  /** Digests (hex) the download must match: a URL's published ones; for a known source they must agree with it. */
  sha1?: string;
  sha256?: string;
  /** Converts the downloaded bytes to tensors (caffemodel, ONNX or IWNET, as the converter supports). */
  convert: WeightsConverter;
  /** The tensors the network needs; the conversion must provide them with these shapes. */
  expected: readonly ExpectedTensor[];
  /** Default userCacheDir(). */
  cacheDir?: string;
  /** Download and convert again even when a verified entry is cached. */
  force?: boolean;
  onProgress?: (received: number, total: number | undefined) => void;
  signal?: AbortSignal;
  idleTimeoutMs?: number;
  maxRedirects?: number;
}

export interface FetchResult {
  entry: CacheEntry & { manifest: WeightsManifest };
  /** False when a verified download was already cached. */
  downloaded: boolean;
  /** False when the entry was complete already (nothing was done). */
  converted: boolean;
}

/** Where a fetch goes: the entry name, URL, file name and what the bytes must match. */
interface Target {
  name: string;
  url: string;
  fileName: string;
  bytes?: number;
  sha1?: string;
  sha256?: string;
}

/**
 * Fetches weights into `<cacheDir>/fetched/<name>/`: downloads the source (see download()),
 * converts it with `options.convert`, checks the tensors against `options.expected`, writes
 * weights.iwnet and, last, manifest.json (each atomically). When the entry is already complete
 * and its recorded digests equal the published ones, does nothing; when only its verified
 * download is there, converts without downloading. A download is kept only once it matched a
 * published digest or converted; on any failure no manifest is written, so loads never pick it.
 * Throws ArgumentError for a bad source or digest, WeightsError (naming the folder, URL or file)
 * when the cache folder cannot be created, the download fails or the bytes do not convert.
 */
export async function fetchWeights(options: FetchOptions): Promise<FetchResult> {
  const target = resolveTarget(options.source ?? "caffe", options.sha1, options.sha256);
  const cacheDir = options.cacheDir ?? userCacheDir();
  const dir = join(fetchedDir(cacheDir), target.name);
  try {
    await makeDirectories(join(dir, ORIGINAL_DIR));
  } catch (cause) {
    throw new WeightsError(
      dir,
      undefined,
      `cannot create the cache folder: ${(cause as Error).message}. ` +
        "Set INCEPTION_WASM_CACHE to a writable folder.",
      { cause },
    );
  }
  try {
    return await fetchInto(cacheDir, dir, target, options);
  } finally {
    // A failed first fetch leaves no empty entry behind (rmdir fails harmlessly on a folder in use).
    await rmdir(join(dir, ORIGINAL_DIR))
      .then(() => rmdir(dir))
      .catch(() => undefined);
  }
}

/** fetchWeights() once the entry folder `dir` (under `cacheDir`) exists. */
async function fetchInto(cacheDir: string, dir: string, target: Target, options: FetchOptions): Promise<FetchResult> {
  const originalFile = join(dir, ORIGINAL_DIR, target.fileName);
  const published = (["sha1", "sha256"] as const).filter((a) => target[a] !== undefined);
  const staleMs = 2 * (options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  await removeStalePartials(dir, staleMs);
  await removeStalePartials(join(dir, ORIGINAL_DIR), staleMs);

  const existing = (await readEntries(cacheDir)).find((e) => e.name === target.name);
  if (
    !options.force &&
    published.length > 0 &&
    existing?.manifest &&
    published.every((a) => existing.manifest!.original[a] === target[a])
  ) {
    const iwnetBytes = await readFile(join(dir, existing.manifest.iwnet.file)).catch(() => undefined);
    if (iwnetBytes !== undefined && sha256Hex(iwnetBytes) === existing.manifest.iwnet.sha256) {
      return { entry: { ...existing, manifest: existing.manifest }, downloaded: false, converted: false };
    }
  }

  let original: { url: string; bytes: Uint8Array; sha1: string; sha256: string; fetched: string } | undefined;
  const reusable = !options.force && published.length > 0;
  const cached = reusable ? await readFile(originalFile).catch(() => undefined) : undefined;
  if (cached !== undefined) {
    const digests = { sha1: sha1Hex(cached), sha256: sha256Hex(cached) };
    if (cached.length === (target.bytes ?? cached.length) && published.every((a) => digests[a] === target[a])) {
      const fetched = existing?.manifest?.fetched ?? (await stat(originalFile)).mtime.toISOString();
      original = { url: existing?.manifest?.url ?? target.url, bytes: cached, ...digests, fetched };
    }
  }
  const downloaded = original === undefined;
  if (original === undefined) {
    const d = await download({
      url: target.url,
      file: originalFile,
      expectedBytes: target.bytes,
      sha1: target.sha1,
      sha256: target.sha256,
      onProgress: options.onProgress,
      signal: options.signal,
      idleTimeoutMs: options.idleTimeoutMs,
      maxRedirects: options.maxRedirects,
      hint: manualDownloadHint(target),
    });
    const bytes = await readFile(originalFile);
    original = { url: d.url, bytes, sha1: d.sha1, sha256: d.sha256, fetched: new Date().toISOString() };
  }

  let tensors: TensorMap;
  try {
    tensors = await options.convert(original.bytes, originalFile);
    checkTensors(tensors, options.expected, originalFile);
  } catch (error) {
    if (published.length === 0) await rm(originalFile, { force: true });
    throw error;
  }
  const iwnet = await encodeWeightFile(tensors);
  await save(join(dir, IWNET_FILE), iwnet);
  const manifest: WeightsManifest = {
    manifest: 1,
    name: target.name,
    source: target.url,
    url: original.url,
    fetched: original.fetched,
    original: {
      file: `${ORIGINAL_DIR}/${target.fileName}`,
      bytes: original.bytes.length,
      sha1: original.sha1,
      sha256: original.sha256,
      verified: published,
    },
    iwnet: { file: IWNET_FILE, bytes: iwnet.length, sha256: sha256Hex(iwnet), tensors: tensors.size },
  };
  await save(join(dir, MANIFEST_FILE), new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return { entry: { name: target.name, dir, manifest, problem: undefined }, downloaded, converted: true };
}

/**
 * What to do when the download cannot happen here: the URL to fetch by hand (with the size and
 * digest to check), how to use the file, and for a known source the other known host.
 */
function manualDownloadHint(target: Target): string {
  const facts = [
    target.bytes === undefined ? undefined : bytesText(target.bytes),
    target.sha1 && `SHA-1 ${target.sha1}`,
    target.sha256 && `SHA-256 ${target.sha256}`,
  ].filter(Boolean);
  const other = SOURCES.has(target.name) ? KNOWN_SOURCES.find((k) => k.name !== target.name) : undefined;
  return (
    `To get it another way, download ${target.url} by hand${facts.length ? ` (${facts.join(", ")})` : ""} ` +
    "and use it with --weights FILE (API: GoogLeNet.load({ weights: FILE }))" +
    `${other ? `, or try \`inception-wasm weights fetch ${other.name}\` (another host)` : ""}.`
  );
}

const SOURCES = new Map(KNOWN_SOURCES.map((k) => [k.name as string, k]));

/** The fetch target of a source name or URL, with the digests to check. */
function resolveTarget(source: string, sha1: string | undefined, sha256: string | undefined): Target {
  const given = { sha1: digestOption("--sha1", sha1, 40), sha256: digestOption("--sha256", sha256, 64) };
  const known = SOURCES.get(source);
  if (known) {
    for (const a of ["sha1", "sha256"] as const) {
      if (given[a] !== undefined && known[a] !== undefined && given[a] !== known[a]) {
        const published = `the published ${a === "sha1" ? "SHA-1" : "SHA-256"} of ${known.name}, ${known[a]}`;
        throw new ArgumentError("weights fetch", `--${a}`, published, given[a]);
      }
    }
    const fileName = new URL(known.url).pathname.split("/").pop()!;
    return { ...known, sha1: known.sha1 ?? given.sha1, sha256: known.sha256 ?? given.sha256, fileName };
  }
  const url = URL.canParse(source) ? new URL(source) : undefined;
  if (url?.protocol !== "http:" && url?.protocol !== "https:") {
    const names = KNOWN_SOURCES.map((k) => k.name).join(", ");
    throw new ArgumentError("weights fetch", "source", `${names} or an http(s) URL`, source);
  }
  const fileName = safeName(decodeURIComponent(url.pathname.split("/").pop() ?? "")) || "download";
  const stem = fileName.replace(/\.[^.]*$/, "").slice(0, 40) || "download";
  const name = `${stem}-${sha256Hex(new TextEncoder().encode(url.href)).slice(0, 8)}`;
  return { name, url: url.href, fileName, ...given };
}

/** A --sha1/--sha256 value as lower-case hex of `length` digits (undefined when not given). */
function digestOption(option: string, value: string | undefined, length: number): string | undefined {
  if (value === undefined) return undefined;
  if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(value)) {
    throw new ArgumentError("weights fetch", option, `${length} hex digits`, value);
  }
  return value.toLowerCase();
}

/** A file name with only portable characters (others become "_"), no leading dots. */
function safeName(name: string): string {
  return name
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .replace(/^\.+/, "")
    .slice(0, 100);
}

/** writeFileAtomic, its failures (disk full, no permission) as WeightsError naming the file. */
async function save(file: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(file, bytes);
  } catch (cause) {
    throw new WeightsError(file, undefined, `cannot write the cache: ${(cause as Error).message}`, { cause });
  }
}

const sha1Hex = (bytes: Uint8Array): string => createHash("sha1").update(bytes).digest("hex");
const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
