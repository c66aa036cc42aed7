// The one JPEG marker walker, for the structure check (decode.ts) and the decoder (jpeg.ts): what
// is at a marker position, fill bytes skipped, and a segment's length and payload. What a caller
// makes of each outcome (its error, whether a missing end-of-image marker is accepted) is its own.

/** What readJpegMarker found at a marker position. */
export type JpegMarkerRead =
  /** The data ends where a marker should start. */
  | { kind: "end" }
  /** A byte other than FF where a marker should start. */
  | { kind: "not-marker"; found: number }
  /** FF fill bytes up to the end of the data: no marker code. */
  | { kind: "no-code" }
  /** A marker without a segment (SOI, EOI, TEM, RSTn); `next`: the position after it. */
  | { kind: "standalone"; marker: number; next: number }
  /** The data ends inside the segment length at `at`. */
  | { kind: "no-length"; marker: number; at: number }
  /** The segment length at `at` is below 2 or runs past the data. */
  | { kind: "overrun"; marker: number; at: number; length: number }
  /** A segment: its length at `at` (2 bytes, counting themselves), its payload, and the position after it. */
  | { kind: "segment"; marker: number; at: number; length: number; body: Uint8Array; next: number };

/** Markers without a length: TEM, RST0-7, SOI, EOI. */
function standalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

/** Reads the marker at byte `at` of a JPEG (after any FF fill bytes) and its segment, if it has one. */
export function readJpegMarker(bytes: Uint8Array, at: number): JpegMarkerRead {
  if (at >= bytes.length) return { kind: "end" };
  if (bytes[at] !== 0xff) return { kind: "not-marker", found: bytes[at] };
  while (at < bytes.length && bytes[at] === 0xff) at++;
  if (at >= bytes.length) return { kind: "no-code" };
  const marker = bytes[at++];
  if (standalone(marker)) return { kind: "standalone", marker, next: at };
  if (at + 2 > bytes.length) return { kind: "no-length", marker, at };
  const length = (bytes[at] << 8) | bytes[at + 1];
  if (length < 2 || at + length > bytes.length) return { kind: "overrun", marker, at, length };
  return { kind: "segment", marker, at, length, body: bytes.subarray(at + 2, at + length), next: at + length };
}
