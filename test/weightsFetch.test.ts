// `weights fetch` against a local HTTP server (127.0.0.1, ephemeral port, closed at the end):
// normal, slow, truncated, corrupt, 404, redirect, redirect loop, stalled, oversized and
// unreachable downloads; the user cache folder; the weight lookup order and its "nothing found"
// message; a cache that cannot be written; and the command line as a child process.
// Every cache is a temporary folder ($INCEPTION_WASM_CACHE too): nothing touches the home folder.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { downloadProgress } from "../src/cli/progress.js";
import { ArgumentError, WeightsError } from "../src/host/errors.js";
import { expectedWeights, type TensorMap } from "../src/host/ir/tensors.js";
import { decodeWeightFile, encodeWeightFile } from "../src/model/formats/iwnet.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { download } from "../src/node/download.js";
import { fetchWeights, type FetchOptions } from "../src/node/fetchWeights.js";
import { FETCH_COMMAND, locateWeights } from "../src/node/lookup.js";
import { parseManifest, userCacheDir } from "../src/node/userCache.js";
import { loadWeights, readMatWeights } from "../src/node/weights.js";
import { DATA_DIR, photoCases } from "./support/data.js";

const tmp = mkdtempSync(join(tmpdir(), "weights-fetch-test-"));
// Loads in this process must not see the developer's settings or touch the home folder.
delete process.env["INCEPTION_WASM_WEIGHTS"];
delete process.env["INCEPTION_WASM_DATA"];
process.env["INCEPTION_WASM_CACHE"] = join(tmp, "default-cache");

const cli = join(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "cli", "main.js");
const run = promisify(execFile);
const convert: FetchOptions["convert"] = (bytes, file) => decodeWeightFile(bytes, file);
const GOOGLENET = expectedWeights(googlenetGraph(), 224, 224);
const hexSha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const hexSha1 = (b: Uint8Array): string => createHash("sha1").update(b).digest("hex");
let dirs = 0;
const freshDir = (name: string): string => join(tmp, `${name}-${++dirs}`);

/** Every file under `dir` (relative paths), or [] when it does not exist. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

// Weight files the server offers: the real BVLC weights as IWNET, and small synthetic ones.
const real = await encodeWeightFile(await readMatWeights(DATA_DIR));
const smallTensors: TensorMap = new Map([
  ["a.weight", { shape: [4, 4], data: Float32Array.from({ length: 16 }, (_, i) => i / 16) }],
  ["a.bias", { shape: [4], data: Float32Array.of(1, 2, 3, 4) }],
]);
const SMALL = [
  { name: "a.weight", shape: [4, 4] },
  { name: "a.bias", shape: [4] },
];
const small = await encodeWeightFile(smallTensors);
const corrupt = small.slice();
corrupt[40] ^= 0xff;
const slowTensors: TensorMap = new Map([["b.weight", { shape: [128, 128], data: new Float32Array(128 * 128) }]]);
const slow = await encodeWeightFile(slowTensors);
const garbage = new TextEncoder().encode("<!DOCTYPE html><html><body>a login page, not weights</body></html>");

const hits = new Map<string, number>();
const SLOW_CHUNKS = 8;
const SLOW_CHUNK_MS = 150;

function send(res: ServerResponse, bytes: Uint8Array): void {
  res.writeHead(200, { "content-length": bytes.length, "content-type": "application/octet-stream" });
  res.end(bytes);
}

const server = createServer((req, res) => {
  const path = req.url ?? "/";
  hits.set(path, (hits.get(path) ?? 0) + 1);
  const redirect = (to: string): void => {
    res.writeHead(302, { location: to });
    res.end();
  };
  switch (path) {
    case "/real.iwnet":
      return send(res, real);
    case "/small.iwnet":
      return send(res, small);
    case "/corrupt.iwnet":
      return send(res, corrupt);
    case "/garbage.bin":
      return send(res, garbage);
    case "/slow.iwnet": {
      res.writeHead(200, { "content-length": slow.length });
      const size = Math.ceil(slow.length / SLOW_CHUNKS);
      let at = 0;
      const next = (): void => {
        if (res.destroyed) return;
        res.write(slow.subarray(at, at + size));
        at += size;
        if (at >= slow.length) res.end();
        else setTimeout(next, SLOW_CHUNK_MS);
      };
      return next();
    }
    case "/truncated.iwnet":
      res.writeHead(200, { "content-length": small.length });
      res.write(small.subarray(0, small.length >> 1));
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    case "/stalled.iwnet":
      res.writeHead(200, { "content-length": small.length });
      res.write(small.subarray(0, 10)); // and nothing more: the client must give up
      return;
    case "/chunked-large.iwnet": // no Content-Length: the size is only known while reading
      res.writeHead(200);
      for (let i = 0; i < 4; i++) res.write(small);
      return void res.end();
    case "/redirect":
      return redirect("/small.iwnet");
    case "/loop-a":
      return redirect("/loop-b");
    case "/loop-b":
      return redirect("/loop-a");
    default:
      res.writeHead(404, "Not Found");
      return void res.end("not found");
  }
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** fetchWeights() of a path of the test server, with the test converter and the small file's tensors by default. */
const fetchFrom = (path: string, options: Partial<FetchOptions> & { cacheDir: string }) =>
  fetchWeights({ source: `${base}${path}`, convert, expected: SMALL, ...options });

