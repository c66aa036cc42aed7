// One test per finding of issue 11 (hardening), by name: limits decided before any work,
// complete weight-file validation, images validated like libpng/libjpeg, typed errors at the API
// boundary, workers that never inherit breaking Node options, the pool's fallback, the cache under
// /proc, and the command line's errors and exit codes.

import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { zlibSync } from "fflate";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ArgumentError, DisposedError, ImageError, WeightsError } from "../src/host/errors.js";
import { decodeWeightFile, encodeWeightFile } from "../src/model/formats/iwnet.js";
import { readMat } from "../src/model/formats/mat.js";
import { crc32, decodeImage } from "../src/model/image/decode.js";
import { GoogLeNet, readLabelsFile } from "../src/node/index.js";
import { nodeRuntime } from "../src/node/runtime.js";
import { readMatWeights } from "../src/node/weights.js";
import { DATA_DIR, PHOTOS_DIR } from "./support/data.js";

const weights = await readMatWeights(DATA_DIR);
const tmp = mkdtempSync(join(tmpdir(), "harden-"));
const cli = join(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "cli", "main.js");
const run = promisify(execFile);
const photo = (name: string): Uint8Array => new Uint8Array(readFileSync(join(PHOTOS_DIR, name)));

async function rejects<T extends Error>(
  promise: Promise<unknown>,
  type: new (...a: never[]) => T,
  ...patterns: RegExp[]
) {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, type, `${(error as Error)?.name}: ${(error as Error)?.message}`);
    for (const p of patterns) assert.match((error as Error).message, p);
    return error as T;
  }
  assert.unreachable(`expected a ${type.name}`);
}
const throws = <T extends Error>(fn: () => unknown, type: new (...a: never[]) => T, ...patterns: RegExp[]) =>
  rejects(Promise.resolve().then(fn), type, ...patterns);

let net: GoogLeNet | undefined;
const network = async (): Promise<GoogLeNet> => (net ??= await GoogLeNet.load({ weights, threads: 1, warmUp: false }));

// ---- limits before any work ----

test("threads: 1000, 2**31, 100000, 1.5 and '2' are ArgumentErrors before any worker or memory", async () => {
  for (const threads of [1000, 2 ** 31, 100000, 1.5, 0, "2" as unknown as number]) {
    const t0 = performance.now();
    await rejects(GoogLeNet.load({ weights, threads }), ArgumentError, /'threads' expected an integer in 1\.\.\d+/);
    assert.ok(performance.now() - t0 < 200, `rejected at once (${threads})`);
  }
});

test("every load option is checked before a file is read: a bad maxBatch or worker with missing weights is the ArgumentError", async () => {
  const missing = join(tmpdir(), "inception-wasm-no-such-weights.iwnet");
  await rejects(
    GoogLeNet.load({ weights: missing, maxBatch: 0 }),
    ArgumentError,
    /'maxBatch' expected an integer in 1\.\.64/,
  );
  await rejects(
    GoogLeNet.loadEnsemble([missing, missing], { maxBatch: 65 }),
    ArgumentError,
    /GoogLeNet\.load: argument 'maxBatch'/,
  );
  const worker = 5 as unknown as () => Worker;
  await rejects(GoogLeNet.load({ weights: missing, worker }), ArgumentError, /'worker' expected a function/);
});

test("inputSize: 100000 names inputSize and the sizes the weights fit, not a weight shape", async () => {
  await rejects(GoogLeNet.load({ weights, inputSize: 100000 }), ArgumentError, /'inputSize'.*found number 100000/);
  await rejects(GoogLeNet.load({ weights, inputSize: 300 }), ArgumentError, /a size in 223\.\.254/);
});

