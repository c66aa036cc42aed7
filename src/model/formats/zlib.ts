// Bounded zlib inflation for the MAT reader and the PNG decoder: the output size is decided
// before inflating (declared by the caller, or read from the stream's first bytes) and inflation
// stops as soon as the output would pass it, so a small compressed stream cannot expand into
// gigabytes. The Adler-32 checksum at the end of the stream is verified (fflate does not).

import { Unzlib } from "fflate";
import { InceptionError } from "../../host/errors.js";

/**
 * Compressed bytes fed to the inflater at a time. A step inflates to at most about 16 MiB (deflate's
 * 1032:1 ratio), the most a stream can overshoot its limit before it is stopped; smaller steps make
 * the inflater allocate an output chunk per step (1 KiB steps: about 13 MB of garbage per photo, and coffee.png decoded 1.7x slower).
 */
const INPUT_STEP = 16 * 1024;

/** How much a zlib stream may inflate to. */
export interface InflateLimit {
  /** The output must be exactly this many bytes (e.g. a PNG's scanlines from its IHDR). */
  exactBytes?: number;
  /**
   * The output size declared by the stream's first `headBytes` inflated bytes (e.g. a MAT
   * element's tag), at most `maxBytes`; `declared` returns it or a reason it is unacceptable.
   */
  declared?: { headBytes: number; maxBytes: number; size(head: Uint8Array): number | string };
}

/**
 * Inflates a zlib stream (RFC 1950) to at most the size `limit` allows and verifies its Adler-32.
 * Calls `fail` (which must throw the caller's typed error) for a stream shorter than its header
 * and checksum, a deflate error, output past or short of the allowed size, or a checksum mismatch.
 */
export function inflateBounded(stream: Uint8Array, limit: InflateLimit, fail: (message: string) => never): Uint8Array {
  if (stream.length < 6)
    fail(`expected a zlib stream of at least 6 bytes (header and checksum), found ${stream.length}`);
  let allowed = limit.exactBytes ?? Number.POSITIVE_INFINITY;
  let head: Uint8Array | undefined = limit.declared ? new Uint8Array(limit.declared.headBytes) : undefined;
  let out: Uint8Array | undefined = limit.exactBytes !== undefined ? new Uint8Array(limit.exactBytes) : undefined;
  let length = 0;
  const take = (chunk: Uint8Array): void => {
    if (length + chunk.length > allowed) {
      fail(`zlib stream inflates past the declared ${allowed} bytes (corrupt data or a decompression bomb)`);
    }
    let from = 0;
    if (head && !out) {
      from = Math.min(chunk.length, head.length - length);
      head.set(chunk.subarray(0, from), length);
      length += from;
      if (length === head.length) {
        const d = limit.declared!;
        const size = d.size(head);
        if (typeof size === "string") fail(size);
        if (size > d.maxBytes || size < head.length) {
          fail(`declared size ${size} bytes: expected ${head.length}..${d.maxBytes}`);
        }
        allowed = size;
        out = new Uint8Array(size);
        out.set(head);
        head = undefined;
        if (length + chunk.length - from > allowed) {
          fail(`zlib stream inflates past the declared ${allowed} bytes (corrupt data or a decompression bomb)`);
        }
      }
    }
    if (from < chunk.length) {
      out!.set(chunk.subarray(from), length);
      length += chunk.length - from;
    }
  };
  try {
    const inflater = new Unzlib((chunk) => take(chunk));
    for (let at = 0; at < stream.length; at += INPUT_STEP) {
      const end = Math.min(stream.length, at + INPUT_STEP);
      inflater.push(stream.subarray(at, end), end === stream.length);
    }
  } catch (cause) {
    if (cause instanceof InceptionError) throw cause;
    fail(`zlib inflate failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  if (!out || length !== allowed) {
    const want = out ? `${allowed}` : `at least ${limit.declared?.headBytes}`;
    fail(`zlib stream ends early: expected ${want} inflated bytes, found ${length}`);
  }
  const expected = new DataView(stream.buffer, stream.byteOffset + stream.length - 4, 4).getUint32(0, false);
  const found = adler32(out);
  if (expected !== found) {
    fail(
      `zlib checksum mismatch: expected Adler-32 ${hex32(expected)}, found ${hex32(found)} (corrupt compressed data)`,
    );
  }
  return out;
}

/** The Adler-32 checksum (RFC 1950) of `bytes`. */
export function adler32(bytes: Uint8Array): number {
  let a = 1,
    b = 0;
  const CHUNK = 5552; // zlib's NMAX: reducing this often keeps both sums below 2^32
  for (let i = 0; i < bytes.length; i += CHUNK) {
    const end = Math.min(bytes.length, i + CHUNK);
    for (let j = i; j < end; j++) {
      a += bytes[j]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;
