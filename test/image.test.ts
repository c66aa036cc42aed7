import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encode as encodePng, type ImageData as PngImageData } from "fast-png";
import { encode as encodeJpeg } from "jpeg-js";
import { ImageError } from "../src/host/errors.js";
import {
  decodeImage,
  DEFAULT_MAX_IMAGE_PIXELS,
  maxEncodedBytes,
  readImageStream,
  validateRgba,
  type RgbaImage,
} from "../src/model/image/decode.js";

const dataDir =
  process.env.INCEPTION_WASM_DATA ?? fileURLToPath(new URL("../../../shared/googlenet/", import.meta.url));
const photo = (name: string): Uint8Array => readFileSync(join(dataDir, "photos", name));

/** Runs fn, asserts it throws an ImageError whose message matches every pattern, returns it. */
function imageError(fn: () => unknown, ...patterns: RegExp[]): ImageError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  if (!(error instanceof ImageError)) {
    throw new assert.Assertion({
      message: `expected an ImageError, found ${String(error)}`,
      operator: "throws",
      expects: "ImageError",
      actual: error,
    });
  }
  for (const p of patterns) assert.match(error.message, p);
  return error;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

// --- independent PNG chunk helpers (CRC-32 per the PNG spec) ---

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function chunk(type: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length);
  out.set(bytes(type), 4);
  out.set(payload, 8);
  let crc = 0xffffffff;
  for (const b of out.subarray(4, 8 + payload.length)) crc = CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  view.setUint32(8 + payload.length, (crc ^ 0xffffffff) >>> 0);
  return out;
}

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A PNG holding only a signature and an IHDR chunk. */
function pngHeaderOnly(width: number, height: number, depth: number, colorType: number, interlace = 0): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([depth, colorType, 0, 0, interlace], 8);
  return concat(PNG_SIGNATURE, chunk("IHDR", ihdr));
}

/** Inserts an extra chunk right after IHDR (offset 33) of an encoded PNG. */
const withChunk = (png: Uint8Array, type: string, payload: Uint8Array): Uint8Array =>
  concat(png.subarray(0, 33), chunk(type, payload), png.subarray(33));

/** Packs 1/2/4-bit samples MSB-first, each row padded to a whole byte (the PNG layout). */
function pack(samples: number[], width: number, depth: number): Uint8Array {
  const rowBytes = Math.ceil((width * depth) / 8);
  const height = samples.length / width;
  const out = new Uint8Array(rowBytes * height);
  samples.forEach((v, i) => {
    const y = Math.floor(i / width),
      bit = (i % width) * depth;
    out[y * rowBytes + (bit >> 3)] |= v << (8 - depth - (bit & 7));
  });
  return out;
}

const rgba = (image: RgbaImage): number[] => Array.from(image.data);

// --- real photos ---

// Width x height read independently from each file's IHDR / SOF0 header (python3 struct).
const PHOTO_SIZES: Record<string, [number, number]> = {
  "chelsea.png": [451, 300],
  "coffee.png": [600, 400],
  "rocket.jpg": [640, 427],
  "squirrel_cls.jpg": [535, 426],
  "fruits.jpg": [512, 480],
  "eagle.jpg": [773, 512],
  "sample_input.jpg": [400, 266],
};

test("decodes every photo listed in photos.tsv with its header size, opaque and not flat", () => {
  const rows = readFileSync(join(dataDir, "photos", "photos.tsv"), "utf8")
    .trim()
    .split("\n")
    .slice(1);
  assert.is(rows.length, 7);
  for (const row of rows) {
    const name = row.split("\t")[0];
    const size = PHOTO_SIZES[name];
    assert.ok(size, `no expected size for ${name}`);
    const image = decodeImage(photo(name), name);
    assert.equal([image.width, image.height], size, name);
    assert.is(image.data.length, image.width * image.height * 4, name);
    let min = 255,
      max = 0,
      translucent = 0;
    for (let i = 0; i < image.data.length; i += 4) {
      if (image.data[i + 3] !== 255) translucent++;
      min = Math.min(min, image.data[i], image.data[i + 1], image.data[i + 2]);
      max = Math.max(max, image.data[i], image.data[i + 1], image.data[i + 2]);
    }
    assert.is(translucent, 0, `${name}: pixels with alpha < 255`);
    assert.ok(max - min > 150, `${name}: pixel range ${min}..${max}`);
  }
});