test("image pixel limit: a JPEG whose header says 8000x6250 is rejected from its header in milliseconds", async () => {
  const jpeg = photo("eagle.jpg").slice();
  let sof = 2;
  while (!(jpeg[sof + 1] === 0xc0 || jpeg[sof + 1] === 0xc2)) sof += 2 + ((jpeg[sof + 2] << 8) | jpeg[sof + 3]);
  new DataView(jpeg.buffer).setUint16(sof + 5, 6250);
  new DataView(jpeg.buffer).setUint16(sof + 7, 8000);
  const t0 = performance.now();
  await throws(() => decodeImage(jpeg, "big.jpg"), ImageError, /image too large/, /8000x6250/);
  assert.ok(performance.now() - t0 < 100);
  // configurable: a lower limit applies to a normal photo
  await throws(() => decodeImage(photo("eagle.jpg"), "eagle.jpg", { maxPixels: 1000 }), ImageError, /at most 1000/);
});

// ---- weight files ----

test("IWNET in a Node Buffer at an odd byteOffset (and an ArrayBuffer, a DataView) loads", async () => {
  const bytes = await encodeWeightFile(new Map([["a.bias", { shape: [3], data: Float32Array.of(1, 2, 3) }]]));
  const pool = Buffer.alloc(bytes.length + 3);
  pool.set(bytes, 3);
  const view = Buffer.from(pool.buffer, pool.byteOffset + 3, bytes.length);
  assert.equal([...(await decodeWeightFile(view, "odd.iwnet")).get("a.bias")!.data], [1, 2, 3]);
  const iwnet = await encodeWeightFile(weights);
  const odd = Buffer.alloc(iwnet.length + 1);
  odd.set(iwnet, 1);
  const n = await GoogLeNet.load({ weights: odd.subarray(1), threads: 1, warmUp: false });
  await n.dispose();
  const ab = iwnet.buffer.slice(iwnet.byteOffset, iwnet.byteOffset + iwnet.length);
  await (await GoogLeNet.load({ weights: new DataView(ab), threads: 1, warmUp: false })).dispose();
});

test("IWNET: a tensor pointed at another's data, overlapping or misaligned, is rejected even with the SHA-256 recomputed", async () => {
  const small = new Map([
    ["a.weight", { shape: [16], data: new Float32Array(16).fill(1) }],
    ["a.bias", { shape: [16], data: new Float32Array(16).fill(2) }],
  ]);
  const bytes = await encodeWeightFile(small);
  const view = new DataView(bytes.buffer);
  const entry1 = 20 + (2 + 8 + 1 + 4 + 8) + (2 + 6 + 1 + 4); // a.bias offset field
  const reseal = async (b: Uint8Array) => {
    const { sha256 } = await import("../src/host/digest.js");
    b.set(await sha256(b.subarray(0, b.length - 32)), b.length - 32);
    return b;
  };
  for (const offset of [view.getUint32(entry1 - 13 - 8 + 4, true), view.getUint32(entry1, true) + 4]) {
    const b = bytes.slice();
    new DataView(b.buffer).setUint32(entry1, offset, true);
    await rejects(decodeWeightFile(await reseal(b), "x.iwnet"), WeightsError, /a\.bias/, /data offset: expected \d+/);
  }
});

test("NaN and Infinity weights are rejected naming the tensor and the first bad index (IWNET, tensors, MAT)", async () => {
  const bad = new Map(weights);
  const data = weights.get("inception_4a_1x1.bias")!.data.slice();
  data[7] = Number.NaN;
  bad.set("inception_4a_1x1.bias", { shape: [data.length], data });
  await rejects(GoogLeNet.load({ weights: bad }), WeightsError, /inception_4a_1x1\.bias/, /NaN at index 7/);
  const file = await encodeWeightFile(new Map([["t", { shape: [3], data: Float32Array.of(0, 1, Infinity) }]]));
  await rejects(decodeWeightFile(file, "inf.iwnet"), WeightsError, /\[tensor t\].*Infinity at index 2/);
});

