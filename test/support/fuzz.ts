// Seeded fuzzing of every file format the library reads: IWNET, MAT, caffemodel, ONNX, PNG,
// JPEG and IWPACK (the packed weights cache). A subject is an original file (real BVLC weights, the data folder's photos) with the
// decoder the library uses and its result; a case mutates the file (bit flips, byte runs,
// truncation, spliced ranges, and format-aware edits with the checksums recomputed) and
// classifies what the decoder did:
//   typed      an InceptionError (the library's typed errors): the wanted outcome for corruption
//   identical  accepted, with exactly the original result (e.g. a flip in ignored metadata)
//   changed    accepted with a different result, and the mutation only changed content the format
//              cannot protect (float values of a format without a checksum, JPEG coefficients and
//              tables, PNG pixels with recomputed CRC and Adler-32): a valid, different file;
//              or, for ONNX, the mutant is a valid model of another meaning read as written
//              (onnxValidChange: onnx-proto, onnxruntime and a re-encoding agree)
//   untyped    any other exception (a bug)
//   wrong      accepted with a different result although the mutated bytes are covered by a
//              checksum or by a structural check (a "wrong success", a bug)
// crash and hang are decided by the runner (fuzzRunner.ts), which runs cases in a worker with a
// heap limit and a per-case timeout.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import { join } from "node:path";
import { unzlibSync, zlibSync } from "fflate";
import { sha256 } from "../../src/host/digest.js";
import { InceptionError } from "../../src/host/errors.js";
import { checkTensors, expectedWeights, type TensorMap } from "../../src/host/ir/tensors.js";
import { resolveNetwork } from "../../src/api/network.js";
import { decodeWeights } from "../../src/model/formats/detect.js";
import { encodeWeightFile } from "../../src/model/formats/iwnet.js";
import { checkPackedWeights, encodePackedWeights, PACKED_HEADER_BYTES } from "../../src/model/formats/iwpack.js";
import { nodeSha256 } from "../../src/node/sha256.js";
import { crc32, decodeImage, type RgbaImage } from "../../src/model/image/decode.js";
import { DEFAULT_INPUT_SIZE, googlenetGraph } from "../../src/model/network/googlenet.js";
import { matWeightTensor, readMatWeights } from "../../src/node/weights.js";
import { encodeCaffemodel } from "./caffemodel.js";
import { DATA_DIR, PHOTOS_DIR } from "./data.js";
import { encodeTorchvisionOnnx } from "./onnxGraphs.js";
import { encodeZooOnnx } from "./onnxZoo.js";
import { pick, randomInt, rngFor, type Rng } from "./rng.js";

export const FORMATS = ["iwnet", "mat", "caffemodel", "onnx", "png", "jpeg", "iwpack"] as const;
export type Format = (typeof FORMATS)[number];
export const OUTCOMES = ["typed", "identical", "changed", "crash", "hang", "untyped", "wrong"] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** Outcomes that fail the fuzz run. */
export const FAILURES: readonly Outcome[] = ["crash", "hang", "untyped", "wrong"];

/** A mutated file: its bytes, what was done, and whether only unprotectable content changed. */
export interface Mutant {
  bytes: Uint8Array;
  what: string;
  content: boolean;
  /**
   * For edits touching both kinds of bytes: the same edit with only the covered (structural)
   * bytes changed. When that decodes to the original result, the difference came from content.
   */
  structural?: Uint8Array;
}

/** An original file, how the library decodes it, and its mutators. */
export interface Subject {
  name: string;
  bytes: Uint8Array;
  /** Byte ranges [start, end) whose values no check of the format covers. */
  unprotected: [number, number][];
  /**
   * Unprotected ranges where bytes may also be inserted or deleted (no length field frames them:
   * JPEG scans), as long as the splice forms no marker (FF followed by a byte other than 00).
   */
  spliceable?: [number, number][];
  /** Decodes like the library; returns a key of the result (equal keys: identical results). */
  decode(bytes: Uint8Array, name: string): Promise<string>;
  reference: string;
  /**
   * For formats without a checksum whose every byte may carry meaning (ONNX: a flipped tag can
   * drop an attribute or an optional input and leave a valid model): whether `bytes`, which the
   * decoder accepted with result `key`, is a valid file that the decoder read as independent
   * implementations read it; an accepted different result is then "changed".
   */
  validChange?: (bytes: Uint8Array, key: string) => Promise<boolean>;
  /** Format-aware mutations (with checksums recomputed), besides the generic ones. */
  special: ((rng: Rng, bytes: Uint8Array) => Mutant)[];
}