test("real PNG pixels equal an independent decode (python3 zlib + PNG unfilter)", () => {
  const expected: [string, number, number, number[]][] = [
    ["chelsea.png", 0, 0, [143, 120, 104]],
    ["chelsea.png", 123, 45, [141, 98, 66]],
    ["chelsea.png", 225, 150, [190, 150, 124]],
    ["chelsea.png", 450, 299, [162, 138, 128]],
    ["coffee.png", 599, 0, [228, 184, 140]],
    ["coffee.png", 300, 200, [248, 250, 255]],
    ["coffee.png", 599, 399, [143, 60, 29]],
  ];
  for (const [name, x, y, rgb] of expected) {
    const image = decodeImage(photo(name), name);
    const o = (y * image.width + x) * 4;
    assert.equal(Array.from(image.data.subarray(o, o + 4)), [...rgb, 255], `${name} (${x}, ${y})`);
  }
});

test("JPEG round trip: a flat colour encoded at quality 100 decodes to RGBA within 2 levels", () => {
  const width = 24,
    height = 16;
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set([200, 100, 50, 255], i);
  const jpeg = encodeJpeg({ width, height, data }, 100).data;
  const image = decodeImage(jpeg, "flat.jpg");
  assert.equal([image.width, image.height], [width, height]);
  for (let i = 0; i < image.data.length; i += 4) {
    assert.ok(
      Math.abs(image.data[i] - 200) <= 2 &&
        Math.abs(image.data[i + 1] - 100) <= 2 &&
        Math.abs(image.data[i + 2] - 50) <= 2,
    );
    assert.is(image.data[i + 3], 255);
  }
});

// --- synthetic PNGs: every colour type and bit depth ---

function decodeEncoded(png: PngImageData, interlace: "null" | "Adam7" = "null"): RgbaImage {
  return decodeImage(encodePng(png, { interlace }), "synthetic.png");
}

test("PNG 8-bit grey, grey+alpha, RGB and RGBA (plain and Adam7) decode exactly", () => {
  for (const interlace of ["null", "Adam7"] as const) {
    // 3x2 so Adam7 passes are partly empty
    const grey = decodeEncoded(
      { width: 3, height: 2, channels: 1, depth: 8, data: Uint8Array.of(0, 10, 20, 128, 254, 255) },
      interlace,
    );
    assert.equal(
      rgba(grey),
      [0, 0, 0, 255, 10, 10, 10, 255, 20, 20, 20, 255, 128, 128, 128, 255, 254, 254, 254, 255, 255, 255, 255, 255],
    );
    const greyAlpha = decodeEncoded(
      { width: 2, height: 1, channels: 2, depth: 8, data: Uint8Array.of(7, 0, 200, 99) },
      interlace,
    );
    assert.equal(rgba(greyAlpha), [7, 7, 7, 0, 200, 200, 200, 99]);
    const rgb = decodeEncoded(
      { width: 1, height: 2, channels: 3, depth: 8, data: Uint8Array.of(1, 2, 3, 250, 128, 0) },
      interlace,
    );
    assert.equal(rgba(rgb), [1, 2, 3, 255, 250, 128, 0, 255]);
    const rgbaData = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 37) % 256);
    assert.equal(
      rgba(decodeEncoded({ width: 3, height: 2, channels: 4, depth: 8, data: rgbaData }, interlace)),
      Array.from(rgbaData),
    );
  }
});

