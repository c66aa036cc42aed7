/**
 * IWPACK: the warm-start cache of the packed weight region, the bytes of the shared memory that
 * the planner gives the weights (conv weights as GEMM panels, FC weights, biases, zero padding),
 * exactly as a cold load leaves them. A cached load reads the file and copies its payload to the
 * region. Pure encoding/checking, no I/O. All integers little-endian.
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

import { hex, sha256 } from "../../host/digest.js";
import { WeightsError } from "../../host/errors.js";

const MAGIC = Uint8Array.of(0x49, 0x57, 0x50, 0x41, 0x43, 0x4b, 0x0d, 0x0a);
/** Format version: bump when the header or the meaning of the payload changes. */
export const PACKED_FORMAT_VERSION = 1;
/** Bytes before the payload. */
export const PACKED_HEADER_BYTES = 128;

/** An IWPACK file of `region` under the 32-byte layout `key`. */
export async function encodePackedWeights(key: Uint8Array, region: Uint8Array): Promise<Uint8Array> {
  const out = new Uint8Array(PACKED_HEADER_BYTES + region.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(8, PACKED_FORMAT_VERSION, true);
  view.setUint32(12, region.length, true);
  out.set(key.subarray(0, 32), 16);
  out.set(region, PACKED_HEADER_BYTES);
  out.set(await sha256(out.subarray(PACKED_HEADER_BYTES)), 48);
  return out;
}

/**
 * The payload of an IWPACK file, after checking its size, magic, version, key, payload length
 * (`bytes` expected) and SHA-256. Throws WeightsError naming `file`, expected vs found.
 */
export async function checkPackedWeights(
  file: Uint8Array,
  name: string,
  key: Uint8Array,
  bytes: number,
): Promise<Uint8Array> {
  const fail = (what: string, expected: string | number, found: string | number): never => {
    throw new WeightsError(name, undefined, `packed weights cache: expected ${what} ${expected}, found ${found}`);
  };
  if (file.length !== PACKED_HEADER_BYTES + bytes)
    fail("a file of", `${PACKED_HEADER_BYTES + bytes} bytes`, file.length);
  if (MAGIC.some((b, i) => file[i] !== b)) fail("magic", hex(MAGIC), hex(file.subarray(0, 8)));
  const view = new DataView(file.buffer, file.byteOffset, PACKED_HEADER_BYTES);
  if (view.getUint32(8, true) !== PACKED_FORMAT_VERSION)
    fail("version", PACKED_FORMAT_VERSION, view.getUint32(8, true));
  if (view.getUint32(12, true) !== bytes) fail("payload length", bytes, view.getUint32(12, true));
  if (hex(file.subarray(16, 48)) !== hex(key.subarray(0, 32))) fail("layout key", hex(key), hex(file.subarray(16, 48)));
  if (file.subarray(80, PACKED_HEADER_BYTES).some((b) => b !== 0)) fail("zero bytes at", "80..127", "others");
  const payload = file.subarray(PACKED_HEADER_BYTES);
  const digest = hex(await sha256(payload));
  if (digest !== hex(file.subarray(48, 80))) fail("payload SHA-256", hex(file.subarray(48, 80)), digest);
  return payload;
}