/** Asserts `promise` rejects with a WeightsError whose message matches every pattern; returns it. */
async function rejects(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<WeightsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(error, WeightsError, `expected a WeightsError, found ${String(error)}`);
  for (const p of patterns) assert.match((error as Error).message, p);
  return error as WeightsError;
}

test("normal download: verified, cached with a manifest, converted once, and loaded by default", async () => {
  const cacheDir = freshDir("cache");
  const before = Date.now();
  const r = await fetchFrom("/real.iwnet", { sha256: hexSha256(real), expected: GOOGLENET, cacheDir });
  assert.is(r.downloaded, true);
  assert.is(r.converted, true);
  const dir = join(cacheDir, "fetched", r.entry.name);
  assert.match(r.entry.name, /^real-[0-9a-f]{8}$/);
  assert.equal(filesUnder(dir), ["manifest.json", "original/real.iwnet", "weights.iwnet"]);
  const m = parseManifest(readFileSync(join(dir, "manifest.json"), "utf8"), "manifest.json");
  assert.equal(m, r.entry.manifest);
  assert.is(m.source, `${base}/real.iwnet`);
  assert.is(m.url, `${base}/real.iwnet`);
  assert.equal(m.original, {
    file: "original/real.iwnet",
    bytes: real.length,
    sha1: hexSha1(real),
    sha256: hexSha256(real),
    verified: ["sha256"],
  });
  const iwnet = readFileSync(join(dir, "weights.iwnet"));
  assert.equal(m.iwnet, { file: "weights.iwnet", bytes: iwnet.length, sha256: hexSha256(iwnet), tensors: 116 });
  assert.ok(Date.parse(m.fetched) >= before - 1000 && Date.parse(m.fetched) <= Date.now(), m.fetched);

  const loaded = await loadWeights({ cacheDir, expected: GOOGLENET });
  assert.is(loaded.from, join(dir, "weights.iwnet"));
  assert.is(loaded.tensors.size, 116);

  const hitsBefore = hits.get("/real.iwnet");
  const again = await fetchFrom("/real.iwnet", { sha256: hexSha256(real), expected: GOOGLENET, cacheDir });
  assert.equal([again.downloaded, again.converted], [false, false]);
  assert.is(hits.get("/real.iwnet"), hitsBefore, "a complete verified entry is not downloaded again");
});

