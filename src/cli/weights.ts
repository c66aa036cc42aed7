// `inception-wasm weights fetch|list|verify`: the user cache of downloaded, converted weights.

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { InceptionError } from "../host/errors.js";
import { expectedWeights, type ExpectedTensor } from "../host/ir/tensors.js";
import { decodeWeights } from "../model/formats/detect.js";
import { DEFAULT_INPUT_SIZE, googlenetGraph } from "../model/network/googlenet.js";
import { bytesText } from "../node/download.js";
import { fetchWeights, type WeightsConverter } from "../node/fetchWeights.js";
import {
  decodeCheck,
  matCacheDir,
  newestUsableEntry,
  readEntries,
  userCacheDir,
  verifyEntry,
  type Check,
} from "../node/userCache.js";
import { downloadProgress } from "./progress.js";

/** Reads a downloaded file in any format the library knows (caffemodel, ONNX, IWNET) by matching GoogLeNet. */
const convert: WeightsConverter = (bytes, file) => decodeWeights(bytes, file, googlenetGraph());

const DIGEST_NAMES = { sha1: "SHA-1", sha256: "SHA-256" } as const;

export const WEIGHTS_USAGE = `  weights fetch [caffe|onnx|URL] [--sha256 HEX] [--sha1 HEX] [--force]
      downloads GoogLeNet weights once into the user cache, checks the published checksum
      and converts them; later loads use them by default. caffe (default): the BVLC original
      (54 MB); onnx: the ONNX model zoo's googlenet-7 (28 MB); a URL: give its checksum
  weights list [--json]
      what the user cache holds: files, sources, checksums, sizes
  weights verify
      re-checks every cached file (checksums, and that the weights decode); exit 1 on a failure`;

/** Options of the weights subcommands (from the command line). */
export interface WeightsFlags {
  sha1?: string;
  sha256?: string;
  force: boolean;
  json: boolean;
}

/** Runs `weights <subcommand> [args]`; throws InceptionError (E_USAGE) for a bad subcommand. */
export async function weightsCommand(args: string[], flags: WeightsFlags): Promise<void> {
  const [sub, ...rest] = args;
  const expected = expectedWeights(googlenetGraph(), DEFAULT_INPUT_SIZE, DEFAULT_INPUT_SIZE);
  if (sub === "fetch" && rest.length <= 1) return fetchCommand(rest[0] ?? "caffe", flags, expected);
  if (sub === "list" && rest.length === 0) return listCommand(flags.json);
  if (sub === "verify" && rest.length === 0) return verifyCommand(expected);
  throw new InceptionError(
    "E_USAGE",
    `weights: expected fetch [SOURCE], list or verify, found "${args.join(" ")}"\n\n${WEIGHTS_USAGE}`,
  );
}

async function fetchCommand(source: string, flags: WeightsFlags, expected: ExpectedTensor[]): Promise<void> {
  const abort = new AbortController();
  const interrupt = (): void => abort.abort();
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  const label = URL.canParse(source) ? new URL(source).pathname.split("/").pop() || source : source;
  const progress = downloadProgress(label);
  let result;
  try {
    result = await fetchWeights({
      source,
      sha1: flags.sha1,
      sha256: flags.sha256,
      force: flags.force,
      convert,
      expected,
      onProgress: (received, total) => progress.update(received, total),
      signal: abort.signal,
    });
  } finally {
    progress.stop();
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
  }
  const { entry, downloaded, converted } = result;
  const m = entry.manifest;
  const iwnet = join(entry.dir, m.iwnet.file);
  if (!converted) {
    console.log(`${entry.name}: already in the cache (${iwnet}, fetched ${m.fetched}); --force fetches it again`);
    return;
  }
  console.log(
    `${entry.name}: ${
      downloaded
        ? `downloaded ${bytesText(m.original.bytes)} from ${m.url}`
        : `reused the verified download ${join(entry.dir, m.original.file)}`
    }`,
  );
  if (m.original.verified.length > 0) {
    console.log(`  ${m.original.verified.map((a) => `${DIGEST_NAMES[a]} ${m.original[a]}`).join(", ")}: matches`);
  } else {
    console.log(`  not verified: no published checksum given (--sha256 HEX); its SHA-256 is ${m.original.sha256}`);
  }
  console.log(`  converted to ${iwnet} (${m.iwnet.tensors} tensors, ${bytesText(m.iwnet.bytes)})`);
  console.log("  loads without --weights or $INCEPTION_WASM_WEIGHTS now use it");
}