/** Result of one case. */
export interface CaseResult {
  format: Format;
  index: number;
  outcome: Outcome;
  what: string;
  detail: string;
}

// ---- result keys ----

function hashBytes(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}
const tensorKey = (tensors: TensorMap, names: readonly string[]): string =>
  names
    .map((n) => {
      const t = tensors.get(n)!;
      return `${n}:${t.shape.join("x")}:${hashBytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))}`;
    })
    .join(";");
const imageKey = (image: RgbaImage): string =>
  `${image.width}x${image.height}:${hashBytes(new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length))}`;

// ---- generic mutations ----

const inRanges = (positions: number[], ranges: [number, number][]): boolean =>
  positions.every((p) => ranges.some(([a, b]) => p >= a && p < b));

/** A position: half the time in the first 4 KiB (headers, tables), else anywhere. */
const position = (rng: Rng, length: number): number =>
  rng() < 0.5 ? randomInt(rng, 0, Math.min(length, 4096) - 1) : randomInt(rng, 0, length - 1);

function genericMutation(rng: Rng, subject: Subject): Mutant {
  const src = subject.bytes;
  const kind = pick(rng, ["flip", "flip", "bytes", "truncate", "splice"] as const);
  if (kind === "flip") {
    const bytes = src.slice();
    const structural = src.slice();
    const positions = Array.from({ length: randomInt(rng, 1, 4) }, () => position(rng, src.length));
    for (const p of positions) {
      const bit = 1 << randomInt(rng, 0, 7);
      bytes[p] ^= bit;
      if (!inRanges([p], subject.unprotected)) structural[p] ^= bit;
    }
    return {
      bytes,
      what: `flip @${positions.join(",")}`,
      content: inRanges(positions, subject.unprotected),
      structural,
    };
  }
  if (kind === "bytes") {
    const bytes = src.slice();
    const structural = src.slice();
    const at = position(rng, src.length);
    const n = Math.min(randomInt(rng, 1, 16), src.length - at);
    const value = pick(rng, [0x00, 0xff, -1]);
    const positions: number[] = [];
    for (let i = at; i < at + n; i++) {
      bytes[i] = value < 0 ? randomInt(rng, 0, 255) : value;
      if (!inRanges([i], subject.unprotected)) structural[i] = bytes[i];
      positions.push(i);
    }
    return { bytes, what: `set ${n} @${at}`, content: inRanges(positions, subject.unprotected), structural };
  }
  if (kind === "truncate") {
    const keep = rng() < 0.5 ? randomInt(rng, 0, Math.min(src.length - 1, 8192)) : randomInt(rng, 0, src.length - 1);
    return { bytes: src.slice(0, keep), what: `truncate to ${keep}`, content: false };
  }
  const at = position(rng, src.length);
  const n = Math.min(randomInt(rng, 1, 64), src.length - at);
  if (rng() < 0.5) {
    const bytes = new Uint8Array(src.length - n);
    bytes.set(src.subarray(0, at));
    bytes.set(src.subarray(at + n), at);
    const content = spliceIsContent(subject.spliceable ?? [], bytes, at, at + n, 0);
    return { bytes, what: `delete ${n} @${at}`, content };
  }
  // The copy of [at, at + n) is inserted at at + n: the original bytes before it stay in place.
  const bytes = new Uint8Array(src.length + n);
  bytes.set(src.subarray(0, at + n));
  bytes.set(src.subarray(at), at + n);
  const content = spliceIsContent(subject.spliceable ?? [], bytes, at + n, at + n, n);
  return { bytes, what: `duplicate ${n} @${at}`, content };
}

/**
 * Whether a splice only changed content: `spliced` is the original with [from, to) removed and
 * `inserted` bytes put at `from`. The removed range and the insertion point must lie in one of the
 * `spliceable` ranges (JPEG scan data), and no marker may appear where bytes were joined or
 * inserted (FF then a byte other than 00, from the byte before `from` to the one after).
 */