test("PNG 16-bit keeps the high byte of every sample", () => {
  const values = [0x0000, 0x00ff, 0x0100, 0x1234, 0xfedc, 0xffff];
  const high = values.map((v) => v >> 8); // [0, 0, 1, 0x12, 0xfe, 0xff]
  const grey = decodeEncoded({ width: 6, height: 1, channels: 1, depth: 16, data: Uint16Array.from(values) });
  assert.equal(
    rgba(grey),
    high.flatMap((v) => [v, v, v, 255]),
  );
  const greyAlpha = decodeEncoded({ width: 3, height: 1, channels: 2, depth: 16, data: Uint16Array.from(values) });
  assert.equal(rgba(greyAlpha), [0, 0, 0, 0, 1, 1, 1, 0x12, 0xfe, 0xfe, 0xfe, 0xff]);
  const rgb = decodeEncoded({ width: 2, height: 1, channels: 3, depth: 16, data: Uint16Array.from(values) }, "Adam7");
  assert.equal(rgba(rgb), [0, 0, 1, 255, 0x12, 0xfe, 0xff, 255]);
  const rgbaImage = decodeEncoded({
    width: 1,
    height: 2,
    channels: 4,
    depth: 16,
    data: Uint16Array.from([...values, 0x8000, 0x7fff]),
  });
  assert.equal(rgba(rgbaImage), [...high, 0x80, 0x7f]);
});

test("PNG 1/2/4-bit grey is unpacked per row and scaled to 0..255", () => {
  for (const depth of [1, 2, 4]) {
    const max = 2 ** depth - 1;
    const width = 5,
      height = 3; // 5 samples per row: rows are byte-padded
    const samples = Array.from({ length: width * height }, (_, i) => (i * 7) % (max + 1));
    const image = decodeEncoded({
      width,
      height,
      channels: 1,
      depth: depth as 1 | 2 | 4,
      data: pack(samples, width, depth),
    });
    assert.equal(
      rgba(image),
      samples.flatMap((v) => {
        const g = (v * 255) / max;
        return [g, g, g, 255];
      }),
      `${depth}-bit`,
    );
  }
});

test("PNG palette (8-bit and packed 1/2/4-bit) expands entries, with tRNS alpha", () => {
  const palette = [
    [10, 20, 30, 0],
    [40, 50, 60, 128],
    [70, 80, 90, 255],
    [100, 110, 120, 255],
  ];
  const indices = [3, 0, 1, 2, 2, 1, 0, 3, 1];
  const expected = indices.flatMap((i) => palette[i]);
  for (const depth of [8, 4, 2]) {
    const data = depth === 8 ? Uint8Array.from(indices) : pack(indices, 3, depth);
    const image = decodeEncoded({ width: 3, height: 3, channels: 1, depth: depth as 2 | 4 | 8, data, palette });
    assert.equal(rgba(image), expected, `${depth}-bit palette`);
  }
  const opaque = [
    [255, 0, 0],
    [0, 0, 255],
  ];
  const oneBit = decodeEncoded({
    width: 3,
    height: 1,
    channels: 1,
    depth: 1,
    data: pack([1, 0, 1], 3, 1),
    palette: opaque,
  });
  assert.equal(rgba(oneBit), [0, 0, 255, 255, 255, 0, 0, 255, 0, 0, 255, 255]);
});

test("PNG tRNS colour key makes matching grey / RGB pixels transparent", () => {
  const grey = encodePng({ width: 3, height: 1, channels: 1, depth: 8, data: Uint8Array.of(5, 6, 5) });
  const keyedGrey = decodeImage(withChunk(grey, "tRNS", Uint8Array.of(0, 5)), "key.png");
  assert.equal(rgba(keyedGrey), [5, 5, 5, 0, 6, 6, 6, 255, 5, 5, 5, 0]);
  const rgb = encodePng({ width: 3, height: 1, channels: 3, depth: 8, data: Uint8Array.of(1, 2, 3, 1, 2, 4, 3, 2, 1) });
  const keyedRgb = decodeImage(withChunk(rgb, "tRNS", Uint8Array.of(0, 1, 0, 2, 0, 3)), "key.png");
  assert.equal(rgba(keyedRgb), [1, 2, 3, 0, 1, 2, 4, 255, 3, 2, 1, 255]);
});

// --- bad inputs ---

test("empty input is rejected, naming the file", () => {
  const e = imageError(() => decodeImage(new Uint8Array(0), "empty.jpg"), /empty/, /found 0 bytes/, /JPEG/, /PNG/);
  assert.is(e.file, "empty.jpg");
  assert.is(e.code, "E_IMAGE");
  assert.ok(e.message.startsWith("empty.jpg: "));
});

