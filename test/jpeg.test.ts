// decodeJpegScaled (src/model/image/jpeg.ts) against jpeg-js at full size and against a float64 reference of the
// scaled IDCT at 1/2, 1/4 and 1/8; layouts from the photos, jpeg-js's encoder (4:4:4) and a test-only writer
// (greyscale, 4:2:0, 4:2:2, 4:1:1, restarts, one scan per component); corrupt data; unsupported kinds; and the
// photos' top-1 through the network when decoded scaled.
//
// Bounds, derived (not fitted):
// - Planes at full size vs jpeg-js: |dY|, |dCb|, |dCr| <= 1. Ours is a float64 IDCT (error ~1e-13 before
//   rounding); jpeg-js's fixed-point IDCT keeps its error below 0.5 level (an IEEE 1180-grade IDCT), so the two
//   rounded samples differ by at most 1.
// - RGB at full size vs jpeg-js: from planes within 1, R = Y + 1.402 (Cr - 128) moves by at most 2.402, G by
//   1 + 0.344 + 0.714 = 2.058, B by 2.772; we round while jpeg-js truncates (stores into a Uint8Array), which
//   adds up to 1.5: R, G differ by at most 3 and B by at most 4 levels.
// - Scaled vs the float64 reference of the same math: the planes agree up to float rounding (~1e-12), so a
//   sample differs only when its exact value sits on a .5 tie, by 1; then RGB moves by at most 1 + 1.772 -> 3.
//   Ties are that rare, so at least 99.9 % of the values must also be identical.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { decode as jpegJsDecode, encode as jpegJsEncode } from "jpeg-js";
import { ImageError } from "../src/host/errors.js";
import type { RgbaImage } from "../src/model/image/decode.js";
import {
  decodeJpegScaled,
  isJpegUnsupported,
  type JpegCoefficients,
  jpegScaleShift,
  type JpegUnsupported,
  readJpegCoefficients,
} from "../src/model/image/jpeg.js";
import { GoogLeNet } from "../src/node/index.js";
import { photoCases } from "./support/data.js";
import { encodeTestJpeg, type TestComponent } from "./support/jpegEncoder.js";
import { mulberry32, seedFromEnv } from "./support/rng.js";
import { photoLike } from "./support/synthetic.js";

const seed = seedFromEnv();
console.log(`jpeg.test seed ${seed} (TEST_SEED=${seed} replays it)`);

function decoded(result: RgbaImage | JpegUnsupported): RgbaImage {
  if (isJpegUnsupported(result)) throw new Error(`unexpected JpegUnsupported: ${result.message}`);
  return result;
}

function coefficients(bytes: Uint8Array, name: string): JpegCoefficients {
  const result = readJpegCoefficients(bytes, name);
  if ("unsupported" in result) throw new Error(`unexpected JpegUnsupported: ${result.message}`);
  return result;
}

const photoJpegs = photoCases()
  .filter((p) => p.file.endsWith(".jpg"))
  .map((p) => ({ name: basename(p.file), bytes: new Uint8Array(readFileSync(p.file)) }));

/** Test-only writer files: every layout with random sparse coefficients. */
function writerJpegs(): { name: string; bytes: Uint8Array }[] {
  const rng = mulberry32(seed);
  const quant = Array.from({ length: 64 }, (_, k) => 2 + Math.floor(k / 3));
  const layouts: [string, TestComponent[], number, boolean][] = [
    ["greyscale", [{ id: 1, h: 1, v: 1 }], 0, false],
    [
      "4:2:0 restart 5",
      [
        { id: 1, h: 2, v: 2 },
        { id: 2, h: 1, v: 1 },
        { id: 3, h: 1, v: 1 },
      ],
      5,
      false,
    ],
    [
      "4:2:2 restart 1",
      [
        { id: 1, h: 2, v: 1 },
        { id: 2, h: 1, v: 1 },
        { id: 3, h: 1, v: 1 },
      ],
      1,
      false,
    ],
    [
      "4:1:1",
      [
        { id: 1, h: 4, v: 1 },
        { id: 2, h: 1, v: 1 },
        { id: 3, h: 1, v: 1 },
      ],
      0,
      false,
    ],
    // restart 1: jpeg-js decodes whole restart intervals in a one-component scan, reading past its end otherwise
    [
      "4:2:0 separate scans restart 1",
      [
        { id: 1, h: 2, v: 2 },
        { id: 2, h: 1, v: 1 },
        { id: 3, h: 1, v: 1 },
      ],
      1,
      true,
    ],
  ];
  return layouts.map(([name, components, restartInterval, separateScans]) => {
    const width = 61 + Math.floor(rng() * 80),
      height = 47 + Math.floor(rng() * 80);
    const table = new Map<string, number>();
    const coefficient = (c: number, row: number, col: number, k: number): number => {
      const key = `${c},${row},${col},${k}`;
      let v = table.get(key);
      if (v === undefined) {
        if (k === 0) v = Math.round(Math.sin(row * 0.7 + col * 0.3 + c) * 40 + (rng() - 0.5) * 20);
        else v = rng() < 2 / (1 + k) ? Math.round((rng() - 0.5) * 24) : 0;
        table.set(key, v);
      }
      return v;
    };
    const bytes = encodeTestJpeg({ width, height, components, coefficient, quant, restartInterval, separateScans });
    return { name: `${name} ${width}x${height}`, bytes };
  });
}