export function spliceIsContent(
  spliceable: [number, number][],
  spliced: Uint8Array,
  from: number,
  to: number,
  inserted: number,
): boolean {
  if (!spliceable.some(([a, b]) => from >= a && to <= b && from < b)) return false;
  for (let i = Math.max(0, from - 1); i < Math.min(spliced.length - 1, from + inserted + 1); i++) {
    if (spliced[i] === 0xff && spliced[i + 1] !== 0x00) return false;
  }
  return true;
}

// ---- subjects ----

const graph = googlenetGraph();
const expected = expectedWeights(graph, DEFAULT_INPUT_SIZE, DEFAULT_INPUT_SIZE);
const names = expected.map((e) => e.name);
let weights: Promise<TensorMap> | undefined;
const bvlcWeights = (): Promise<TensorMap> => (weights ??= readMatWeights(DATA_DIR));

/** Where each tensor's float bytes lie in `bytes` (found in order; formats that store them raw). */
function tensorRanges(bytes: Uint8Array, tensors: TensorMap): [number, number][] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ranges: [number, number][] = [];
  for (const name of names) {
    const t = tensors.get(name)!;
    const raw = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const at = buffer.indexOf(raw.subarray(0, Math.min(raw.length, 64)));
    if (at < 0 || !buffer.subarray(at, at + raw.length).equals(raw)) throw new Error(`fuzz: ${name} not found raw`);
    ranges.push([at, at + raw.length]);
  }
  return ranges;
}

async function weightSubject(
  name: string,
  encoded: Uint8Array,
  unprotected: [number, number][],
  special: Subject["special"],
): Promise<Subject> {
  // A plain Uint8Array copy: the encoders may return a Node Buffer, whose slice() is a view.
  const bytes = new Uint8Array(encoded);
  const decode = async (b: Uint8Array, file: string): Promise<string> =>
    tensorKey(await decodeWeights(b, file, graph), names);
  return { name, bytes, unprotected, decode, reference: await decode(bytes, name), special };
}

/** IWNET: table edits with the SHA-256 trailer recomputed (the structure checks must catch them). */
async function iwnetSubjects(): Promise<Subject[]> {
  const bytes = await encodeWeightFile(await bvlcWeights());
  const tableEnd = 20 + new DataView(bytes.buffer).getUint32(16, true);
  const resealed = async (b: Uint8Array): Promise<Uint8Array> => {
    b.set(await sha256(b.subarray(0, b.length - 32)), b.length - 32);
    return b;
  };
  // Special mutations must be synchronous: reseal in decode instead (marked by the name).
  const subject = await weightSubject(
    "googlenet.iwnet",
    bytes,
    [],
    [
      (rng, src) => {
        const b = src.slice();
        const at = randomInt(rng, 8, tableEnd - 1);
        const kind = pick(rng, ["flip", "u32"] as const);
        if (kind === "flip") b[at] ^= 1 << randomInt(rng, 0, 7);
        else {
          const a4 = Math.min(at, tableEnd - 4);
          new DataView(b.buffer).setUint32(a4, pick(rng, [0, 1, 64, 0xffffffff, randomInt(rng, 0, 2 ** 32 - 1)]), true);
        }
        return { bytes: b, what: `table ${kind} @${at} +sha256`, content: false };
      },
    ],
  );
  const decode = subject.decode;
  subject.decode = async (b, file) => decode(file.includes("+sha256") ? await resealed(b) : b, file);
  return [subject];
}

/**
 * IWPACK: a packed weights cache entry whose payload is the first MiB of the BVLC weights' IWNET file (the
 * checks do not read the payload's meaning). Everything is covered (header fields by value, the payload by its
 * SHA-256), so every change must be rejected. Special mutations rewrite one header field, keeping the rest.
 */
async function iwpackSubjects(): Promise<Subject[]> {
  const region = (await encodeWeightFile(await bvlcWeights())).slice(0, 1 << 20);
  const key = await sha256(Uint8Array.of(1, 2, 3));
  const bytes = encodePackedWeights(key, region, nodeSha256());
  const decode = async (b: Uint8Array, name: string): Promise<string> => {
    const payload = await checkPackedWeights(b, name, key, region.length, nodeSha256());
    return `${payload.length}:${hashBytes(payload)}`;
  };
  const header = (rng: Rng, src: Uint8Array): Mutant => {
    const b = src.slice();
    const field = pick(rng, ["magic", "version", "length", "key", "sha256", "zeros"] as const);
    const at = { magic: 0, version: 8, length: 12, key: 16, sha256: 48, zeros: 80 }[field];
    const span = { magic: 8, version: 4, length: 4, key: 32, sha256: 32, zeros: PACKED_HEADER_BYTES - 80 }[field];
    b[at + randomInt(rng, 0, span - 1)] ^= 1 << randomInt(rng, 0, 7);
    return { bytes: b, what: `header ${field}`, content: false };
  };
  return [
    {
      name: "packed.iwpack",
      bytes,
      unprotected: [],
      decode,
      reference: await decode(bytes, "packed.iwpack"),
      special: [header],
    },
  ];
}