test("a verified download without its conversion is converted, not downloaded again; --force downloads", async () => {
  const cacheDir = freshDir("cache");
  const first = await fetchFrom("/small.iwnet", { sha256: hexSha256(small), cacheDir });
  rmSync(join(first.entry.dir, "manifest.json"));
  rmSync(join(first.entry.dir, "weights.iwnet"));
  const hitsBefore = hits.get("/small.iwnet");
  const again = await fetchFrom("/small.iwnet", { sha256: hexSha256(small), cacheDir });
  assert.equal([again.downloaded, again.converted], [false, true]);
  assert.is(hits.get("/small.iwnet"), hitsBefore);
  assert.equal({ ...again.entry.manifest, fetched: "" }, { ...first.entry.manifest, fetched: "" });
  const dates = [again, first].map((r) => Date.parse(r.entry.manifest.fetched));
  assert.ok(dates[0] <= dates[1], "the date of the download, not of the conversion");
  const forced = await fetchFrom("/small.iwnet", { sha256: hexSha256(small), cacheDir, force: true });
  assert.equal([forced.downloaded, forced.converted], [true, true]);
  assert.is(hits.get("/small.iwnet"), hitsBefore! + 1);
});

test("slow download: progress lines (bytes, rate, ETA) off a terminal, then the whole file", async () => {
  let out = "";
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const progress = downloadProgress("slow.iwnet", { stream, intervalMs: 100 });
  const updates: number[] = [];
  const cacheDir = freshDir("cache");
  const started = Date.now();
  try {
    await fetchWeights({
      source: `${base}/slow.iwnet`,
      sha256: hexSha256(slow),
      convert,
      cacheDir,
      expected: [{ name: "b.weight", shape: [128, 128] }],
      onProgress: (received, total) => {
        updates.push(received);
        progress.update(received, total);
      },
    });
  } finally {
    progress.stop();
  }
  assert.ok(Date.now() - started >= (SLOW_CHUNKS - 1) * SLOW_CHUNK_MS, "the server really was slow");
  assert.ok(updates.length >= SLOW_CHUNKS, `one update per chunk at least, found ${updates.length}`);
  assert.is(updates[updates.length - 1], slow.length);
  const lines = out.split("\n").filter(Boolean);
  assert.ok(lines.length >= 5, `several progress lines, found ${lines.length}:\n${out}`);
  assert.not.match(out, /\x1b/, "no terminal escapes off a terminal");
  for (const line of lines) {
    assert.match(line, /^slow\.iwnet: +\d+% [\d.]+ MB of 0\.1 MB, ([\d.]+|--) MB\/s, ETA (\d+ s|--)$/);
  }
  assert.match(lines[lines.length - 1], /100% 0\.1 MB of 0\.1 MB/);
  assert.ok(
    lines.some((l) => /ETA \d+ s/.test(l) && !l.includes("100%")),
    "an ETA while running",
  );
});

test("truncated download: an error naming expected and received bytes, and no file left", async () => {
  const cacheDir = freshDir("cache");
  await rejects(
    fetchFrom("/truncated.iwnet", { cacheDir }),
    /truncated\.iwnet: truncated: /,
    new RegExp(`of ${small.length.toLocaleString("en-US")} bytes`),
    /by hand/,
  );
  assert.equal(filesUnder(cacheDir), [], "no partial file, no manifest");
});

test("corrupt download: checksum mismatch names expected and found; nothing is cached", async () => {
  const cacheDir = freshDir("cache");
  await rejects(
    fetchFrom("/corrupt.iwnet", { sha256: hexSha256(small), cacheDir }),
    new RegExp(`SHA-256 mismatch: expected ${hexSha256(small)}, found ${hexSha256(corrupt)}`),
    /nothing was kept/,
  );
  await rejects(
    fetchFrom("/small.iwnet", { sha1: "0".repeat(40), cacheDir }),
    new RegExp(`SHA-1 mismatch: expected 0{40}, found ${hexSha1(small)}`),
  );
  assert.equal(filesUnder(cacheDir), []);
});

test("bytes that do not convert: the converter's error, and an unverified download is not kept", async () => {
  const cacheDir = freshDir("cache");
  await rejects(fetchFrom("/garbage.bin", { cacheDir }), /garbage\.bin: not an inception-wasm weight file/);
  assert.equal(filesUnder(cacheDir), []);
});