test("an HTML page or text file is 'not an image' with supported formats and first bytes in hex", () => {
  imageError(
    () => decodeImage(bytes("<!DOCTYPE html><html><body>404</body></html>"), "page.jpg"),
    /not an image/,
    /JPEG/,
    /PNG/,
    /found first bytes 3C 21 44 4F 43 54 59 50 45/,
    /\("<!DOCTYPE html><"\)/,
  );
  imageError(() => decodeImage(bytes("tench, Tinca tinca\n"), "labels.png"), /not an image/, /74 65 6E 63 68/);
  imageError(() => decodeImage(Uint8Array.of(0xff, 0xd8), "short.jpg"), /not an image/, /FF D8 \("\.\."\)/);
});

test("GIF, BMP, WebP and TIFF are recognised and named as unsupported", () => {
  const cases: [string, Uint8Array][] = [
    ["GIF", bytes("GIF89a\x01\x00\x01\x00")],
    ["GIF", bytes("GIF87a\x01\x00\x01\x00")],
    ["BMP", concat(bytes("BM"), new Uint8Array(52))],
    ["WebP", concat(bytes("RIFF"), Uint8Array.of(26, 0, 0, 0), bytes("WEBPVP8 "))],
    ["TIFF", Uint8Array.of(0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0)],
    ["TIFF", Uint8Array.of(0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8)],
  ];
  for (const [name, data] of cases) {
    imageError(
      () => decodeImage(data, "x.img"),
      /unsupported image format/,
      new RegExp(`found a ${name} image`),
      /JPEG/,
      /PNG/,
    );
  }
  // RIFF that is not WebP (e.g. WAV) is just not an image
  imageError(
    () => decodeImage(concat(bytes("RIFF"), Uint8Array.of(26, 0, 0, 0), bytes("WAVEfmt ")), "x.wav"),
    /not an image/,
  );
});

test("a truncated JPEG (first 1000 bytes of a photo) is rejected before decoding: no end-of-image marker", () => {
  imageError(
    () => decodeImage(photo("sample_input.jpg").subarray(0, 1000), "cut.jpg"),
    /truncated or corrupt JPEG/,
    /FF D9|runs past the file/,
  );
  const half = photo("eagle.jpg");
  imageError(() => decodeImage(half.subarray(0, half.length >> 1), "half.jpg"), /truncated or corrupt JPEG/);
});

test("a truncated or corrupt PNG is rejected naming the chunk and what was wrong", () => {
  const chelsea = photo("chelsea.png");
  imageError(
    () => decodeImage(chelsea.subarray(0, chelsea.length >> 1), "cut.png"),
    /truncated or corrupt PNG/,
    /run past the end of the file|no IEND/,
  );
  imageError(() => decodeImage(PNG_SIGNATURE, "sig.png"), /truncated or corrupt PNG/, /end of the file/);
  imageError(
    () => decodeImage(concat(PNG_SIGNATURE, chunk("IDAT", new Uint8Array(13))), "noihdr.png"),
    /expected a 13-byte IHDR chunk first/,
    /"IDAT"/,
  );
  // one flipped bit inside the compressed data: CRC mismatch
  const png = encodePng({ width: 4, height: 4, channels: 3, depth: 8, data: new Uint8Array(48).fill(9) });
  const corrupt = png.slice();
  corrupt[45] ^= 0x10; // inside the IDAT payload (IDAT data starts at 41)
  imageError(() => decodeImage(corrupt, "flip.png"), /truncated or corrupt PNG/, /"IDAT".*CRC mismatch/);
});

test("a PNG header claiming 100000x100000 is rejected by the pixel limit before decoding", () => {
  const e = imageError(
    () => decodeImage(pngHeaderOnly(100000, 100000, 8, 6), "huge.png"),
    /image too large/,
    new RegExp(`at most ${DEFAULT_MAX_IMAGE_PIXELS} pixels`),
    /100000x100000 = 10000000000 pixels/,
  );
  assert.is(e.cause, undefined); // rejected from the header, fast-png never ran
  imageError(() => decodeImage(pngHeaderOnly(0, 10, 8, 2), "zero.png"), /positive integers/, /found 0x10/);
});