/** A MAT file with one compressed element whose inner tag declares `declared` bytes; inflates `actual` bytes. */
function matBomb(declared: number, actual: number): Uint8Array {
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode("MATLAB 5.0 MAT-file"));
  header.set([0x00, 0x01, 0x49, 0x4d], 124);
  const inner = new Uint8Array(actual);
  new DataView(inner.buffer).setUint32(0, 14, true);
  new DataView(inner.buffer).setUint32(4, declared, true);
  const stream = zlibSync(inner, { level: 9 });
  const out = new Uint8Array(136 + stream.length);
  out.set(header);
  new DataView(out.buffer).setUint32(128, 15, true);
  new DataView(out.buffer).setUint32(132, stream.length, true);
  out.set(stream, 136);
  return out;
}

test("decompression bomb: a MAT element stops at its declared size; a declared 3.5 GB is refused before inflating", async () => {
  const bomb = matBomb(1000, 32 * 2 ** 20);
  await throws(() => readMat(bomb, "bomb.mat"), WeightsError, /inflates past the declared 1008 bytes/);
  await throws(
    () => readMat(matBomb(3.5e9, 4096), "big.mat"),
    WeightsError,
    /declared size 3500000008 bytes: expected 8\.\.268435456/,
  );
  // The messages show that inflation stopped at the declared size (1008 of 32 MiB) or never began.
});

// ---- images ----