const jpegJsFiles = [photoLike(123, 77, seed), photoLike(64, 64, seed + 1)].map((image, i) => ({
  name: `jpeg-js q${[90, 50][i]} ${image.width}x${image.height}`,
  bytes: new Uint8Array(jpegJsEncode(image, [90, 50][i]).data),
}));

const allFiles = [...photoJpegs, ...jpegJsFiles, ...writerJpegs()];

/** Largest |a - b| per channel 0..2 (RGBA data) and the count of differing R, G, B values. */
function compare(a: Uint8Array | Uint8ClampedArray, b: Uint8Array | Uint8ClampedArray) {
  const max = [0, 0, 0];
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    const c = i & 3;
    if (c === 3) continue;
    const d = Math.abs(a[i] - b[i]);
    if (d > 0) differing++;
    if (d > max[c]) max[c] = d;
  }
  return { max, differing, values: (a.length / 4) * 3 };
}

test("full size: planes within 1 and RGB within (3, 3, 4) levels of jpeg-js", () => {
  for (const { name, bytes } of allFiles) {
    const ours = decoded(decodeJpegScaled(bytes, name, { minShortSide: Infinity }));
    const rgb = jpegJsDecode(bytes, { useTArray: true, formatAsRGBA: true });
    assert.equal([ours.width, ours.height], [rgb.width, rgb.height], name);
    const c = compare(ours.data, rgb.data);
    assert.ok(c.max[0] <= 3 && c.max[1] <= 3 && c.max[2] <= 4, `${name}: RGB max |d| ${c.max}`);
    const co = coefficients(bytes, name);
    const planes = referencePlanes(co, 0);
    const raw = jpegJsDecode(bytes, { useTArray: true, formatAsRGBA: true, colorTransform: false });
    let maxPlane = 0;
    for (let y = 0; y < co.height; y++) {
      for (let x = 0; x < co.width; x++) {
        planes.forEach((p, ci) => {
          const ours = p.at(x, y);
          const theirs = raw.data[(y * co.width + x) * 4 + (planes.length === 1 ? 0 : ci)];
          maxPlane = Math.max(maxPlane, Math.abs(ours - theirs));
        });
      }
    }
    assert.ok(maxPlane <= 1, `${name}: plane max |d| ${maxPlane}`);
  }
});

/**
 * The float64 reference of what decodeJpegScaled computes at scale 1/2^k, per component: each block's N-point
 * IDCT evaluated term by term, f(n, m) = 128 + sum_{u<nx, v<ny} c(u) c(v) F(u, v) cos((2n+1)u pi/(2nx))
 * cos((2m+1)v pi/(2ny)), c(0) = 1/(2 sqrt 2), c(u) = 1/2 (jpegIdct.ts); nx = min(8, b hMax/h) for b = 8 / 2^k;
 * rounded (half to even) and clamped; then output (x, y) takes sample (floor(x / ux), floor(y / uy)) with
 * ux = b hMax / h / nx. Each term is c(u) cos(...) sqrt 2 per axis (then / 2), taken exactly (+-1/2) where the
 * cosine is +-sqrt(2)/2 or 1, so samples that are exact multiples of 1/8 round their ties exactly.
 */
