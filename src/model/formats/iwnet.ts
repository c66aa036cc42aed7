/**
 * IWNET: inception-wasm's single-file weight format. Pure encoding/decoding, no I/O; works in
 * every runtime with Web Crypto (Node >= 20, Deno, Bun, browsers). All integers little-endian.
 *
 * | offset          | size     | field                                                     |
 * |-----------------|----------|-----------------------------------------------------------|
 * | 0               | 8        | magic "IWNET\0\r\n" (49 57 4E 45 54 00 0D 0A)             |
 * | 8               | 4        | u32 format version = 1                                    |
 * | 12              | 4        | u32 tensor count N                                        |
 * | 16              | 4        | u32 table byte length T                                   |
 * | 20              | T        | table: N entries, in file order, each:                    |
 * |                 |          |   u16 name byte length L, L bytes UTF-8 name (unique),    |
 * |                 |          |   u8 rank R, R x u32 dims (row-major, outermost first),   |
 * |                 |          |   u32 data byte offset from file start, u32 element count |
 * | 20 + T ...      |          | tensor data: float32 LE, each tensor starting at a        |
 * |                 |          | 64-byte aligned offset, zero bytes in between             |
 * | end - 32        | 32       | SHA-256 of every byte before it                           |
 *
 * The checksum directly follows the last tensor's data (or the table when N = 0), so a file's
 * exact length is implied by its table. Element count must equal the product of the dims.
 */

import { ArgumentError, WeightsError } from "../../host/errors.js";

import { hex, sha256, type Sha256Hasher } from "../../host/digest.js";
import { elementCount, firstNonFinite, type TensorMap } from "../../host/ir/tensors.js";

const MAGIC = Uint8Array.of(0x49, 0x57, 0x4e, 0x45, 0x54, 0x00, 0x0d, 0x0a);
const VERSION = 1;
const HEADER_BYTES = 20;
const CHECKSUM_BYTES = 32;
const DATA_ALIGN = 64;
const U32_MAX = 0xffffffff;

/** Whether `bytes` start with the IWNET magic. */
export function hasIwnetMagic(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

/** Serializes `tensors` (in map order) to IWNET. Throws ArgumentError for an unencodable tensor. */
export async function encodeWeightFile(tensors: TensorMap): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  const entries = [...tensors].map(([name, { shape, data }]) => {
    const nameBytes = encoder.encode(name);
    const where = `tensors.get(${JSON.stringify(name)})`;
    if (nameBytes.length > 0xffff)
      throw new ArgumentError(
        "encodeWeightFile",
        "tensors",
        "names of at most 65535 UTF-8 bytes",
        `${nameBytes.length} bytes`,
      );
    if (shape.length > 0xff)
      throw new ArgumentError("encodeWeightFile", where, "a shape of rank <= 255", `rank ${shape.length}`);
    if (shape.some((d) => !Number.isInteger(d) || d < 0 || d > U32_MAX)) {
      throw new ArgumentError(
        "encodeWeightFile",
        where,
        "dims that are integers in 0..2^32-1",
        `[${shape.join(", ")}]`,
      );
    }
    if (data.length !== elementCount(shape)) {
      throw new ArgumentError(
        "encodeWeightFile",
        where,
        `${elementCount(shape)} values for shape [${shape.join(", ")}]`,
        `${data.length}`,
      );
    }
    return { nameBytes, shape, data, offset: 0 };
  });
  const tableBytes = entries.reduce((sum, e) => sum + 2 + e.nameBytes.length + 1 + 4 * e.shape.length + 8, 0);
  let end = HEADER_BYTES + tableBytes;
  for (const e of entries) {
    e.offset = alignUp(end, DATA_ALIGN);
    end = e.offset + e.data.byteLength;
  }
  if (end > U32_MAX) throw new ArgumentError("encodeWeightFile", "tensors", "at most 4 GiB of data", `${end} bytes`);

  const bytes = new Uint8Array(end + CHECKSUM_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, entries.length, true);
  view.setUint32(16, tableBytes, true);
  let at = HEADER_BYTES;
  for (const e of entries) {
    view.setUint16(at, e.nameBytes.length, true);
    bytes.set(e.nameBytes, at + 2);
    at += 2 + e.nameBytes.length;
    view.setUint8(at++, e.shape.length);
    for (const d of e.shape) {
      view.setUint32(at, d, true);
      at += 4;
    }
    view.setUint32(at, e.offset, true);
    view.setUint32(at + 4, e.data.length, true);
    at += 8;
    bytes.set(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength), e.offset);
  }
  bytes.set(await sha256(bytes.subarray(0, end)), end);
  return bytes;
}