/** MAT: three BVLC files; inner edits recompressed (new Adler-32), float data edits count as content. */
async function matSubjects(): Promise<Subject[]> {
  const files = ["conv1_7x7_s2_w.mat", "inception_3a_1x1_b.mat", "inception_4e_5x5_reduce_w.mat"];
  const out: Subject[] = [];
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(join(DATA_DIR, "bvlc-params", file)));
    const decode = async (b: Uint8Array, name: string): Promise<string> => {
      const t = matWeightTensor(b, name.includes("/") ? name : file);
      const want = expected.find((e) => e.name === t.name)!;
      checkTensors(new Map([[t.name, t]]), [want], name);
      return `${t.name}:${t.shape.join("x")}:${hashBytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))}`;
    };
    const length = new DataView(bytes.buffer).getUint32(132, true);
    const inner = unzlibSync(bytes.subarray(136, 136 + length));
    // The real part's values: the last element of the miMATRIX payload (tag at its start).
    const realData = realPartRange(inner);
    const recompress = (rng: Rng): Mutant => {
      const edited = inner.slice();
      const inData = rng() < 0.5;
      const at = inData ? randomInt(rng, realData[0], realData[1] - 1) : randomInt(rng, 0, realData[0] - 1);
      edited[at] ^= 1 << randomInt(rng, 0, 7);
      const stream = zlibSync(edited);
      const b = new Uint8Array(136 + stream.length);
      b.set(bytes.subarray(0, 128));
      new DataView(b.buffer).setUint32(128, 15, true);
      new DataView(b.buffer).setUint32(132, stream.length, true);
      b.set(stream, 136);
      return { bytes: b, what: `inner flip @${at} +zlib`, content: inData };
    };
    out.push({
      name: file,
      bytes,
      unprotected: [[0, 116]], // the descriptive header text
      decode: (b) => decode(b, file),
      reference: await decode(bytes, file),
      special: [recompress],
    });
  }
  return out;
}

/** [start, end) of the real part's values inside an inflated miMATRIX element (the last sub-element). */
function realPartRange(element: Uint8Array): [number, number] {
  const view = new DataView(element.buffer, element.byteOffset, element.byteLength);
  let at = 8;
  let last: [number, number] = [0, 0];
  while (at < element.length) {
    const first = view.getUint32(at, true);
    if (first >>> 16 !== 0) {
      last = [at + 4, at + 4 + (first >>> 16)];
      at += 8;
    } else {
      const n = view.getUint32(at + 4, true);
      last = [at + 8, at + 8 + n];
      at += 8 + Math.ceil(n / 8) * 8;
    }
  }
  return last;
}

async function caffeSubjects(seed: number): Promise<Subject[]> {
  const tensors = await bvlcWeights();
  const bytes = encodeCaffemodel(tensors, { version: 1, withTrainingLayers: true, rng: rngFor(seed, "caffemodel") });
  return [await weightSubject("bvlc_googlenet.caffemodel", bytes, tensorRanges(bytes, tensors), [])];
}

/**
 * ONNX: the zoo's BVLC googlenet-9 and a torchvision-style graph with BatchNormalization and
 * transform_input, both decoded as the loader decodes model bytes (resolveNetwork: imported, bound
 * to GoogLeNet's graph when it is GoogLeNet's, else run as imported; then the weights checked
 * against the graph). Binding googlenet-9 straight to GoogLeNet's graph (decodeWeights) would
 * judge another path: a mutant that is no longer GoogLeNet's graph is an error there, but the
 * loader runs it as the graph it is.
 */
