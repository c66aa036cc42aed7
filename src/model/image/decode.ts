// Image decoding to RGBA, the format sniffed by its magic bytes: PNG by fast-png (chunk CRCs, the
// zlib stream and the IHDR's scanline bytes checked here first); JPEG at a reduced DCT scale by
// jpeg.ts where it reads the file (sequential Huffman, 1 or 3 components), else (progressive files,
// full size) by jpeg-js after this module's structure check and jpeg.ts's scan-data check. Pure JS,
// no node: imports, so it runs in every runtime including browsers.

import { decode as decodePng, type DecodedPng } from "fast-png";
import { decode as decodeJpeg } from "jpeg-js";
import { ImageError } from "../../host/errors.js";
import { inflateBounded } from "../formats/zlib.js";
import { checkJpegScanData, decodeJpegScaled, forEachJpegTable, isJpegUnsupported } from "./jpeg.js";
import { readJpegMarker } from "./jpegMarkers.js";
import { DEFAULT_MAX_IMAGE_PIXELS, type RgbaImage } from "./rgba.js";
import { scratch, type Workspace } from "./workspace.js";

export { DEFAULT_MAX_IMAGE_PIXELS, type RgbaImage } from "./rgba.js";

/** Options of decodeImage. */
export interface DecodeOptions {
  /** Largest width*height accepted (default DEFAULT_MAX_IMAGE_PIXELS). */
  maxPixels?: number;
  /**
   * A JPEG is decoded at the smallest DCT scale (1/1, 1/2, 1/4, 1/8) that keeps at least this many
   * pixels on its short side (jpeg.ts; default Infinity: full resolution). Progressive JPEGs and
   * layouts that decoder does not read are decoded in full by jpeg-js.
   */
  minShortSide?: number;
  /**
   * Scratch memory reused across calls (workspace.ts) for the JPEG decoder's planes and the RGBA
   * output of JPEGs decoded by jpeg.ts and of PNGs: the returned pixels are then a view of the
   * workspace, valid until its next use. Default: fresh arrays. (jpeg-js and fast-png allocate their
   * own.)
   */
  workspace?: Workspace;
}

/**
 * Memory budget handed to jpeg-js: about 20 bytes per pixel of the largest allowed image
 * (int32 DCT coefficients and 8-bit planes for 3 components, plus the RGBA output).
 */
const jpegMaxMemoryMb = (maxPixels: number): number => Math.ceil((maxPixels * 20) / 2 ** 20);

const JPEG_MAGIC = [0xff, 0xd8, 0xff];
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const SUPPORTED = "a JPEG (starting FF D8 FF) or PNG (starting 89 50 4E 47 0D 0A 1A 0A) image";

/** Formats recognised by their magic bytes only to name them in the error. */
const UNSUPPORTED: { name: string; magic: (number | undefined)[] }[] = [
  { name: "GIF", magic: [0x47, 0x49, 0x46, 0x38] }, // "GIF8"
  { name: "BMP", magic: [0x42, 0x4d] }, // "BM"
  { name: "WebP", magic: [0x52, 0x49, 0x46, 0x46, undefined, undefined, undefined, undefined, 0x57, 0x45, 0x42, 0x50] }, // "RIFF....WEBP"
  { name: "TIFF", magic: [0x49, 0x49, 0x2a, 0x00] }, // "II*\0"
  { name: "TIFF", magic: [0x4d, 0x4d, 0x00, 0x2a] }, // "MM\0*"
];

/** True when bytes start with magic (undefined entries match any byte). */
function startsWith(bytes: Uint8Array, magic: readonly (number | undefined)[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => b === undefined || bytes[i] === b);
}