test("404: the status, and what to do instead (download by hand, --weights FILE)", async () => {
  const cacheDir = freshDir("cache");
  await rejects(
    fetchFrom("/missing.iwnet", { cacheDir }),
    /missing\.iwnet: HTTP 404 Not Found: expected 200 OK\./,
    new RegExp(`download ${base}/missing\\.iwnet by hand`),
    /--weights FILE/,
  );
  assert.equal(filesUnder(cacheDir), []);
});

test("redirect: followed, and the manifest records both URLs", async () => {
  const cacheDir = freshDir("cache");
  const r = await fetchFrom("/redirect", { sha256: hexSha256(small), cacheDir });
  assert.is(r.entry.manifest.source, `${base}/redirect`);
  assert.is(r.entry.manifest.url, `${base}/small.iwnet`);
  assert.is(r.entry.manifest.iwnet.tensors, 2);
});

test("redirect loop: bounded, an error listing the chain", async () => {
  const cacheDir = freshDir("cache");
  hits.delete("/loop-a");
  hits.delete("/loop-b");
  await rejects(
    fetchFrom("/loop-a", { cacheDir, maxRedirects: 5 }),
    /too many redirects: expected at most 5, found more/,
    /loop-a -> .*loop-b -> .*loop-a/,
  );
  assert.is((hits.get("/loop-a") ?? 0) + (hits.get("/loop-b") ?? 0), 6, "the first request and 5 redirects");
  assert.equal(filesUnder(cacheDir), []);
});

test("stalled connection: aborted after the idle timeout, nothing left", async () => {
  const cacheDir = freshDir("cache");
  const started = Date.now();
  await rejects(
    fetchFrom("/stalled.iwnet", { cacheDir, idleTimeoutMs: 300 }),
    /stalled: no data for 0\.3 s after 10 bytes of /,
  );
  assert.ok(Date.now() - started < 5000);
  assert.equal(filesUnder(cacheDir), []);
});

test("size bounds: a Content-Length other than the published size, and more bytes than allowed", async () => {
  const dir = freshDir("dl");
  mkdirSync(dir);
  const file = join(dir, "w.iwnet");
  await rejects(
    download({ url: `${base}/small.iwnet`, file, expectedBytes: small.length + 1 }),
    new RegExp(`wrong size: expected ${(small.length + 1).toLocaleString("en-US")} bytes, the server announces`),
  );
  await rejects(
    download({ url: `${base}/chunked-large.iwnet`, file, maxBytes: 2 * small.length }),
    /too large: expected .* received more; stopped/,
  );
  assert.equal(filesUnder(dir), []);
  const ok = await download({ url: `${base}/chunked-large.iwnet`, file, maxBytes: 4 * small.length });
  assert.is(ok.bytes, 4 * small.length);
  assert.is(readFileSync(file).length, 4 * small.length);
});

test("unreachable host/port: an error with the manual-download hint", async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const cacheDir = freshDir("cache");
  await rejects(
    fetchWeights({ source: `http://127.0.0.1:${port}/w.iwnet`, convert, expected: SMALL, cacheDir }),
    /cannot connect: .*ECONNREFUSED/,
    new RegExp(`download http://127\\.0\\.0\\.1:${port}/w\\.iwnet by hand`),
    /--weights FILE/,
  );
  assert.equal(filesUnder(cacheDir), []);
});