/**
 * Parses and verifies an IWNET file; `file` names it in errors. `bytes` may be any Uint8Array
 * view (a Node Buffer at any byteOffset). Tensor data are views into `bytes` when 4-byte
 * aligned, else copies. Throws WeightsError for a wrong magic, version, truncation, a table
 * entry whose data is not at its canonical place (64-byte aligned, directly after the previous
 * tensor, zero padding), a count/dims mismatch, a checksum mismatch, a duplicate name or a
 * NaN/infinite value (naming the tensor and the first bad index).
 */
export async function decodeWeightFile(bytes: Uint8Array, file: string): Promise<TensorMap> {
  const fail = failer(file);
  if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES) {
    fail(
      `truncated: expected at least ${HEADER_BYTES + CHECKSUM_BYTES} bytes (header and checksum), found ${bytes.length}`,
    );
  }
  const payloadEnd = bytes.length - CHECKSUM_BYTES;
  const entries = readTable(bytes, file, payloadEnd);
  let dataEnd = readHeader(bytes, file).tableEnd;
  for (const e of entries) {
    checkPadding(bytes.subarray(dataEnd, e.offset), dataEnd, file, e.name);
    dataEnd = e.offset + 4 * e.count;
  }
  if (dataEnd !== payloadEnd) {
    fail(`file length: expected ${dataEnd + CHECKSUM_BYTES} bytes per its table, found ${bytes.length}`);
  }
  checkChecksum(bytes.subarray(payloadEnd), await sha256(bytes.subarray(0, payloadEnd)), file);
  const tensors: TensorMap = new Map();
  for (const e of entries) tensors.set(e.name, tensorOf(e, bytes.subarray(e.offset, e.offset + 4 * e.count), file));
  return tensors;
}

/**
 * Reads an IWNET file from a stream, tensor by tensor, without holding the whole file: each
 * tensor is passed to `write` as soon as its bytes arrived, checked as decodeWeightFile checks it
 * (layout, padding, count, finite values); `hasher` (a fresh SHA-256) checks the trailing
 * checksum at the end. The tensor's data are only valid during its write() call (one buffer of
 * the largest tensor's size is reused). Throws WeightsError as decodeWeightFile does, and for a
 * stream that ends early or goes on past the checksum; tensors written before an error must be
 * discarded. The stream must start with the IWNET magic (see isWeightFile in detect.ts).
 */
export async function readWeightStream(
  stream: ReadableStream<Uint8Array>,
  file: string,
  write: (name: string, tensor: { shape: number[]; data: Float32Array }) => void,
  hasher: Sha256Hasher,
): Promise<void> {
  const fail = failer(file);
  const input = new StreamBytes(stream.getReader());
  const take = async (n: number, what: string, tensor?: string, into?: Uint8Array): Promise<Uint8Array> => {
    const got = await input.take(n, into);
    if (got.length < n)
      fail(
        `truncated: expected ${n} bytes of ${what} at byte ${input.pos - got.length}, the stream ended after ${got.length}`,
        tensor,
      );
    return got;
  };
  const header = await take(HEADER_BYTES, "header");
  const { tableEnd } = readHeader(header, file);
  const head = new Uint8Array(tableEnd);
  head.set(header);
  head.set(await take(tableEnd - HEADER_BYTES, "table"), HEADER_BYTES);
  hasher.update(head);
  const entries = readTable(head, file, Number.POSITIVE_INFINITY);
  const scratch = new Uint8Array(Math.max(0, ...entries.map((e) => 4 * e.count)));
  let dataEnd = tableEnd;
  for (const e of entries) {
    const padding = await take(e.offset - dataEnd, "padding", e.name);
    checkPadding(padding, dataEnd, file, e.name);
    hasher.update(padding);
    const data = await take(4 * e.count, "data", e.name, scratch);
    hasher.update(data);
    write(e.name, tensorOf(e, data, file));
    dataEnd = e.offset + 4 * e.count;
  }
  const stored = await take(CHECKSUM_BYTES, "checksum");
  if (!(await input.ended())) fail(`file length: expected ${dataEnd + CHECKSUM_BYTES} bytes per its table, found more`);
  checkChecksum(stored, hasher.digest(), file);
}