/** First bytes as hex plus a printable-ASCII rendering, for "found ..." messages. */
function preview(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 16);
  const hex = Array.from(head, (b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ");
  const text = Array.from(head, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
  return `${hex} ("${text}")`;
}

/** Throws ImageError unless width and height are positive integers. */
function checkDimensions(width: number, height: number, name: string): void {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new ImageError(
      name,
      `invalid image size: expected width and height to be positive integers, found ${width}x${height}`,
    );
  }
}

/** Throws ImageError when width*height exceeds maxPixels. */
function checkPixelLimit(width: number, height: number, maxPixels: number, name: string): void {
  if (width * height > maxPixels) {
    throw new ImageError(
      name,
      `image too large: expected at most ${maxPixels} pixels (option maxImagePixels), ` +
        `found ${width}x${height} = ${width * height} pixels in its header`,
    );
  }
}

/**
 * Checks that image is a usable RgbaImage: width and height positive integers, data a
 * Uint8Array or Uint8ClampedArray of exactly width*height*4 bytes. Throws ImageError naming `name`.
 */
export function validateRgba(image: RgbaImage, name: string): void {
  checkDimensions(image.width, image.height, name);
  const data: unknown = image.data; // callers from plain JS may pass anything
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    const found = typeof data === "object" && data !== null ? data.constructor.name : typeof data;
    throw new ImageError(name, `invalid pixel data: expected a Uint8Array or Uint8ClampedArray, found ${found}`);
  }
  const expected = image.width * image.height * 4;
  if (data.length !== expected) {
    throw new ImageError(
      name,
      `invalid pixel data: expected ${expected} bytes (${image.width}x${image.height} RGBA), found ${data.length}`,
    );
  }
}

/**
 * Most bytes an encoded image of `maxPixels` pixels is read to from a stream: 8 a pixel (16-bit
 * RGBA), 1 more for PNG's filter byte per row (at most one a pixel), and 16 MiB for metadata
 * (EXIF, ICC profiles) and chunk or block overhead. Larger streams are not images within the limit.
 */
export function maxEncodedBytes(maxPixels: number): number {
  return 9 * maxPixels + (16 << 20);
}

/**
 * The bytes of an image given as a stream (e.g. a fetch body or a request), read whole but never
 * past maxEncodedBytes(maxPixels): a longer stream is cancelled and an ImageError naming `file`.
 * Chunks that are not Uint8Arrays are an ImageError too.
 */