/** PNG chunk with its CRC. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const c = new Uint8Array(12 + data.length);
  new DataView(c.buffer).setUint32(0, data.length);
  c.set(
    [...type].map((ch) => ch.charCodeAt(0)),
    4,
  );
  c.set(data, 8);
  new DataView(c.buffer).setUint32(8 + data.length, crc32(c.subarray(4, 8 + data.length)));
  return c;
}
function png(width: number, height: number, scanlines: Uint8Array, fixStream?: (s: Uint8Array) => void): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const stream = zlibSync(scanlines);
  fixStream?.(stream);
  const parts = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk("IHDR", ihdr),
    chunk("IDAT", stream),
    chunk("IEND", new Uint8Array(0)),
  ];
  return Buffer.concat(parts);
}

test("PNG: an Adler-32 mismatch (CRCs recomputed) and an IHDR size that does not match the data are rejected", async () => {
  const lines = new Uint8Array(4 * (1 + 4 * 3)).fill(7);
  for (let y = 0; y < 4; y++) lines[y * 13] = 0;
  assert.is(decodeImage(png(4, 4, lines), "ok.png").width, 4);
  await throws(
    () =>
      decodeImage(
        png(4, 4, lines, (s) => (s[s.length - 1] ^= 1)),
        "adler.png",
      ),
    ImageError,
    /Adler-32/,
  );
  await throws(() => decodeImage(png(50000000, 1, lines), "relabelled.png"), ImageError, /image too large/);
  await throws(() => decodeImage(png(1000000, 1, lines), "relabelled.png"), ImageError, /IHDR says 1000000x1/);
  await throws(() => decodeImage(png(4, 3, lines), "short.png"), ImageError, /IHDR says 4x3/);
});

test("JPEG: no scan data, arithmetic coding and 12-bit samples are named as such", async () => {
  const jpeg = photo("eagle.jpg");
  let at = 2;
  let sof = 0;
  while (jpeg[at + 1] !== 0xda) {
    if (jpeg[at + 1] === 0xc0 || jpeg[at + 1] === 0xc2) sof = at;
    at += 2 + ((jpeg[at + 2] << 8) | jpeg[at + 3]);
  }
  const envelope = Buffer.concat([jpeg.subarray(0, at), Uint8Array.of(0xff, 0xd9)]);
  await throws(() => decodeImage(envelope, "envelope.jpg"), ImageError, /no image data|no scan data/);
  const arithmetic = jpeg.slice();
  arithmetic[sof + 1] = 0xc9;
  await throws(() => decodeImage(arithmetic, "arith.jpg"), ImageError, /unsupported JPEG kind/, /arithmetic-coded/);
  const twelve = jpeg.slice();
  twelve[sof + 4] = 12;
  await throws(() => decodeImage(twelve, "12bit.jpg"), ImageError, /12-bit JPEG/);
});

test("JPEG: a scan header shifted into the scan data (bytes deleted across it) is rejected, not decoded from garbage", async () => {
  // Found by the 10,000-case fuzz run (rocket.jpg) and a suite share (fruits.jpg): jpeg-js decoded both.
  const cut = (jpeg: Uint8Array, n: number, at: number): Uint8Array =>
    Uint8Array.from([...jpeg.subarray(0, at), ...jpeg.subarray(at + n)]);
  await throws(
    () => decodeImage(cut(photo("fruits.jpg"), 12, 652), "fruits-cut.jpg"),
    ImageError,
    /scan header: Ss 0, Se \d+, Ah \d+, Al \d+ is not a valid sequential scan/,
  );
  await throws(
    () => decodeImage(cut(photo("rocket.jpg"), 35, 1031), "rocket-cut.jpg"),
    ImageError,
    /scan header: expected 1-3 components in 6 \+ 2 x components bytes, found 0 in 12/,
  );
});

test("JPEG: a table the first scan uses but no segment defines is named (as libjpeg), not a decoder TypeError", async () => {
  // Found by a 10,000-case fuzz run (seed 696858189): rocket.jpg's third component pointed at
  // quantization table 3 reached jpeg-js, which failed with "Cannot read properties of undefined".
  // rocket.jpg: SOF0 at 766 (the third component's Tq at 784), SOS at 1027 (Td/Ta at 1033).
  const rocket = photo("rocket.jpg");
  assert.equal([rocket[766], rocket[767], rocket[1027], rocket[1028]], [0xff, 0xc0, 0xff, 0xda]);
  const edit = (at: number, value: number): Uint8Array => {
    const b = rocket.slice();
    b[at] = value;
    return b;
  };
  await throws(
    () => decodeImage(edit(784, 3), "rocket-tq.jpg"),
    ImageError,
    /component 3: expected quantization table 3 defined before the first scan, found none/,
  );
  await throws(
    () => decodeImage(edit(1033, 0x21), "rocket-td.jpg"),
    ImageError,
    /component 1: expected DC Huffman table 2 defined before the first scan, found none/,
  );
  await throws(
    () => decodeImage(edit(1033, 0x03), "rocket-ta.jpg"),
    ImageError,
    /component 1: expected AC Huffman table 3 defined before the first scan, found none/,
  );
  // A DQT segment whose tables overrun its length (8-bit table claimed 16-bit).
  await throws(() => decodeImage(edit(632, 0x10), "rocket-dqt.jpg"), ImageError, /quantization \(DQT\) segment/);
});

test("JPEG: entropy-coded data that does not fit the headers (a sampling factor changed, bytes inserted) is rejected before jpeg-js", async () => {
  // Found by a 10,000-case fuzz run (seed 697603272, case 7244): fruits.jpg (sampling 2x1, 1x1, 1x1)
  // with its Cb factors flipped to 1x3 decoded through jpeg-js to a different image without an error.
  // fruits.jpg: SOF0 at 201, the second component's sampling byte at 215; SOS data from 654.
  const fruits = photo("fruits.jpg");
  assert.equal([fruits[201], fruits[202], fruits[215]], [0xff, 0xc0, 0x11]);
  for (const factors of [0x13, 0x31, 0x22, 0x12]) {
    const b = fruits.slice();
    b[215] = factors;
    await throws(() => decodeImage(b, "fruits-sampling.jpg"), ImageError, /corrupt JPEG/);
  }
  const bad = fruits.slice();
  bad[215] = 0x15;
  await throws(
    () => decodeImage(bad, "fruits-5.jpg"),
    ImageError,
    /expected sampling factors 1-4 and a table id 0-3, found component 2: 1x5, table 01/,
  );
  // 40 bytes of the scan repeated at its end: the data goes on after the last MCU.
  const end = fruits.length - 2;
  const longer = Uint8Array.from([...fruits.subarray(0, end), ...fruits.subarray(end - 40, end), 0xff, 0xd9]);
  await throws(() => decodeImage(longer, "fruits-long.jpg"), ImageError, /to end with MCU \d+, found 4\d more bytes/);
  // The same check sits in the scaled decoder (the one-crop path).
  await throws(() => decodeImage(longer, "fruits-long.jpg", { minShortSide: 224 }), ImageError, /more bytes/);
});

// ---- the API boundary ----

test("classify(null | undefined | 5 | {} | Float64Array | wrong-length tensor) is an ArgumentError naming image/input", async () => {
  const n = await network();
  for (const bad of [null, undefined, 5, {}, new Float64Array(3 * 224 * 224), "x.jpg"]) {
    await rejects(n.classify(bad as never), ArgumentError, /'image' expected JPEG\/PNG bytes/);
  }
  await rejects(
    n.classify(new Float32Array(10)),
    ArgumentError,
    /'input' expected a Float32Array of 3x224x224/,
    /found 10 values/,
  );
});

test("all-NaN, all-Infinity and all-1e30 tensors are ArgumentErrors, not 'velvet 0.143'", async () => {
  const n = await network();
  for (const v of [Number.NaN, Number.POSITIVE_INFINITY, 1e30]) {
    await rejects(
      n.classify(new Float32Array(3 * 224 * 224).fill(v)),
      ArgumentError,
      /within \+-1000000/,
      /at index 0/,
    );
  }
});

test("weights as a number or {} and a missing labels file are typed errors", async () => {
  await rejects(GoogLeNet.load({ weights: 5 as never }), ArgumentError, /'weights' expected a path/, /number 5/);
  await rejects(GoogLeNet.load({ weights: {} as never }), ArgumentError, /'weights'/, /found Object/);
  await rejects(readLabelsFile(join(tmp, "labels.txt")), ArgumentError, /labels\.txt \(ENOENT\)/);
});

test("labels must be 1000 non-empty strings; build 'foo' is an ArgumentError, not a WasmLoadError", async () => {
  const numeric = Array.from({ length: 1000 }, (_, i) => i) as unknown as string[];
  await rejects(
    GoogLeNet.load({ weights, labels: numeric }),
    ArgumentError,
    /'labels\[0\]' expected a non-empty string/,
  );
  await rejects(GoogLeNet.load({ weights, labels: ["a"] }), ArgumentError, /1000 class names, found 1 entries/);
  await rejects(GoogLeNet.load({ weights, build: "foo" as never }), ArgumentError, /'build'.*found "foo"/);
});

test("classify and run after dispose throw DisposedError naming the call; the memory is released", async () => {
  const n = await GoogLeNet.load({ weights, threads: 1, warmUp: false });
  assert.ok(n.memoryBytes > 28e6, `memoryBytes ${n.memoryBytes} holds the weights`);
  await n.dispose();
  assert.is(n.memoryBytes, 0, "a disposed network keeps no wasm memory while the caller holds it");
  await rejects(n.classify(photo("eagle.jpg")), DisposedError, /GoogLeNet\.classify: the network was disposed/);
  await rejects(n.run(new Float32Array(3 * 224 * 224)), DisposedError, /GoogLeNet\.run/);
});

// ---- threads ----

test("workers do not inherit Node options: node --expose-gc --max-old-space-size=512 --stack-size=2000 --title=x loads 2 threads", () => {
  const script = `import { GoogLeNet } from ${JSON.stringify(new URL("../src/node/index.js", import.meta.url).href)};
const net = await GoogLeNet.load({ weights: ${JSON.stringify(DATA_DIR)}, threads: 2, cacheDir: ${JSON.stringify(join(tmp, "cache"))} });
console.log(net.threads); await net.dispose();`;
  const flags = ["--expose-gc", "--max-old-space-size=512", "--stack-size=2000", "--title=x"];
  const relaxed = Number(process.versions.node.split(".")[0]) <= 20 ? ["--experimental-wasm-relaxed-simd"] : [];
  const r = spawnSync(process.execPath, [...relaxed, ...flags, "--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.is(r.stdout.trim().split("\n").pop(), "2", r.stderr);
});

test("a pool that cannot start falls back to 1 thread with the reason, not a failed load; other runtimes are untouched", async () => {
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (m: string) => warnings.push(m);
  /** The Node runtime but for workers, which it refuses to start. */
  class RefusingWorkers extends GoogLeNet {
    protected static override readonly runtime = {
      ...nodeRuntime,
      spawnWorker: () => {
        throw new Error("workers refused here");
      },
    };
  }
  try {
    const n = await RefusingWorkers.load({ weights, threads: 2, warmUp: false });
    assert.is(n.threads, 1);
    assert.match(
      n.capabilities.reason,
      /2 threads requested, but the worker pool could not start.*workers refused here/,
    );
    assert.is((await n.classify(photo("eagle.jpg")))[0].index, 22);
    await n.dispose();
    // The runtime is the subclass's own: the entry's GoogLeNet, loaded in the same process, still starts workers.
    const other = await GoogLeNet.load({ weights, threads: 2, warmUp: false });
    assert.is(other.threads, 2, other.capabilities.reason);
    await other.dispose();
  } finally {
    console.warn = warn;
  }
  assert.ok(warnings.some((w) => /running on 1 thread/.test(w)));
});