async function onnxSubjects(seed: number): Promise<Subject[]> {
  const tensors = await bvlcWeights();
  const zoo = new Uint8Array(encodeZooOnnx(tensors, { opset: 9, output: "prob_1", rawData: true }));
  const torchvision = new Uint8Array(
    encodeTorchvisionOnnx(rngFor(seed, "torchvision"), { opset: 17, transformInput: true }),
  );
  const decode = async (b: Uint8Array, file: string): Promise<string> => {
    const net = await resolveNetwork([b], undefined);
    // Bytes that no longer read as ONNX stay bytes: the loader then decodes them as what they are.
    const source = net.sources[0];
    const weights = source instanceof Map ? source : await decodeWeights(b, file, net.graph);
    const want = expectedWeights(net.graph, DEFAULT_INPUT_SIZE, DEFAULT_INPUT_SIZE);
    checkTensors(weights, want, file);
    return `${sha256Hex(JSON.stringify(net.graph))} ${tensorKey(
      weights,
      want.map((e) => e.name),
    )}`;
  };
  const subject = async (name: string, bytes: Uint8Array, unprotected: [number, number][]): Promise<Subject> => ({
    name,
    bytes,
    unprotected,
    decode,
    reference: await decode(bytes, name),
    special: [],
    validChange: (b, key) => onnxValidChange(b, key, decode),
  });
  return [
    await subject("googlenet-9.onnx", zoo, tensorRanges(zoo, tensors)),
    await subject("torchvision-googlenet-17.onnx", torchvision, onnxFloatRanges(torchvision)),
  ];
}

/** Where each FLOAT initializer's raw_data lies in an ONNX model's bytes. */
function onnxFloatRanges(bytes: Uint8Array): [number, number][] {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ranges: [number, number][] = [];
  let from = 0;
  for (const t of model.graph!.initializer!) {
    if (t.dataType !== 1 || !t.rawData || t.rawData.length === 0) continue;
    const raw = Buffer.from(t.rawData);
    const at = buffer.indexOf(raw, from);
    if (at < 0) throw new Error(`fuzz: ${t.name} not found raw`);
    ranges.push([at, at + raw.length]);
    from = at + raw.length;
  }
  return ranges;
}

/**
 * Whether an ONNX model the loader accepted with result `key` is a valid model it read as written.
 * Without a checksum any byte of an ONNX file may carry meaning: a flipped tag turns an attribute
 * or an optional input into an unknown field (ignored, as protobuf requires), a name into another
 * initializer's. Such a model is valid and means something else, and must load as what it means;
 * an invalid one must be rejected. Three independent judgements, all required:
 * - onnx-proto (protobufjs) decodes it;
 * - onnxruntime loads it (the ONNX checker, every op's schema: input and output counts,
 *   attribute names and types; graph resolution and shape inference) and creates its kernels.
 *   One kernel's refusal is onnxruntime's limit, not the model's: its LRN takes only odd sizes
 *   and beta > 0, while ONNX's LRN defines every size (floor((size - 1) / 2) channels before,
 *   the rest after, as the reference and kernels compute) and beta;
 * - the loader gives the same result for onnx-proto's re-encoding of it (unknown fields dropped):
 *   the importer read the fields and values an independent reader reads, nothing else.
 * Not judged: that the importer's meaning of a valid graph is onnxruntime's (the conformance and
 * onnxruntime comparison tests cover the ops; a per-case forward pass would cost seconds).
 */
async function onnxValidChange(
  bytes: Uint8Array,
  key: string,
  decode: (b: Uint8Array, file: string) => Promise<string>,
): Promise<boolean> {
  let canonical: Uint8Array;
  try {
    const { onnx } = onnxProto;
    canonical = onnx.ModelProto.encode(onnx.ModelProto.decode(bytes)).finish();
  } catch {
    return false;
  }
  const ort = await import("onnxruntime-node");
  ort.env.logLevel = "fatal";
  try {
    const session = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: "disabled",
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      logSeverityLevel: 4,
    });
    await session.release();
  } catch (error) {
    if (!/^Exception during initialization: .*onnxruntime::LRN<T>::LRN/.test(String((error as Error).message)))
      return false;
  }
  return (await decode(canonical, "onnx-proto's re-encoding").catch(() => "rejected")) === key;
}

const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex");

async function imageSubject(
  file: string,
  unprotected: [number, number][],
  special: Subject["special"],
  spliceable: [number, number][] = [],
): Promise<Subject> {
  const bytes = new Uint8Array(readFileSync(join(PHOTOS_DIR, file)));
  const decode = async (b: Uint8Array, name: string): Promise<string> => imageKey(decodeImage(b, name));
  return { name: file, bytes, unprotected, decode, reference: await decode(bytes, file), special, spliceable };
}