export async function readImageStream(
  stream: ReadableStream<Uint8Array>,
  file: string,
  maxPixels = DEFAULT_MAX_IMAGE_PIXELS,
): Promise<Uint8Array> {
  const limit = maxEncodedBytes(maxPixels);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!((value as unknown) instanceof Uint8Array)) {
      await reader.cancel();
      const chunk: unknown = value;
      const found =
        typeof chunk === "object" && chunk !== null ? (chunk.constructor?.name ?? "an object") : typeof chunk;
      throw new ImageError(file, `image stream: expected Uint8Array chunks, found ${found}`);
    }
    length += value.length;
    if (length > limit) {
      await reader.cancel();
      throw new ImageError(
        file,
        `image stream too long: expected at most ${limit} bytes for an image of at most ${maxPixels} pixels, found more`,
      );
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

/**
 * Decodes a JPEG or PNG file to 8-bit RGBA. `file` names the source in errors.
 * Every failure is an ImageError: empty input, unknown or unsupported format (GIF, BMP,
 * WebP, TIFF; arithmetic-coded, lossless, hierarchical or 12-bit JPEG), truncated or corrupt
 * data (decoder error as `cause`), zero size, or more than `maxPixels` pixels (read from the
 * header, before decoding). Checked as libpng and libjpeg do: PNG chunk CRCs, the zlib
 * Adler-32, the scanline bytes the IHDR implies against the inflated data (inflation stops
 * there); a JPEG's tables, scan data (a sequential JPEG's entropy-coded data must fit its headers:
 * neither run out nor go on) and end-of-image marker.
 */
export function decodeImage(bytes: Uint8Array, file: string, options: DecodeOptions = {}): RgbaImage {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  if (bytes.length === 0) throw new ImageError(file, `empty file: expected ${SUPPORTED}, found 0 bytes`);
  if (startsWith(bytes, JPEG_MAGIC)) {
    if (options.minShortSide !== undefined && options.minShortSide !== Number.POSITIVE_INFINITY) {
      const scaled = decodeJpegScaled(bytes, file, {
        minShortSide: options.minShortSide,
        maxPixels,
        workspace: options.workspace,
      });
      if (!isJpegUnsupported(scaled)) return scaled;
    }
    return decodeJpegRgba(bytes, file, maxPixels);
  }
  if (startsWith(bytes, PNG_MAGIC)) return decodePngRgba(bytes, file, maxPixels, options.workspace);
  const known = UNSUPPORTED.find((f) => startsWith(bytes, f.magic));
  if (known) {
    throw new ImageError(
      file,
      `unsupported image format: expected ${SUPPORTED}, found a ${known.name} image; convert it to PNG or JPEG`,
    );
  }
  throw new ImageError(file, `not an image: expected ${SUPPORTED}, found first bytes ${preview(bytes)}`);
}

/** SOF markers jpeg-js cannot decode, by what they are. */
const JPEG_UNSUPPORTED_SOF: ReadonlyMap<number, string> = new Map([
  [0xc3, "lossless (SOF3)"],
  [0xc5, "hierarchical (SOF5)"],
  [0xc6, "hierarchical progressive (SOF6)"],
  [0xc7, "hierarchical lossless (SOF7)"],
  [0xc9, "arithmetic-coded (SOF9)"],
  [0xca, "arithmetic-coded progressive (SOF10)"],
  [0xcb, "arithmetic-coded lossless (SOF11)"],
  [0xcd, "arithmetic-coded hierarchical (SOF13)"],
  [0xce, "arithmetic-coded hierarchical progressive (SOF14)"],
  [0xcf, "arithmetic-coded hierarchical lossless (SOF15)"],
]);

/** A JPEG frame header: component ids and the quantization table id of each. */
interface JpegFrame {
  components: number[];
  quantIds: number[];
  progressive: boolean;
}

/** The ids of the JPEG tables defined so far, by kind. */
interface JpegTableIds {
  quant: Set<number>;
  dc: Set<number>;
  ac: Set<number>;
}

/**
 * Walks a JPEG's marker segments up to its first scan without decoding anything: names
 * unsupported kinds (arithmetic coding, lossless, hierarchical, 12-bit), checks the frame size
 * against maxPixels, and requires a frame header, a scan with entropy-coded data and an
 * end-of-image marker after it, and (as libjpeg) the tables that scan uses defined before it.
 */
function checkJpegStructure(bytes: Uint8Array, file: string, maxPixels: number): void {
  const corrupt = (message: string): never => {
    throw new ImageError(file, `truncated or corrupt JPEG: ${message}`);
  };
  let frame: JpegFrame | undefined;
  const tables: JpegTableIds = { quant: new Set(), dc: new Set(), ac: new Set() };
  let at = 2;
  for (;;) {
    const read = readJpegMarker(bytes, at);
    switch (read.kind) {
      case "end":
        return corrupt(`expected a marker at byte ${at}, found the end of the file (no scan data)`);
      case "not-marker":
        return corrupt(`expected a marker (FF xx) at byte ${at}, found ${read.found.toString(16)}`);
      case "no-code":
        return corrupt("expected a marker, found the end of the file (no scan data)");
      case "standalone":
        if (read.marker === 0xd9)
          corrupt("expected a scan (SOS marker) before the end-of-image marker, found none (no image data)");
        at = read.next;
        continue;
      case "no-length":
        return corrupt(`expected a segment length at byte ${read.at}, found the end of the file`);
      case "overrun":
        return corrupt(
          `segment FF ${read.marker.toString(16).toUpperCase()} at byte ${read.at - 2}: length ${read.length} runs past the file`,
        );
    }
    const { marker, length, body } = read;
    const unsupported = JPEG_UNSUPPORTED_SOF.get(marker);
    if (unsupported || marker === 0xcc) {
      throw new ImageError(
        file,
        `unsupported JPEG kind: expected a baseline or progressive Huffman-coded JPEG, found ` +
          `${unsupported ?? "arithmetic-coded (DAC segment)"}; re-save it as a standard JPEG or PNG`,
      );
    }
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      if (length < 8) corrupt(`frame header of ${length} bytes: expected at least 8`);
      const precision = body[0];
      const height = (body[1] << 8) | body[2];
      const width = (body[3] << 8) | body[4];
      if (precision !== 8) {
        throw new ImageError(
          file,
          `unsupported JPEG kind: expected 8-bit samples, found ${precision}-bit${precision === 12 ? " (12-bit JPEG)" : ""}`,
        );
      }
      checkDimensions(width, height, file);
      checkPixelLimit(width, height, maxPixels, file);
      const count = body[5];
      if (count < 1 || count > 4 || length !== 8 + 3 * count) {
        corrupt(`frame header: expected 1-4 components in 8 + 3 x components bytes, found ${count} in ${length}`);
      }
      const components = Array.from({ length: count }, (_, i) => body[6 + 3 * i]);
      const quantIds = Array.from({ length: count }, (_, i) => body[8 + 3 * i]);
      frame = { components, quantIds, progressive: marker === 0xc2 };
    }
    if (marker === 0xdb || marker === 0xc4) {
      const ids = (tableClass: number): Set<number> =>
        marker === 0xdb ? tables.quant : tableClass === 0 ? tables.dc : tables.ac;
      forEachJpegTable(body, marker, (c, id) => ids(c).add(id), corrupt);
    }
    if (marker === 0xda) {
      if (!frame) return corrupt("expected a frame header (SOF0, SOF1 or SOF2) before the first scan, found none");
      checkScanHeader(body, frame, tables, corrupt);
      const data = read.next;
      if (data >= bytes.length || (bytes[data] === 0xff && bytes[data + 1] !== 0x00)) {
        corrupt(`expected entropy-coded data after the scan header at byte ${read.at - 2}, found none (no scan data)`);
      }
      for (let i = bytes.length - 2; i >= data; i--) if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return;
      corrupt("expected an end-of-image marker (FF D9) after the scan data, found none (truncated file)");
    }
    at = read.next;
  }
}