test("known sources: published digests must agree; bad sources and digests are argument errors", async () => {
  const fetching = (o: Partial<FetchOptions>) =>
    fetchWeights({ convert, expected: SMALL, cacheDir: freshDir("cache"), ...o });
  for (const [o, pattern] of [
    [{ source: "caffe", sha1: "1".repeat(40) }, /--sha1' expected the published SHA-1 of caffe, 405fc5ac/],
    [{ source: "onnx", sha256: "z" }, /--sha256' expected 64 hex digits, found z/],
    [{ source: "ftp://example.invalid/w" }, /'source' expected caffe, onnx or an http\(s\) URL/],
  ] as const) {
    const error = await fetching(o).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.instance(error, ArgumentError);
    assert.match((error as Error).message, pattern);
  }
});

test("user cache folder: $INCEPTION_WASM_CACHE, XDG, home, Windows", () => {
  assert.is(userCacheDir({ INCEPTION_WASM_CACHE: "/c", XDG_CACHE_HOME: "/x" }, "linux", "/h"), "/c");
  assert.is(userCacheDir({ XDG_CACHE_HOME: "/x" }, "linux", "/h"), "/x/inception-wasm");
  assert.is(userCacheDir({ XDG_CACHE_HOME: "relative" }, "linux", "/h"), "/h/.cache/inception-wasm");
  assert.is(userCacheDir({}, "darwin", "/Users/u"), "/Users/u/.cache/inception-wasm");
  assert.is(
    userCacheDir({ LOCALAPPDATA: "C:\\Users\\u\\AppData\\Local" }, "win32", "C:\\Users\\u"),
    "C:\\Users\\u\\AppData\\Local\\inception-wasm",
  );
  assert.is(userCacheDir({}, "win32", "C:\\Users\\u"), "C:\\Users\\u\\AppData\\Local\\inception-wasm");
});

// A fake package root for the lookup: <lookup>/pkg (with .git when a checkout) and the data
// folder <lookup>/shared/googlenet beside it.
const lookupDir = freshDir("lookup");
const checkoutRoot = join(lookupDir, "pkg");
const installedRoot = join(lookupDir, "installed", "node_modules", "inception-wasm");
const checkoutData = join(lookupDir, "shared", "googlenet");
mkdirSync(join(checkoutRoot, ".git"), { recursive: true });
mkdirSync(installedRoot, { recursive: true });
mkdirSync(join(checkoutData, "bvlc-params"), { recursive: true });
writeFileSync(join(checkoutData, "bvlc-params", "conv1_7x7_s2_w.mat"), "");
const envFile = join(lookupDir, "env.iwnet");
writeFileSync(envFile, small);
const lookupCache = join(lookupDir, "cache");
const emptyCache = join(lookupDir, "empty-cache");

test("lookup order: option > $INCEPTION_WASM_WEIGHTS (> $INCEPTION_WASM_DATA) > user cache > checkout", async () => {
  const r = await fetchFrom("/small.iwnet", { sha256: hexSha256(small), cacheDir: lookupCache });
  const cached = join(r.entry.dir, "weights.iwnet");
  const env = { INCEPTION_WASM_WEIGHTS: envFile, INCEPTION_WASM_DATA: checkoutData };
  const at = (o: Partial<Parameters<typeof locateWeights>[0]>) =>
    locateWeights({ env: {}, cacheDir: lookupCache, root: checkoutRoot, ...o });
  assert.equal(await at({ option: "given.iwnet", env }), { path: join(process.cwd(), "given.iwnet"), place: "option" });
  assert.equal(await at({ env }), { path: envFile, place: "INCEPTION_WASM_WEIGHTS" });
  assert.equal(await at({ env: { INCEPTION_WASM_DATA: envFile } }), { path: envFile, place: "INCEPTION_WASM_DATA" });
  assert.equal(await at({}), { path: cached, place: "cache" });
  assert.equal(await at({ cacheDir: emptyCache }), { path: checkoutData, place: "checkout" });
  // The cache folder defaults to $INCEPTION_WASM_CACHE of the given environment.
  assert.equal(await locateWeights({ env: { INCEPTION_WASM_CACHE: lookupCache }, root: installedRoot }), {
    path: cached,
    place: "cache",
  });
  // An environment variable naming nothing is an error, not a silent fallback.
  await rejects(
    at({ env: { INCEPTION_WASM_WEIGHTS: join(lookupDir, "nope.iwnet") } }),
    /nope\.iwnet: \$INCEPTION_WASM_WEIGHTS names this path, which does not exist/,
  );
});

test("lookup: the newest complete cache entry wins; incomplete or damaged ones are skipped", async () => {
  const cacheDir = freshDir("cache");
  const older = await fetchFrom("/small.iwnet", { sha256: hexSha256(small), cacheDir });
  const newer = await fetchFrom("/redirect", { sha256: hexSha256(small), cacheDir });
  const manifestOf = (e: typeof older) => join(e.entry.dir, "manifest.json");
  const setFetched = (e: typeof older, date: string): void => {
    writeFileSync(manifestOf(e), JSON.stringify({ ...e.entry.manifest, fetched: date }));
  };
  setFetched(older, "2020-01-01T00:00:00.000Z");
  setFetched(newer, "2021-01-01T00:00:00.000Z");
  const at = () => locateWeights({ env: {}, cacheDir, root: installedRoot });
  assert.is((await at()).path, join(newer.entry.dir, "weights.iwnet"));
  setFetched(older, "2022-01-01T00:00:00.000Z");
  assert.is((await at()).path, join(older.entry.dir, "weights.iwnet"));
  writeFileSync(join(older.entry.dir, "weights.iwnet"), small.subarray(0, 100)); // size no longer as recorded
  assert.is((await at()).path, join(newer.entry.dir, "weights.iwnet"));
  writeFileSync(manifestOf(newer), "{ not json");
  await rejects(at(), /weights\.iwnet has 100 bytes, expected/, /damaged manifest: not JSON/);
});

test("nothing found: every place with why it did not qualify, and the command that fixes it", async () => {
  const error = await rejects(locateWeights({ env: {}, cacheDir: emptyCache, root: installedRoot }));
  const lines = error.message.split("\n");
  assert.equal(lines, [
    "GoogLeNet weights: none found. Looked in, in order:",
    "  1. the weights option / --weights: not given",
    "  2. $INCEPTION_WASM_WEIGHTS (or its older name $INCEPTION_WASM_DATA): not set",
    `  3. the user cache ${emptyCache}: no fetched weights (no entry in ${join(emptyCache, "fetched")})`,
    `  4. a repository checkout's ../shared/googlenet (${join(installedRoot, "..", "shared", "googlenet")}): ` +
      `not used: the package root ${installedRoot} is not a git checkout (no .git)`,
    `Fix: run \`${FETCH_COMMAND}\` (downloads the BVLC weights once into the user cache).`,
  ]);
  const bareRoot = join(lookupDir, "elsewhere", "bare"); // a checkout without ../shared/googlenet
  mkdirSync(join(bareRoot, ".git"), { recursive: true });
  const bare = await rejects(locateWeights({ env: {}, cacheDir: emptyCache, root: bareRoot }));
  assert.match(bare.message, /4\. a repository checkout's \.\.\/shared\/googlenet \(.*\): no such folder/);
});

test("a cache folder that cannot be created: the load goes on, with one warning", async () => {
  const matDir = freshDir("mats");
  mkdirSync(matDir);
  for (const f of ["conv1_7x7_s2_w.mat", "conv1_7x7_s2_b.mat"]) {
    copyFileSync(join(DATA_DIR, "bvlc-params", f), join(matDir, f));
  }
  const expected = [
    { name: "conv1_7x7_s2.weight", shape: [64, 3, 7, 7] },
    { name: "conv1_7x7_s2.bias", shape: [64] },
  ];
  const aFile = join(tmp, "a-file");
  writeFileSync(aFile, "");
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.join(" "));
  };
  try {
    for (const cacheDir of ["/proc/inception-wasm-test/cache", join(aFile, "cache")]) {
      const r = await loadWeights({ source: matDir, cacheDir, expected });
      assert.is(r.cached, false);
      assert.is(r.tensors.size, 2);
    }
  } finally {
    console.warn = warn;
  }
  assert.is(warnings.length, 1, warnings.join("\n"));
  const warning = "not caching the converted weights: cannot write /proc/inception-wasm-test/cache/mat/";
  assert.ok(warnings[0].includes(warning), warnings[0]);
  await rejects(
    fetchFrom("/small.iwnet", { cacheDir: join(aFile, "cache") }),
    /cannot create the cache folder: ENOTDIR/,
    /INCEPTION_WASM_CACHE/,
  );
});

test("CLI: weights fetch, list, verify, then classify with the cached weights", async () => {
  const cacheDir = freshDir("cli-cache");
  const env = { ...process.env, INCEPTION_WASM_CACHE: cacheDir };
  const options = { env, timeout: 120_000 };
  const cliRun = (...args: string[]) => run(process.execPath, [cli, ...args], options);
  const fetched = await cliRun("weights", "fetch", `${base}/real.iwnet`, "--sha256", hexSha256(real));
  assert.match(fetched.stdout, new RegExp(`real-[0-9a-f]{8}: downloaded 27,\\d{3},\\d{3} bytes from ${base}/real`));
  assert.match(fetched.stdout, new RegExp(`SHA-256 ${hexSha256(real)}: matches`));
  assert.match(fetched.stdout, /converted to .*weights\.iwnet \(116 tensors/);
  assert.match(fetched.stderr, /^real\.iwnet: 100% 28\.0 MB of 28\.0 MB, [\d.]+ MB\/s, ETA 0 s$/m);

  const list = await cliRun("weights", "list");
  assert.match(list.stdout, new RegExp(`^user cache: ${cacheDir}$`, "m"));
  assert.match(list.stdout, /^fetched\/real-[0-9a-f]{8} {2}\(loads by default\)$/m);
  assert.match(
    list.stdout,
    new RegExp(`original/real\\.iwnet  27,\\d{3},\\d{3} bytes  SHA-256 ${hexSha256(real)} \\(published, verified\\)`),
  );

  const verified = await cliRun("weights", "verify");
  assert.match(verified.stdout, /^fetched\/real-[0-9a-f]{8}: ok$/m);
  assert.match(verified.stdout, /^1 checked, 0 failed$/m);

  const photo = photoCases()[0];
  const classified = await cliRun("classify", "--json", "--threads", "1", "--top", "1", photo.file);
  const top = (JSON.parse(classified.stdout) as { images: { top: { index: number }[] }[] }).images[0].top;
  assert.is(top[0].index, photo.top1);

  const entry = readdirSync(join(cacheDir, "fetched"))[0];
  const iwnet = join(cacheDir, "fetched", entry, "weights.iwnet");
  const bytes = readFileSync(iwnet);
  bytes[1000] ^= 1;
  writeFileSync(iwnet, bytes);
  const failed = await cliRun("weights", "verify").then(
    () => undefined,
    (e: unknown) => e as { code: number; stdout: string },
  );
  assert.is(failed?.code, 1);
  assert.match(failed?.stdout ?? "", /FAILED weights\.iwnet: SHA-256 mismatch: expected [0-9a-f]{64}, found/);
});

test("CLI: a failing fetch exits 1 with a one-line error and no stack trace", async () => {
  const cacheDir = freshDir("cli-cache");
  const options = { env: { ...process.env, INCEPTION_WASM_CACHE: cacheDir }, timeout: 60_000 };
  const failed = await run(process.execPath, [cli, "weights", "fetch", `${base}/missing.iwnet`], options).then(
    () => undefined,
    (e: unknown) => e as { code: number; stdout: string; stderr: string },
  );
  assert.ok(failed, "the command failed");
  assert.is(failed!.code, 1);
  assert.is(failed!.stdout, "");
  const lines = failed!.stderr.split("\n").filter(Boolean);
  assert.is(lines.length, 1, failed!.stderr);
  const start = `inception-wasm: ${base}/missing.iwnet: HTTP 404 Not Found: expected 200 OK.`;
  assert.ok(lines[0].startsWith(start), lines[0]);
  assert.match(lines[0], /by hand and use it with --weights FILE/);
  assert.equal(filesUnder(cacheDir), []);
});

test.after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