function referencePlanes(co: JpegCoefficients, k: number): { at: (x: number, y: number) => number }[] {
  const b = 8 >> k;
  const hMax = Math.max(...co.components.map((c) => c.h)),
    vMax = Math.max(...co.components.map((c) => c.v));
  const axis = (size: number, i: number, u: number): number => {
    const cos = Math.cos(((2 * i + 1) * u * Math.PI) / (2 * size));
    const term = Math.SQRT2 * (u === 0 ? 1 / (2 * Math.SQRT2) : 0.5) * cos;
    return Math.abs(Math.abs(term) - 0.5) < 1e-12 ? Math.sign(term) * 0.5 : term;
  };
  return co.components.map((c) => {
    const rx = hMax / c.h,
      ry = vMax / c.v;
    const nx = Math.min(8, b * rx),
      ny = Math.min(8, b * ry);
    const ux = (b * rx) / nx,
      uy = (b * ry) / ny;
    const at = (x: number, y: number): number => {
      const sx = Math.floor(x / ux),
        sy = Math.floor(y / uy);
      const col = Math.floor(sx / nx),
        row = Math.floor(sy / ny);
      const n = sx % nx,
        m = sy % ny;
      const base = (row * c.blocksX + col) * 64;
      let s = 0;
      for (let v = 0; v < ny; v++) {
        for (let u = 0; u < nx; u++) {
          const f = c.coef[base + v * 8 + u];
          if (f !== 0) s += axis(nx, n, u) * axis(ny, m, v) * f;
        }
      }
      return Uint8ClampedArray.of(s / 2 + 128)[0];
    };
    return { at };
  });
}

test("1/2, 1/4, 1/8: within 3 levels of the float64 reference, >= 99.9 % identical", () => {
  for (const { name, bytes } of allFiles) {
    const co = coefficients(bytes, name);
    for (const k of [1, 2, 3]) {
      const minShortSide = Math.ceil(Math.min(co.width, co.height) / 2 ** k);
      assert.is(jpegScaleShift(co.width, co.height, minShortSide), k);
      const ours = decoded(decodeJpegScaled(bytes, name, { minShortSide }));
      const width = Math.ceil(co.width / 2 ** k),
        height = Math.ceil(co.height / 2 ** k);
      assert.equal([ours.width, ours.height], [width, height], `${name} 1/${2 ** k}`);
      const planes = referencePlanes(co, k);
      const ref = new Uint8ClampedArray(width * height * 4);
      for (let y = 0, o = 0; y < height; y++) {
        for (let x = 0; x < width; x++, o += 4) {
          const [a, cb, cr] = planes.map((p) => p.at(x, y));
          if (planes.length === 1) ref.fill(a, o, o + 3);
          else if (co.isYCbCr) {
            ref[o] = a + 1.402 * (cr - 128);
            ref[o + 1] = a - 0.344136286 * (cb - 128) - 0.714136286 * (cr - 128);
            ref[o + 2] = a + 1.772 * (cb - 128);
          } else ref.set([a, cb, cr], o);
          ref[o + 3] = 255;
        }
      }
      const c = compare(ours.data, ref);
      assert.ok(Math.max(...c.max) <= 3, `${name} 1/${2 ** k}: max |d| ${c.max}`);
      assert.ok(c.differing <= c.values * 1e-3, `${name} 1/${2 ** k}: ${c.differing} of ${c.values} differ`);
      for (let i = 3; i < ours.data.length; i += 4) if (ours.data[i] !== 255) assert.unreachable("alpha not 255");
    }
  }
});

test("scale choice: the smallest 1/2^k that keeps minShortSide", () => {
  assert.is(jpegScaleShift(4000, 3000, 256), 3); // 500x375
  assert.is(jpegScaleShift(4000, 2000, 256), 2); // 250 < 256 at 1/8
  assert.is(jpegScaleShift(773, 512, 256), 1);
  assert.is(jpegScaleShift(640, 427, 256), 0);
  assert.is(jpegScaleShift(100, 100, 256), 0);
  assert.is(jpegScaleShift(4000, 3000, Infinity), 0);
  assert.is(jpegScaleShift(4000, 3000, 0), 3);
});

/** Runs fn and asserts it throws an ImageError matching every pattern. */
function imageError(fn: () => unknown, ...patterns: RegExp[]): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ImageError, String(e));
    for (const p of patterns) assert.match((e as Error).message, p);
    return;
  }
  assert.unreachable("expected an ImageError");
}