/** Bytes from a stream reader, n at a time: a view into the current chunk when they lie in it. */
class StreamBytes {
  private chunk: Uint8Array = new Uint8Array(0);
  private at = 0;
  /** Bytes taken so far. */
  pos = 0;
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** The next n bytes (fewer only when the stream ends), copied into `into` when they span chunks. */
  async take(n: number, into?: Uint8Array): Promise<Uint8Array> {
    if (this.chunk.length - this.at >= n) {
      this.at += n;
      this.pos += n;
      return this.chunk.subarray(this.at - n, this.at);
    }
    const out = into && into.length >= n ? into.subarray(0, n) : new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.at === this.chunk.length) {
        const { done, value } = await this.reader.read();
        if (done) break;
        this.chunk = value;
        this.at = 0;
        continue;
      }
      const k = Math.min(n - filled, this.chunk.length - this.at);
      out.set(this.chunk.subarray(this.at, this.at + k), filled);
      this.at += k;
      filled += k;
    }
    this.pos += filled;
    return out.subarray(0, filled);
  }

  /** Whether the stream has no bytes left (reads one more chunk to know; cancels the stream if it has). */
  async ended(): Promise<boolean> {
    if (this.at < this.chunk.length) return false;
    for (;;) {
      const { done, value } = await this.reader.read();
      if (done) return true;
      if (value.length > 0) {
        await this.reader.cancel();
        return false;
      }
    }
  }
}

type Entry = { name: string; shape: number[]; offset: number; count: number };

function failer(file: string): (message: string, tensor?: string) => never {
  return (message, tensor) => {
    throw new WeightsError(file, tensor, message);
  };
}