/**
 * The first scan header (SOS segment without its length) against the frame, as libjpeg reads it:
 * its length fits its component count, each component is one of the frame's (once), table ids
 * 0-3, the spectral selection and successive approximation a sequential (Ss 0, Se 63, Ah Al 0)
 * or progressive (DC Ss = Se = 0, or AC 1 <= Ss <= Se <= 63; Ah, Al <= 13) scan allows, and the
 * quantization and Huffman tables its components use are defined.
 */
function checkScanHeader(
  sos: Uint8Array,
  frame: JpegFrame,
  defined: JpegTableIds,
  corrupt: (message: string) => never,
): void {
  const count = sos[0];
  if (count < 1 || count > frame.components.length || sos.length !== 4 + 2 * count) {
    corrupt(
      `scan header: expected 1-${frame.components.length} components in 6 + 2 x components bytes, found ${count} in ${sos.length + 2}`,
    );
  }
  const ss = sos[1 + 2 * count],
    se = sos[2 + 2 * count],
    ah = sos[3 + 2 * count] >> 4,
    al = sos[3 + 2 * count] & 15;
  const ok = frame.progressive
    ? (ss === 0 ? se === 0 : ss <= se && se <= 63) && ah <= 13 && al <= 13
    : ss === 0 && se === 63 && ah === 0 && al === 0;
  if (!ok) {
    const kind = frame.progressive ? "progressive" : "sequential";
    corrupt(`scan header: Ss ${ss}, Se ${se}, Ah ${ah}, Al ${al} is not a valid ${kind} scan`);
  }
  const usesDc = ss === 0 && ah === 0,
    usesAc = se > 0;
  const seen = new Set<number>();
  for (let i = 0; i < count; i++) {
    const id = sos[1 + 2 * i];
    const tables = sos[2 + 2 * i];
    const index = frame.components.indexOf(id);
    if (index < 0 || seen.has(id)) {
      corrupt(`scan header: expected each of the frame's components [${frame.components}] at most once, found ${id}`);
    }
    if (tables >> 4 > 3 || (tables & 15) > 3) corrupt(`scan header: expected Huffman table ids 0-3, found ${tables}`);
    seen.add(id);
    const missing = (kind: string, table: number): never =>
      corrupt(`component ${id}: expected ${kind} table ${table} defined before the first scan, found none`);
    if (!defined.quant.has(frame.quantIds[index])) missing("quantization", frame.quantIds[index]);
    if (usesDc && !defined.dc.has(tables >> 4)) missing("DC Huffman", tables >> 4);
    if (usesAc && !defined.ac.has(tables & 15)) missing("AC Huffman", tables & 15);
  }
}