test("a cache folder under /proc does not hang load(): it warns and loads", async () => {
  const t0 = performance.now();
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    const n = await GoogLeNet.load({
      weights: DATA_DIR,
      cacheDir: "/proc/self/inception-cache",
      threads: 1,
      warmUp: false,
    });
    await n.dispose();
  } finally {
    console.warn = warn;
  }
  assert.ok(performance.now() - t0 < 30_000);
});

// ---- the command line ----

type Exec = { code: number; stdout: string; stderr: string };
const cliRun = (...args: string[]): Promise<Exec> =>
  run(process.execPath, [cli, ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: Exec) => e,
  );

test("CLI usage mistakes are one line with the usage hint and exit 2: unknown option, --top without a value, --threads 1e3, a folder as output", async () => {
  for (const args of [
    ["classify", "--frob", "a.jpg"],
    ["classify", "a.jpg", "--top"],
    ["classify", "--threads", "1e3", "a.jpg"],
    ["convert", DATA_DIR, tmp],
    ["export-onnx", tmp],
  ]) {
    const r = await cliRun(...args);
    assert.is(r.code, 2, args.join(" "));
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /--help for usage/);
  }
});

test("CLI classify: a missing file and a folder are reported in place (error entries with --json), the good image still classified, exit 1", async () => {
  const good = join(PHOTOS_DIR, "eagle.jpg");
  const r = await cliRun("classify", "--json", "--threads", "1", "--top", "1", "/nonexistent.jpg", tmp, good);
  assert.is(r.code, 1);
  const images = JSON.parse(r.stdout).images as { file: string; error?: string; top?: { index: number }[] }[];
  assert.match(images[0].error!, /ENOENT/);
  assert.match(images[1].error!, /EISDIR/);
  assert.is(images[2].top![0].index, 22);
  const text = await cliRun("classify", "--threads", "1", "/nonexistent.jpg", good);
  assert.is(text.code, 1);
  assert.not.match(text.stderr, /\n\s+at /); // no stack trace
});

test("CLI classify --photos with an .iwnet weight file reads the default photos folder", async () => {
  const file = join(tmp, "w.iwnet");
  writeFileSync(file, await encodeWeightFile(weights));
  const r = await cliRun("classify", "--photos", "--json", "--threads", "1", "--top", "1", "--weights", file);
  assert.is(r.code, 0, r.stderr);
  assert.ok((JSON.parse(r.stdout).images as unknown[]).length >= 3);
});

test.after(async () => {
  await net?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});
test.run();
