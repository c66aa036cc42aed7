/**
 * IWPACK: the warm-start cache of the packed weight region, the bytes of the shared memory that
 * the planner gives the weights (conv weights as GEMM panels, FC weights, biases, zero padding),
 * exactly as a cold load leaves them. A cached load reads the file in chunks straight into the
 * region (readPackedWeights). Pure encoding/checking, no I/O of its own. All integers little-endian.
 *
 * | offset | size | field                                                                 |
 * |--------|------|-----------------------------------------------------------------------|
 * | 0      | 8    | magic "IWPACK\r\n" (49 57 50 41 43 4B 0D 0A)                          |
 * | 8      | 4    | u32 format version = 1                                                |
 * | 12     | 4    | u32 payload byte length P                                             |
 * | 16     | 32   | the layout key (SHA-256, see host/engine/packedWeights.ts)            |
 * | 48     | 32   | SHA-256 of the payload                                                |
 * | 80     | 48   | zero                                                                  |
 * | 128    | P    | the payload: the weight region                                        |
 *
 * The file is exactly 128 + P bytes; anything else (another key, length, checksum or version)
 * is a WeightsError naming the file, which the cache treats as a miss.
 */

import { hex, type Sha256Hasher } from "../../host/digest.js";
import { WeightsError } from "../../host/errors.js";

const MAGIC = Uint8Array.of(0x49, 0x57, 0x50, 0x41, 0x43, 0x4b, 0x0d, 0x0a);
/** Format version: bump when the header or the meaning of the payload changes. */
export const PACKED_FORMAT_VERSION = 1;
/** Bytes before the payload. */
export const PACKED_HEADER_BYTES = 128;

/**
 * The header of an IWPACK file of `region` under the 32-byte layout `key` (the payload follows it);
 * `hasher` (a fresh SHA-256) digests the region in place, which may lie in shared memory.
 */
export function encodePackedHeader(key: Uint8Array, region: Uint8Array, hasher: Sha256Hasher): Uint8Array {
  const header = new Uint8Array(PACKED_HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(MAGIC, 0);
  view.setUint32(8, PACKED_FORMAT_VERSION, true);
  view.setUint32(12, region.length, true);
  header.set(key.subarray(0, 32), 16);
  hasher.update(region);
  header.set(hasher.digest(), 48);
  return header;
}

/** An IWPACK file of `region` under the 32-byte layout `key`, whole (encodePackedHeader with a fresh `hasher`, then the region). */
export function encodePackedWeights(key: Uint8Array, region: Uint8Array, hasher: Sha256Hasher): Uint8Array {
  const out = new Uint8Array(PACKED_HEADER_BYTES + region.length);
  out.set(encodePackedHeader(key, region, hasher), 0);
  out.set(region, PACKED_HEADER_BYTES);
  return out;
}

/**
 * Reads bytes in order from a file or another source: fills the start of `into` with the next bytes
 * and resolves to how many it put there (fewer than asked only at the end, 0 there).
 */
export type ByteReader = (into: Uint8Array) => Promise<number>;

/** Bytes read per call of a ByteReader while reading the payload (the reused buffer's size). */
export const PACKED_READ_CHUNK = 1 << 20;

/**
 * Reads an IWPACK file from `read` (whose `fileBytes` are known, e.g. from fstat) into `into`
 * (exactly the expected payload length), PACKED_READ_CHUNK bytes at a time through one reused
 * buffer, so the file is never held whole: checks its size, magic, version, key, payload length
 * (`into.length`) and zero bytes before the payload, then the payload's SHA-256 (`hasher`, a fresh
 * one) as it passes, and that nothing follows it. Throws WeightsError naming `name`, expected vs
 * found; `into` then holds part of a payload and must be overwritten.
 */
export async function readPackedWeights(
  read: ByteReader,
  fileBytes: number,
  name: string,
  key: Uint8Array,
  into: Uint8Array,
  hasher: Sha256Hasher,
): Promise<void> {
  const fail = failer(name);
  const bytes = into.length;
  if (fileBytes !== PACKED_HEADER_BYTES + bytes) fail("a file of", `${PACKED_HEADER_BYTES + bytes} bytes`, fileBytes);
  const buffer = new Uint8Array(Math.min(PACKED_READ_CHUNK, Math.max(PACKED_HEADER_BYTES, bytes)));
  /** The next n (<= buffer.length) bytes; fewer means the file was cut short while read. */
  const take = async (n: number): Promise<Uint8Array> => {
    let filled = 0;
    for (let got = -1; filled < n && got !== 0; filled += got) got = await read(buffer.subarray(filled, n));
    return buffer.subarray(0, filled);
  };
  const header = await take(PACKED_HEADER_BYTES);
  if (header.length < PACKED_HEADER_BYTES) fail("a file of", `${PACKED_HEADER_BYTES + bytes} bytes`, header.length);
  const stored = checkPackedHeader(header, fail, key, bytes);
  for (let at = 0; at < bytes; ) {
    const chunk = await take(Math.min(buffer.length, bytes - at));
    if (chunk.length === 0) fail("a file of", `${PACKED_HEADER_BYTES + bytes} bytes`, PACKED_HEADER_BYTES + at);
    into.set(chunk, at);
    hasher.update(chunk);
    at += chunk.length;
  }
  if ((await take(1)).length > 0) fail("a file of", `${PACKED_HEADER_BYTES + bytes} bytes`, "more");
  const digest = hex(hasher.digest());
  if (digest !== stored) fail("payload SHA-256", stored, digest);
}

/**
 * The payload of an IWPACK file held whole, checked as readPackedWeights checks it (`bytes`: the
 * expected payload length; `hasher` a fresh SHA-256). Throws WeightsError naming `name`, expected vs found.
 */
export async function checkPackedWeights(
  file: Uint8Array,
  name: string,
  key: Uint8Array,
  bytes: number,
  hasher: Sha256Hasher,
): Promise<Uint8Array> {
  let at = 0;
  const read: ByteReader = async (into) => {
    const n = Math.min(into.length, file.length - at);
    into.set(file.subarray(at, at + n));
    at += n;
    return n;
  };
  const payload = new Uint8Array(bytes);
  await readPackedWeights(read, file.length, name, key, payload, hasher);
  return payload;
}

type Fail = (what: string, expected: string | number, found: string | number) => never;

function failer(name: string): Fail {
  return (what, expected, found) => {
    throw new WeightsError(name, undefined, `packed weights cache: expected ${what} ${expected}, found ${found}`);
  };
}

/** Checks an IWPACK header (the first PACKED_HEADER_BYTES); the payload's SHA-256 it records, in hex. */
function checkPackedHeader(header: Uint8Array, fail: Fail, key: Uint8Array, bytes: number): string {
  if (MAGIC.some((b, i) => header[i] !== b)) fail("magic", hex(MAGIC), hex(header.subarray(0, 8)));
  const view = new DataView(header.buffer, header.byteOffset, PACKED_HEADER_BYTES);
  if (view.getUint32(8, true) !== PACKED_FORMAT_VERSION)
    fail("version", PACKED_FORMAT_VERSION, view.getUint32(8, true));
  if (view.getUint32(12, true) !== bytes) fail("payload length", bytes, view.getUint32(12, true));
  if (hex(header.subarray(16, 48)) !== hex(key.subarray(0, 32)))
    fail("layout key", hex(key), hex(header.subarray(16, 48)));
  if (header.subarray(80, PACKED_HEADER_BYTES).some((b) => b !== 0)) fail("zero bytes at", "80..127", "others");
  return hex(header.subarray(48, 80));
}