test("truncated files: ImageError naming the file, at every cut", () => {
  const { name, bytes } = photoJpegs[0];
  for (const cut of [1, 3, 20, 200, 700, 5000, bytes.length >> 1, bytes.length - 300]) {
    imageError(() => decodeJpegScaled(bytes.subarray(0, cut), name, { minShortSide: 1 }), new RegExp(name), /JPEG/);
  }
  const tiny = jpegJsFiles[0];
  imageError(
    () => decodeJpegScaled(tiny.bytes.subarray(0, tiny.bytes.length - 60), "t.jpg", { minShortSide: 0 }),
    /truncated/,
  );
});

test("corrupt files: ImageError with expected vs found; random damage never throws anything else", () => {
  const { bytes } = jpegJsFiles[0];
  imageError(() => decodeJpegScaled(Uint8Array.of(1, 2, 3), "x.jpg", { minShortSide: 1 }), /expected FF D8/);
  const sof = bytes.indexOf(0xc0, 2) - 1; // FF C0
  const huge = bytes.slice();
  huge.set([0xff, 0xff, 0xff, 0xff], sof + 5); // 65535 x 65535
  imageError(() => decodeJpegScaled(huge, "huge.jpg", { minShortSide: 1 }), /too large/, /65535x65535/);
  const withRestarts = writerJpegs()[2].bytes;
  const rst = withRestarts.findIndex((b, i) => b === 0xff && withRestarts[i + 1] === 0xd1);
  const wrongRst = withRestarts.slice();
  wrongRst[rst + 1] = 0xd3;
  imageError(() => decodeJpegScaled(wrongRst, "rst.jpg", { minShortSide: 1 }), /expected an RST1 marker/, /found RST3/);
  const rng = mulberry32(seed + 7);
  for (let trial = 0; trial < 60; trial++) {
    const damaged = bytes.slice();
    for (let j = 0; j < 4; j++) damaged[2 + Math.floor(rng() * (damaged.length - 2))] = Math.floor(rng() * 256);
    try {
      decodeJpegScaled(damaged, "damaged.jpg", { minShortSide: 1 + Math.floor(rng() * 100) });
    } catch (e) {
      if (!(e instanceof ImageError)) throw new Error(`trial ${trial}: expected ImageError, found ${String(e)}`);
    }
  }
});

/** SOI plus a frame header with the given marker, precision and component count. */
function frameHeader(marker: number, precision: number, n: number): Uint8Array {
  const body = [precision, 0, 16, 0, 16, n, ...Array.from({ length: n }, (_, i) => [i + 1, 0x11, 0]).flat()];
  return Uint8Array.from([0xff, 0xd8, 0xff, marker, 0, body.length + 2, ...body]);
}

test("progressive, arithmetic, 12-bit, lossless, CMYK: JpegUnsupported naming the kind", () => {
  const cases: [number, number, number, string][] = [
    [0xc2, 8, 3, "progressive"],
    [0xc9, 8, 3, "arithmetic"],
    [0xc1, 12, 3, "12-bit"],
    [0xc3, 8, 3, "lossless"],
    [0xc0, 8, 4, "CMYK"],
    [0xc5, 8, 3, "hierarchical"],
  ];
  for (const [marker, precision, n, kind] of cases) {
    const result = decodeJpegScaled(frameHeader(marker, precision, n), "k.jpg", { minShortSide: 1 });
    assert.ok(isJpegUnsupported(result), kind);
    assert.is((result as JpegUnsupported).unsupported, kind);
  }
  // A real baseline file relabelled progressive (SOF0 -> SOF2) is declined at its frame header.
  const relabelled = jpegJsFiles[0].bytes.slice();
  relabelled[relabelled.indexOf(0xc0, 2)] = 0xc2;
  assert.is((decodeJpegScaled(relabelled, "p.jpg", { minShortSide: 1 }) as JpegUnsupported).unsupported, "progressive");
});

test("every labelled JPEG photo keeps its top-1 when decoded with minShortSide 256", async () => {
  const net = await GoogLeNet.load({ weights: "/work/shared/googlenet", threads: 1 });
  try {
    for (const p of photoCases().filter((c) => c.file.endsWith(".jpg"))) {
      const image = decoded(decodeJpegScaled(new Uint8Array(readFileSync(p.file)), p.file, { minShortSide: 256 }));
      const [top] = await net.classify(image);
      assert.is(top.index, p.top1, `${basename(p.file)} at ${image.width}x${image.height}: ${top.label}`);
    }
  } finally {
    await net.dispose();
  }
});

test.run();
