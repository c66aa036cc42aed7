// Image decoding to RGBA: JPEG (jpeg-js) and PNG (fast-png), sniffed by magic bytes.
// Pure JS, no node: imports, so it runs in every runtime including browsers.

import { decode as decodePng, type DecodedPng } from "fast-png";
import { decode as decodeJpeg } from "jpeg-js";
import { ImageError } from "../../host/errors.js";

/** ImageData-like picture: row-major, 4 bytes per pixel (R, G, B, A), each 0..255; data.length = width*height*4. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** Largest image, in pixels (width*height), that decodeImage accepts; checked from the header before decoding. */
export const MAX_IMAGE_PIXELS = 50_000_000;

/**
 * Memory budget handed to jpeg-js: about 20 bytes per pixel of the largest allowed image
 * (int32 DCT coefficients and 8-bit planes for 3 components, plus the RGBA output).
 */
const JPEG_MAX_MEMORY_MB = Math.ceil((MAX_IMAGE_PIXELS * 20) / 2 ** 20);

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

/** Throws ImageError when width*height exceeds MAX_IMAGE_PIXELS. */
function checkPixelLimit(width: number, height: number, name: string): void {
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImageError(
      name,
      `image too large: expected at most ${MAX_IMAGE_PIXELS} pixels, found ${width}x${height} = ${width * height} pixels`,
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
 * Decodes a JPEG or PNG file to 8-bit RGBA. `file` names the source in errors.
 * Every failure is an ImageError: empty input, unknown or unsupported format (GIF, BMP,
 * WebP, TIFF), truncated or corrupt data (decoder error as `cause`), zero size, or more
 * than MAX_IMAGE_PIXELS pixels.
 */
export function decodeImage(bytes: Uint8Array, file: string): RgbaImage {
  if (bytes.length === 0) throw new ImageError(file, `empty file: expected ${SUPPORTED}, found 0 bytes`);
  if (startsWith(bytes, JPEG_MAGIC)) return decodeJpegRgba(bytes, file);
  if (startsWith(bytes, PNG_MAGIC)) return decodePngRgba(bytes, file);
  const known = UNSUPPORTED.find((f) => startsWith(bytes, f.magic));
  if (known) {
    throw new ImageError(
      file,
      `unsupported image format: expected ${SUPPORTED}, found a ${known.name} image; convert it to PNG or JPEG`,
    );
  }
  throw new ImageError(file, `not an image: expected ${SUPPORTED}, found first bytes ${preview(bytes)}`);
}

function decodeJpegRgba(bytes: Uint8Array, file: string): RgbaImage {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = decodeJpeg(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
      maxMemoryUsageInMB: JPEG_MAX_MEMORY_MB,
    });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    if (/^max(ResolutionInMP|MemoryUsageInMB)/.test(message)) {
      throw new ImageError(
        file,
        `image too large: expected at most ${MAX_IMAGE_PIXELS} pixels, found more (jpeg-js: ${message})`,
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

/** PNG IHDR fields (read by hand so the size limit applies before fast-png allocates anything). */
interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

function readPngHeader(bytes: Uint8Array, file: string): PngHeader {
  // signature (8) + chunk length (4) + "IHDR" (4) + 13 data bytes + CRC (4)
  const ihdrType = String.fromCharCode(...bytes.subarray(12, 16));
  if (bytes.length < 33 || ihdrType !== "IHDR") {
    throw new ImageError(
      file,
      `truncated or corrupt PNG: expected an IHDR chunk after the signature, found ${bytes.length < 33 ? `only ${bytes.length} bytes` : `"${ihdrType}"`}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    width: view.getUint32(16),
    height: view.getUint32(20),
    depth: bytes[24],
    colorType: bytes[25],
    interlaced: bytes[28] !== 0,
  };
}

function decodePngRgba(bytes: Uint8Array, file: string): RgbaImage {
  const header = readPngHeader(bytes, file);
  checkDimensions(header.width, header.height, file);
  checkPixelLimit(header.width, header.height, file);
  if (header.interlaced && header.depth < 8) {
    // fast-png 8 mis-reads Adam7 passes with packed (1/2/4-bit) samples.
    throw new ImageError(
      file,
      `unsupported PNG variant: expected a non-interlaced image or a bit depth of 8 or 16, found an interlaced ${header.depth}-bit image; re-save it without interlacing`,
    );
  }
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
  return pngToRgba(png, header.colorType, file);
}

/**
 * Converts fast-png output to 8-bit RGBA. fast-png returns samples as stored: 16-bit in a
 * Uint16Array, 1/2/4-bit packed MSB-first with each row padded to a whole byte, palette
 * entries as indices. 16-bit keeps the high byte, 1/2/4-bit grey is scaled to 0..255,
 * grey is replicated to R, G, B, and alpha is 255 unless the image has an alpha channel,
 * palette alpha (tRNS) or a tRNS colour key (matching pixels get alpha 0).
 */
function pngToRgba(png: DecodedPng, colorType: number, file: string): RgbaImage {
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
  const out = new Uint8Array(width * height * 4);
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