async function listCommand(json: boolean): Promise<void> {
  const cacheDir = userCacheDir();
  const entries = await readEntries(cacheDir);
  const mats = await matFiles(cacheDir);
  const usable = await newestUsableEntry(cacheDir);
  const defaultName = "entry" in usable ? usable.entry.name : undefined;
  if (json) {
    console.log(JSON.stringify({ cacheDir, default: defaultName, fetched: entries, mat: mats }, null, 2));
    return;
  }
  console.log(`user cache: ${cacheDir}`);
  if (entries.length === 0 && mats.length === 0) console.log(`  empty; fill it with \`inception-wasm weights fetch\``);
  for (const e of entries) {
    const m = e.manifest;
    if (!m) {
      console.log(`fetched/${e.name}: ${e.problem}`);
      continue;
    }
    const digests =
      m.original.verified.length > 0
        ? `${m.original.verified.map((a) => `${DIGEST_NAMES[a]} ${m.original[a]}`).join(", ")} (published, verified)`
        : `SHA-256 ${m.original.sha256} (not verified: no published checksum)`;
    console.log(`fetched/${e.name}${e.name === defaultName ? "  (loads by default)" : ""}`);
    console.log(`  source   ${m.source}${m.url === m.source ? "" : ` (via ${m.url})`}, fetched ${m.fetched}`);
    console.log(`  original ${m.original.file}  ${bytesText(m.original.bytes)}  ${digests}`);
    console.log(
      `  weights  ${m.iwnet.file}  ${bytesText(m.iwnet.bytes)}  SHA-256 ${m.iwnet.sha256}  ` +
        `${m.iwnet.tensors} tensors`,
    );
  }
  for (const f of mats) console.log(`mat/${f.name}  ${bytesText(f.bytes)}  (a MAT folder converted by a load)`);
}

async function verifyCommand(expected: ExpectedTensor[]): Promise<void> {
  const cacheDir = userCacheDir();
  const results: { what: string; checks: Check[] }[] = [];
  for (const entry of await readEntries(cacheDir)) {
    results.push({ what: `fetched/${entry.name}`, checks: await verifyEntry(entry, expected) });
  }
  for (const f of await matFiles(cacheDir)) {
    const file = join(matCacheDir(cacheDir), f.name);
    const bytes = await readFile(file);
    results.push({ what: `mat/${f.name}`, checks: [await decodeCheck(f.name, file, bytes, expected)] });
  }
  console.log(`user cache: ${cacheDir}`);
  if (results.length === 0) console.log("  empty: nothing to verify");
  for (const r of results) {
    const ok = r.checks.every((c) => c.ok);
    console.log(`${r.what}: ${ok ? "ok" : "FAILED"}`);
    for (const c of r.checks) console.log(`  ${c.ok ? "ok    " : "FAILED"} ${c.what}: ${c.detail}`);
  }
  const failed = results.filter((r) => !r.checks.every((c) => c.ok)).length;
  console.log(`${results.length} checked, ${failed} failed`);
  if (failed > 0) process.exitCode = 1;
}

/** The IWNET files of the MAT cache, by name. */
async function matFiles(cacheDir: string): Promise<{ name: string; bytes: number }[]> {
  const dir = matCacheDir(cacheDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".iwnet")).sort();
  return Promise.all(names.map(async (name) => ({ name, bytes: (await stat(join(dir, name))).size })));
}