/** PNG chunks: [offset, length, type]. */
function pngChunks(bytes: Uint8Array): [number, number, string][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: [number, number, string][] = [];
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length = view.getUint32(at);
    out.push([at, length, String.fromCharCode(...bytes.subarray(at + 4, at + 8))]);
    at += 12 + length;
  }
  return out;
}

/** Rebuilds a PNG from chunks (type, data), computing every CRC. */
function pngFrom(chunks: [string, Uint8Array][]): Uint8Array {
  const parts = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)];
  for (const [type, data] of chunks) {
    const c = new Uint8Array(12 + data.length);
    const view = new DataView(c.buffer);
    view.setUint32(0, data.length);
    c.set(
      [...type].map((ch) => ch.charCodeAt(0)),
      4,
    );
    c.set(data, 8);
    view.setUint32(8 + data.length, crc32(c.subarray(4, 8 + data.length)));
    parts.push(c);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
  return out;
}

async function pngSubjects(): Promise<Subject[]> {
  const out: Subject[] = [];
  for (const file of ["chelsea.png", "coffee.png"]) {
    const bytes = new Uint8Array(readFileSync(join(PHOTOS_DIR, file)));
    const chunks = pngChunks(bytes).map(([at, length, type]): [string, Uint8Array] => [
      type,
      bytes.slice(at + 8, at + 8 + length),
    ]);
    const idat = chunks.filter(([t]) => t === "IDAT").map(([, d]) => d);
    const stream = new Uint8Array(idat.reduce((n, d) => n + d.length, 0));
    idat.reduce((o, d) => (stream.set(d, o), o + d.length), 0);
    const scanlines = unzlibSync(stream);
    const others = chunks.filter(([t]) => t !== "IDAT" && t !== "IEND" && t !== "IHDR");
    const ihdr = chunks[0][1];
    const build = (header: Uint8Array, data: Uint8Array, extra = others): Uint8Array =>
      pngFrom([["IHDR", header], ...extra, ["IDAT", zlibSync(data)], ["IEND", new Uint8Array(0)]]);
    out.push(
      await imageSubject(
        file,
        [],
        [
          (rng) => {
            const h = ihdr.slice();
            const at = randomInt(rng, 0, 12);
            if (rng() < 0.5) h[at] ^= 1 << randomInt(rng, 0, 7);
            else h[at] = randomInt(rng, 0, 255);
            return { bytes: build(h, scanlines), what: `IHDR byte ${at} +crc`, content: false };
          },
          (rng) => {
            const d = scanlines.slice();
            const at = randomInt(rng, 0, d.length - 1);
            d[at] ^= 1 << randomInt(rng, 0, 7);
            return { bytes: build(ihdr, d), what: `pixel data @${at} +adler+crc`, content: true };
          },
          (rng) => {
            const cut = randomInt(rng, 1, scanlines.length - 1);
            const d = rng() < 0.5 ? scanlines.subarray(0, cut) : concat(scanlines, scanlines.subarray(0, cut));
            return { bytes: build(ihdr, d), what: `pixel data resized to ${d.length} +adler+crc`, content: false };
          },
          (rng) => {
            const text = new TextEncoder().encode(`Comment\0fuzz ${randomInt(rng, 0, 1e6)}`);
            return { bytes: build(ihdr, scanlines, [...others, ["tEXt", text]]), what: "tEXt added", content: false };
          },
        ],
      ),
    );
  }
  return out;
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

/** JPEG segments before the first scan: [marker offset, marker, segment length]; and where the scan data starts. */
function jpegSegments(bytes: Uint8Array): { segments: [number, number, number][]; scan: number } {
  const segments: [number, number, number][] = [];
  let at = 2;
  for (;;) {
    const marker = bytes[at + 1];
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    segments.push([at, marker, length]);
    if (marker === 0xda) return { segments, scan: at + 2 + length };
    at += 2 + length;
  }
}

async function jpegSubjects(): Promise<Subject[]> {
  const out: Subject[] = [];
  for (const file of ["eagle.jpg", "rocket.jpg", "fruits.jpg"]) {
    const bytes = new Uint8Array(readFileSync(join(PHOTOS_DIR, file)));
    const { segments, scan } = jpegSegments(bytes);
    // JPEG has no checksum: table values, frame size, coefficients and which defined table a
    // component uses are content (a selector of another defined table is a valid file). Markers,
    // segment lengths, the frame's precision, component ids and sampling, and the rest of the scan
    // header are structure.
    const scanData: [number, number] = [scan, bytes.length - 2];
    const unprotected: [number, number][] = [scanData];
    for (const [at, marker, length] of segments) {
      if (marker === 0xdb || marker === 0xc4 || (marker >= 0xe0 && marker <= 0xef) || marker === 0xfe) {
        unprotected.push([at + 4, at + 2 + length]);
      }
      if (marker === 0xc0 || marker === 0xc2) {
        unprotected.push([at + 5, at + 9]);
        for (let i = 0; i < bytes[at + 9]; i++) unprotected.push([at + 12 + 3 * i, at + 13 + 3 * i]); // Tq
      }
      if (marker === 0xda) {
        for (let i = 0; i < bytes[at + 4]; i++) unprotected.push([at + 6 + 2 * i, at + 7 + 2 * i]); // Td, Ta
      }
    }
    const sof = segments.find(([, m]) => m === 0xc0 || m === 0xc2)!;
    out.push(
      await imageSubject(
        file,
        unprotected,
        [
          (rng) => {
            const b = bytes.slice();
            const kind = pick(rng, ["marker", "precision", "noscan", "eoi"] as const);
            if (kind === "marker") b[sof[0] + 1] = pick(rng, [0xc3, 0xc5, 0xc9, 0xca, 0xcb, 0xcd, 0xcf]);
            else if (kind === "precision") b[sof[0] + 4] = pick(rng, [12, 16, 0, 7]);
            else if (kind === "noscan")
              return { bytes: concat(b.subarray(0, scan), Uint8Array.of(0xff, 0xd9)), what: kind, content: false };
            else return { bytes: b.subarray(0, b.length - randomInt(rng, 1, 2)), what: kind, content: false };
            return { bytes: b, what: kind, content: false };
          },
        ],
        [scanData],
      ),
    );
  }
  return out;
}

const subjectCache = new Map<Format, Promise<Subject[]>>();

/** The subjects of a format (built once per process). */
export function subjects(format: Format, seed: number): Promise<Subject[]> {
  let s = subjectCache.get(format);
  if (!s) {
    const make = {
      iwnet: iwnetSubjects,
      mat: matSubjects,
      caffemodel: () => caffeSubjects(seed),
      onnx: () => onnxSubjects(seed),
      png: pngSubjects,
      jpeg: jpegSubjects,
      iwpack: iwpackSubjects,
    }[format];
    s = make();
    subjectCache.set(format, s);
  }
  return s;
}

/** The subject and mutant of case `index` of `format` (deterministic in seed, format and index: replays one case). */
export async function caseMutant(
  format: Format,
  seed: number,
  index: number,
): Promise<{ subject: Subject; mutant: Mutant }> {
  const list = await subjects(format, seed);
  const rng = rngFor(seed, `${format}:${index}`);
  const subject = list[index % list.length];
  const useSpecial = subject.special.length > 0 && rng() < 0.4;
  const mutant = useSpecial ? pick(rng, subject.special)(rng, subject.bytes) : genericMutation(rng, subject);
  return { subject, mutant };
}

/** Runs case `index` of `format` and classifies it. */
export async function runCase(format: Format, seed: number, index: number): Promise<CaseResult> {
  const { subject, mutant } = await caseMutant(format, seed, index);
  const name = `${subject.name} ${mutant.what}`;
  const result = (outcome: Outcome, detail: string): CaseResult => ({ format, index, outcome, what: name, detail });
  let key: string;
  try {
    key = await subject.decode(mutant.bytes, name);
  } catch (error) {
    if (error instanceof InceptionError) return result("typed", error.message.slice(0, 300));
    return result("untyped", error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : String(error));
  }
  if (key === subject.reference) return result("identical", "");
  if (mutant.content) return result("changed", "accepted with a different result (content only)");
  if (mutant.structural) {
    const alone = await subject.decode(mutant.structural, `${name} (structural bytes only)`).catch(() => "rejected");
    if (alone === subject.reference) return result("changed", "different result from the content bytes only");
  }
  if (await subject.validChange?.(mutant.bytes, key)) {
    return result("changed", "a valid model (onnx-proto, onnxruntime) of another meaning, read as onnx-proto reads it");
  }
  return result("wrong", "accepted with a different result");
}