/** Checks the magic and version of the first HEADER_BYTES of `bytes`; the tensor count and where the table ends. */
function readHeader(bytes: Uint8Array, file: string): { count: number; tableEnd: number } {
  const fail = failer(file);
  if (!hasIwnetMagic(bytes)) {
    const magic = bytes.subarray(0, MAGIC.length);
    fail(`not an inception-wasm weight file: expected magic ${hex(MAGIC)} ("IWNET\\0\\r\\n"), found ${hex(magic)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) fail(`unsupported format version: expected ${VERSION}, found ${version}`);
  return { count: view.getUint32(12, true), tableEnd: HEADER_BYTES + view.getUint32(16, true) };
}

/**
 * The table of `bytes` (which hold at least the header and table), checked against the canonical
 * layout (what encodeWeightFile writes): each tensor at the first 64-byte boundary after the table
 * or the previous tensor, so no tensor can overlap another, point at another's data, or hide
 * bytes the table does not describe; data must end by `payloadEnd` (Infinity: not known yet).
 */
function readTable(bytes: Uint8Array, file: string, payloadEnd: number): Entry[] {
  const fail = failer(file);
  const { count, tableEnd } = readHeader(bytes, file);
  if (tableEnd > payloadEnd) {
    fail(`truncated: table ends at byte ${tableEnd}, expected it within the ${payloadEnd} bytes before the checksum`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const entries: Entry[] = [];
  let at = HEADER_BYTES;
  const need = (n: number, what: string): void => {
    if (at + n > tableEnd)
      fail(`corrupt table: entry ${entries.length} ${what} needs bytes ${at}..${at + n}, table ends at ${tableEnd}`);
  };
  for (let i = 0; i < count; i++) {
    need(2, "name length");
    const nameLength = view.getUint16(at, true);
    need(2 + nameLength + 1, "name and rank");
    let name = "";
    try {
      name = decoder.decode(bytes.subarray(at + 2, at + 2 + nameLength));
    } catch {
      fail(`corrupt table: entry ${i} name is not valid UTF-8`);
    }
    at += 2 + nameLength;
    const rank = view.getUint8(at++);
    need(4 * rank + 8, "dims, offset and count");
    const shape: number[] = [];
    for (let d = 0; d < rank; d++, at += 4) shape.push(view.getUint32(at, true));
    entries.push({ name, shape, offset: view.getUint32(at, true), count: view.getUint32(at + 4, true) });
    at += 8;
  }
  if (at !== tableEnd)
    fail(
      `corrupt table: expected ${tableEnd - HEADER_BYTES} table bytes for ${count} entries, found ${at - HEADER_BYTES}`,
    );
  const names = new Set<string>();
  let dataEnd = tableEnd;
  for (const e of entries) {
    if (names.has(e.name)) fail("duplicate tensor name in table", e.name);
    names.add(e.name);
    const expectedOffset = alignUp(dataEnd, DATA_ALIGN);
    if (e.offset !== expectedOffset) {
      fail(
        `data offset: expected ${expectedOffset} (the first ${DATA_ALIGN}-byte boundary after byte ${dataEnd}), ` +
          `found ${e.offset} (misaligned, overlapping or corrupt table)`,
        e.name,
      );
    }
    if (e.count !== elementCount(e.shape)) {
      fail(
        `element count does not match dims: expected ${elementCount(e.shape)} for shape [${e.shape.join(", ")}], found ${e.count}`,
        e.name,
      );
    }
    const end = e.offset + 4 * e.count;
    if (end > payloadEnd) {
      fail(
        `data bytes ${e.offset}..${end} lie outside the data area: expected within ${tableEnd}..${payloadEnd}` +
          ` (file of ${payloadEnd + CHECKSUM_BYTES} bytes is truncated or its table is corrupt)`,
        e.name,
      );
    }
    dataEnd = end;
  }
  return entries;
}

/** Throws unless the padding bytes (starting at file byte `from`) before tensor `name` are all zero. */
function checkPadding(padding: Uint8Array, from: number, file: string, name: string): void {
  const bad = padding.findIndex((b) => b !== 0);
  if (bad >= 0)
    failer(file)(`padding before the data: expected zero bytes, found a non-zero byte at ${from + bad}`, name);
}

function checkChecksum(stored: Uint8Array, actual: Uint8Array, file: string): void {
  if (!actual.every((b, i) => b === stored[i])) {
    failer(file)(
      `checksum mismatch (corrupt file): expected SHA-256 ${hex(stored.subarray(0, 8))}..., found ${hex(actual.subarray(0, 8))}...`,
    );
  }
}

/** Tensor `e` over its data bytes: a view when 4-byte aligned, else a copy; throws for a NaN or infinite value. */
function tensorOf(e: Entry, bytes: Uint8Array, file: string): { shape: number[]; data: Float32Array } {
  let data: Float32Array;
  if (bytes.byteOffset % 4 === 0) data = new Float32Array(bytes.buffer, bytes.byteOffset, e.count);
  else {
    // A copy into a fresh buffer: Buffer#slice (Node) is a view, not a copy.
    data = new Float32Array(e.count);
    new Uint8Array(data.buffer).set(bytes);
  }
  const bad = firstNonFinite(data);
  if (bad >= 0) failer(file)(`expected finite values, found ${data[bad]} at index ${bad}`, e.name);
  return { shape: e.shape, data };
}

const alignUp = (n: number, to: number): number => Math.ceil(n / to) * to;