test("a JPEG whose frame header claims 10000x10000 is rejected from its header before decoding", () => {
  const jpeg = photo("sample_input.jpg").slice();
  let sof = 2;
  while (!(jpeg[sof] === 0xff && jpeg[sof + 1] === 0xc0)) sof += 2 + ((jpeg[sof + 2] << 8) | jpeg[sof + 3]);
  new DataView(jpeg.buffer).setUint16(sof + 5, 10000); // height
  new DataView(jpeg.buffer).setUint16(sof + 7, 10000); // width
  const e = imageError(
    () => decodeImage(jpeg, "huge.jpg"),
    /image too large/,
    new RegExp(`at most ${DEFAULT_MAX_IMAGE_PIXELS} pixels`),
    /10000x10000 = 100000000 pixels in its header/,
  );
  assert.is(e.cause, undefined);
});

test("an interlaced PNG with packed 1/2/4-bit samples is rejected as unsupported", () => {
  imageError(
    () => decodeImage(pngHeaderOnly(8, 8, 1, 0, 1), "adam7.png"),
    /unsupported PNG variant/,
    /interlaced 1-bit/,
  );
});

// --- validateRgba ---

/** A stream of `chunks` (any values), for readImageStream. */
function streamOf(chunks: unknown[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c as Uint8Array);
      controller.close();
    },
  });
}

test("readImageStream joins a stream's chunks into the image's bytes", async () => {
  const png = photo("coffee.png");
  const chunks = [png.subarray(0, 7), png.subarray(7, 70_000), new Uint8Array(0), png.subarray(70_000)];
  const same = (bytes: Uint8Array): boolean => Buffer.compare(bytes, png) === 0;
  assert.ok(same(await readImageStream(streamOf(chunks), "coffee.png")), "4 chunks");
  assert.ok(same(await readImageStream(streamOf([png]), "coffee.png")), "1 chunk");
});

test("readImageStream refuses a stream longer than an image within the pixel limit, and non-byte chunks", async () => {
  const rejects = async (stream: ReadableStream<Uint8Array>, maxPixels: number, pattern: RegExp): Promise<void> => {
    const error = await readImageStream(stream, "upload", maxPixels).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.instance(error, ImageError);
    assert.match((error as Error).message, /^upload: /);
    assert.match((error as Error).message, pattern);
  };
  const limit = maxEncodedBytes(100);
  assert.is(limit, 900 + (16 << 20));
  await rejects(
    streamOf([new Uint8Array(limit), new Uint8Array(1)]),
    100,
    /at most 16778116 bytes .*100 pixels, found more/,
  );
  await rejects(streamOf(["text"]), 100, /expected Uint8Array chunks, found string/);
  await rejects(streamOf([[1, 2, 3]]), 100, /expected Uint8Array chunks, found Array/);
});

test("validateRgba accepts Uint8Array and Uint8ClampedArray of width*height*4 bytes", () => {
  validateRgba({ width: 2, height: 3, data: new Uint8Array(24) }, "a");
  validateRgba({ width: 2, height: 3, data: new Uint8ClampedArray(24) }, "b");
});

test("validateRgba rejects zero, negative or fractional sizes", () => {
  const e = imageError(
    () => validateRgba({ width: 0, height: 3, data: new Uint8Array(0) }, "zero"),
    /positive integers/,
    /found 0x3/,
  );
  assert.is(e.file, "zero");
  imageError(() => validateRgba({ width: 4, height: -1, data: new Uint8Array(0) }, "neg"), /found 4x-1/);
  imageError(() => validateRgba({ width: 1.5, height: 2, data: new Uint8Array(12) }, "frac"), /found 1.5x2/);
});

test("validateRgba rejects a wrong data length or element type with expected vs found", () => {
  imageError(
    () => validateRgba({ width: 10, height: 10, data: new Uint8Array(300) }, "rgb"),
    /expected 400 bytes \(10x10 RGBA\), found 300/,
  );
  const floats = { width: 1, height: 1, data: new Float32Array(4) } as unknown as RgbaImage;
  imageError(() => validateRgba(floats, "float"), /expected a Uint8Array or Uint8ClampedArray, found Float32Array/);
});

test.run();