function decodeJpegRgba(bytes: Uint8Array, file: string, maxPixels: number): RgbaImage {
  checkJpegStructure(bytes, file, maxPixels);
  checkJpegScanData(bytes, file, maxPixels);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = decodeJpeg(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: jpegMaxMemoryMb(maxPixels),
    });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    if (/^max(ResolutionInMP|MemoryUsageInMB)/.test(message)) {
      throw new ImageError(
        file,
        `image too large: expected at most ${maxPixels} pixels, found more (jpeg-js: ${message})`,
        { cause },
      );
    }
    throw new ImageError(
      file,
      `truncated or corrupt JPEG: expected complete baseline or progressive JPEG data, found a decoder error: ${message}`,
      { cause },
    );
  }
  checkDimensions(decoded.width, decoded.height, file);
  return { width: decoded.width, height: decoded.height, data: decoded.data };
}

/** PNG IHDR fields (read by hand so the size limit applies before anything is inflated). */
interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

/** Samples per pixel of each PNG colour type, and the bit depths it allows. */
const PNG_COLOR_TYPES: ReadonlyMap<number, { channels: number; depths: readonly number[] }> = new Map([
  [0, { channels: 1, depths: [1, 2, 4, 8, 16] }],
  [2, { channels: 3, depths: [8, 16] }],
  [3, { channels: 1, depths: [1, 2, 4, 8] }],
  [4, { channels: 2, depths: [8, 16] }],
  [6, { channels: 4, depths: [8, 16] }],
]);

/** Adam7 passes: x0, y0, dx, dy. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Bytes of filtered scanlines (a filter byte per row) the IHDR implies. */
function pngScanlineBytes(h: PngHeader): number {
  const channels = PNG_COLOR_TYPES.get(h.colorType)!.channels;
  const rowBytes = (w: number): number => 1 + Math.ceil((w * channels * h.depth) / 8);
  if (!h.interlaced) return h.height * rowBytes(h.width);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = Math.ceil((h.width - x0) / dx);
    const rows = Math.ceil((h.height - y0) / dy);
    if (w > 0 && rows > 0) total += rows * rowBytes(w);
  }
  return total;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, as PNG chunks use) of bytes. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Walks a PNG's chunks as libpng does before decoding: every chunk inside the file with a
 * valid CRC, IHDR first with legal fields, the size within maxPixels, IDAT present, IEND last;
 * then inflates the IDAT stream to exactly the scanline bytes the IHDR implies (stopping there)
 * and verifies its Adler-32. Returns the header.
 */
function checkPngStructure(bytes: Uint8Array, file: string, maxPixels: number): PngHeader {
  const corrupt = (message: string): never => {
    throw new ImageError(file, `truncated or corrupt PNG: ${message}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: PngHeader | undefined;
  const idat: Uint8Array[] = [];
  let at = 8;
  for (;;) {
    if (at + 12 > bytes.length) corrupt(`expected a chunk at byte ${at}, found the end of the file (no IEND)`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) {
      corrupt(`chunk "${type}" at byte ${at}: ${length} data bytes run past the end of the file`);
    }
    const stored = view.getUint32(at + 8 + length);
    const actual = crc32(bytes.subarray(at + 4, at + 8 + length));
    if (stored !== actual) {
      corrupt(`chunk "${type}" at byte ${at}: CRC mismatch, expected ${hex32(stored)}, found ${hex32(actual)}`);
    }
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (!header) {
      if (type !== "IHDR" || length !== 13) {
        corrupt(`expected a 13-byte IHDR chunk first, found "${type}" of ${length} bytes`);
      }
      header = {
        width: view.getUint32(at + 8),
        height: view.getUint32(at + 12),
        depth: data[8],
        colorType: data[9],
        interlaced: data[12] === 1,
      };
      const kind = PNG_COLOR_TYPES.get(header.colorType);
      if (!kind || !kind.depths.includes(header.depth) || data[10] !== 0 || data[11] !== 0 || data[12] > 1) {
        corrupt(
          `IHDR: expected a legal colour type/bit depth, compression 0, filter 0 and interlace 0 or 1, found ` +
            `colour type ${data[9]}, depth ${data[8]}, compression ${data[10]}, filter ${data[11]}, interlace ${data[12]}`,
        );
      }
      checkDimensions(header.width, header.height, file);
      checkPixelLimit(header.width, header.height, maxPixels, file);
      if (header.interlaced && header.depth < 8) {
        // fast-png 8 mis-reads Adam7 passes with packed (1/2/4-bit) samples.
        throw new ImageError(
          file,
          `unsupported PNG variant: expected a non-interlaced image or a bit depth of 8 or 16, found an interlaced ${header.depth}-bit image; re-save it without interlacing`,
        );
      }
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    at += 12 + length;
  }
  if (idat.length === 0) corrupt("expected image data (IDAT chunks), found none");
  const stream = new Uint8Array(idat.reduce((n, d) => n + d.length, 0));
  idat.reduce((o, d) => (stream.set(d, o), o + d.length), 0);
  const expected = pngScanlineBytes(header!);
  inflateBounded(stream, { exactBytes: expected }, (message) =>
    corrupt(
      `IHDR says ${header!.width}x${header!.height} (${expected} bytes of scanlines), but the image data: ${message}`,
    ),
  );
  return header!;
}

function decodePngRgba(bytes: Uint8Array, file: string, maxPixels: number, workspace?: Workspace): RgbaImage {
  const header = checkPngStructure(bytes, file, maxPixels);
  let png: DecodedPng;
  try {
    png = decodePng(bytes, { checkCrc: true });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new ImageError(
      file,
      `truncated or corrupt PNG: expected complete chunks with valid checksums, found a decoder error: ${message}`,
      { cause },
    );
  }
  return pngToRgba(png, header.colorType, file, workspace);
}

/**
 * Converts fast-png output to 8-bit RGBA. fast-png returns samples as stored: 16-bit in a
 * Uint16Array, 1/2/4-bit packed MSB-first with each row padded to a whole byte, palette
 * entries as indices. 16-bit keeps the high byte, 1/2/4-bit grey is scaled to 0..255,
 * grey is replicated to R, G, B, and alpha is 255 unless the image has an alpha channel,
 * palette alpha (tRNS) or a tRNS colour key (matching pixels get alpha 0). Writes into the
 * workspace's "rgba" slot when given.
 */
function pngToRgba(png: DecodedPng, colorType: number, file: string, workspace?: Workspace): RgbaImage {
  const { width, height, depth, channels, data } = png;
  const maxSample = 2 ** depth - 1;
  const rowBytes = Math.ceil((width * channels * depth) / 8);
  /** Raw sample s (0 .. width*channels-1) of row y, in 0..maxSample. */
  const sample =
    depth >= 8
      ? (y: number, s: number): number => data[y * width * channels + s]
      : (y: number, s: number): number => {
          const bit = s * depth;
          return (data[y * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & maxSample;
        };
  const level = (v: number): number => (depth === 16 ? v >>> 8 : (v * 255) / maxSample);
  const key = png.transparency; // grey: [k]; RGB: [r, g, b]; raw sample values
  if (colorType === 3 && !png.palette) {
    throw new ImageError(file, "corrupt PNG: expected a PLTE chunk in an indexed-colour image, found none");
  }
  const palette = png.palette ?? [];
  const out = scratch(workspace, Uint8Array, "rgba", width * height * 4);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o += 4) {
      const s = x * channels;
      let r: number,
        g: number,
        b: number,
        a = 255;
      switch (colorType) {
        case 0: // grey
        case 4: {
          // grey + alpha
          const v = sample(y, s);
          r = g = b = level(v);
          if (colorType === 4) a = level(sample(y, s + 1));
          else if (key && key[0] === v) a = 0;
          break;
        }
        case 2: // RGB
        case 6: {
          // RGBA
          const vr = sample(y, s),
            vg = sample(y, s + 1),
            vb = sample(y, s + 2);
          r = level(vr);
          g = level(vg);
          b = level(vb);
          if (colorType === 6) a = level(sample(y, s + 3));
          else if (key && key[0] === vr && key[1] === vg && key[2] === vb) a = 0;
          break;
        }
        case 3: {
          // palette; entries are [r, g, b] or [r, g, b, a]
          const index = sample(y, s);
          const entry = palette[index];
          if (!entry) {
            throw new ImageError(
              file,
              `corrupt PNG: expected palette indices below ${palette.length}, found ${index} at pixel (${x}, ${y})`,
            );
          }
          [r, g, b] = entry as [number, number, number];
          a = entry[3] ?? 255;
          break;
        }
        default:
          throw new ImageError(file, `corrupt PNG: expected colour type 0, 2, 3, 4 or 6, found ${colorType}`);
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = a;
    }
  }
  return { width, height, data: out };
}

const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;
