import { test } from "uvu";
import * as assert from "uvu/assert";
import { ArgumentError, ImageError } from "../src/host/errors.js";
import type { RgbaImage } from "../src/model/image/decode.js";
import {
  BGR_MEAN,
  CROP,
  RESIZE_FILTERS,
  RESIZE_TO,
  resizeImage,
  resizePlanes,
  toNetworkInput,
} from "../src/model/image/preprocess.js";
import { announceSeed, randomInt, rngFor } from "./support/rng.js";

const seed = announceSeed("preprocess");

/** width x height RGBA image whose pixel (x, y) is pixel(x, y) = [r, g, b] (alpha 255 unless given). */
function makeImage(width: number, height: number, pixel: (x: number, y: number) => number[]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a = 255] = pixel(x, y);
      data.set([r, g, b, a], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

const solid = (width: number, height: number, rgb: number[]): RgbaImage => makeImage(width, height, () => rgb);

/** Plane c (0..2) of a planar float array with `plane` elements per plane. */
const planeOf = (data: Float32Array, c: number, plane: number): number[] =>
  Array.from(data.subarray(c * plane, (c + 1) * plane));

test("constants: Caffe BVLC GoogLeNet preprocessing", () => {
  assert.equal([...BGR_MEAN], [104, 117, 123]);
  assert.is(RESIZE_TO, 256);
  assert.is(CROP, 224);
});

test("resizing a constant image keeps it constant (up and down, both filters)", () => {
  const image = solid(7, 5, [10, 20, 30]);
  for (const filter of RESIZE_FILTERS)
    for (const [w, h] of [
      [256, 256],
      [3, 2],
      [1, 1],
      [13, 4],
    ]) {
      const out = resizeImage(image, w, h, filter);
      assert.equal([out.width, out.height, out.data.length], [w, h, 3 * w * h]);
      const plane = w * h;
      assert.ok(
        planeOf(out.data, 0, plane).every((v) => v === 10),
        `R ${w}x${h}`,
      );
      assert.ok(
        planeOf(out.data, 1, plane).every((v) => v === 20),
        `G ${w}x${h}`,
      );
      assert.ok(
        planeOf(out.data, 2, plane).every((v) => v === 30),
        `B ${w}x${h}`,
      );
    }
});

test("bilinear: 2x2 -> 4x4 upscale matches hand-computed half-pixel-centre values", () => {
  // R: [[0, 100], [200, 40]]. Source coordinates of destination 0..3 are
  // -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1), so along each axis
  // [a, b] -> [a, 0.75a + 0.25b, 0.25a + 0.75b, b].
  const r = [
    [0, 100],
    [200, 40],
  ];
  const image = makeImage(2, 2, (x, y) => [r[y][x], 7, 255 - r[y][x]]);
  const out = resizeImage(image, 4, 4, "bilinear");
  const expectedR = [0, 25, 75, 100, 50, 58.75, 76.25, 85, 150, 126.25, 78.75, 55, 200, 160, 80, 40];
  assert.equal(planeOf(out.data, 0, 16), expectedR);
  assert.ok(planeOf(out.data, 1, 16).every((v) => v === 7));
  assert.equal(
    planeOf(out.data, 2, 16),
    expectedR.map((v) => 255 - v),
  );
});

test("bilinear: 4x1 -> 2x1 downscale averages pixel pairs (source x = 0.5 and 2.5)", () => {
  const out = resizeImage(
    makeImage(4, 1, (x) => [[0, 10, 100, 200][x], 0, 0]),
    2,
    1,
    "bilinear",
  );
  assert.equal(planeOf(out.data, 0, 2), [5, 150]);
});

test("antialias: 4x1 -> 2x1 weighs three pixels by distance (triangle of half-width 2)", () => {
  // Destination centres 1 and 3; source centres 0.5, 1.5, 2.5, 3.5; weight 1 - distance / 2:
  // x = 0: 0.75, 0.75, 0.25 over pixels 0..2; x = 1: 0.25, 0.75, 0.75 over pixels 1..3 (sums 1.75).
  const out = resizeImage(
    makeImage(4, 1, (x) => [[0, 10, 100, 200][x], 0, 0]),
    2,
    1,
  );
  assert.equal(planeOf(out.data, 0, 2), [Math.fround((10 * 0.75 + 100 * 0.25) / 1.75), 130]);
});

/**
 * Independent float64 reference of the antialiased resize: every source pixel (not a window) weighted
 * by the triangle max(0, 1 - |distance| / support) in x times the one in y, normalised by the weights' sum.
 */
function referenceAntialias(image: ReturnType<typeof makeImage>, w: number, h: number): number[][] {
  const weights = (src: number, dst: number, d: number): number[] => {
    const scale = src / dst;
    const support = Math.max(scale, 1);
    return Array.from({ length: src }, (_, i) => Math.max(0, 1 - Math.abs(i + 0.5 - (d + 0.5) * scale) / support));
  };
  const planes: number[][] = [[], [], []];
  for (let y = 0; y < h; y++) {
    const wy = weights(image.height, h, y);
    for (let x = 0; x < w; x++) {
      const wx = weights(image.width, w, x);
      for (let c = 0; c < 3; c++) {
        let sum = 0,
          norm = 0;
        for (let sy = 0; sy < image.height; sy++)
          for (let sx = 0; sx < image.width; sx++) {
            sum += wy[sy] * wx[sx] * image.data[(sy * image.width + sx) * 4 + c];
            norm += wy[sy] * wx[sx];
          }
        planes[c].push(sum / norm);
      }
    }
  }
  return planes;
}

/** One float32 unit in the last place at |v| (the spacing of float32 values near v). */
const ulp32 = (v: number): number => 2 ** (Math.floor(Math.log2(Math.max(Math.abs(v), 2 ** -126))) - 23);

test("antialias matches an independent float64 reference within one float32 ulp (shrink, enlarge, mixed)", () => {
  // Tolerance: both sides sum at most ~40 products of values <= 255 in float64 (error < 1e-11), then
  // ours rounds once to float32 (half an ulp): |ours - reference| <= 1 ulp.
  const rng = rngFor(seed, "antialias reference");
  const image = makeImage(37, 23, () => [0, 0, 0].map(() => randomInt(rng, 0, 255)));
  for (const [w, h] of [
    [10, 7],
    [5, 3],
    [24, 23],
    [50, 11],
    [61, 40],
    [1, 1],
  ]) {
    const out = resizeImage(image, w, h);
    const ref = referenceAntialias(image, w, h);
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < w * h; i++) {
        const got = out.data[c * w * h + i];
        if (Math.abs(got - ref[c][i]) > ulp32(ref[c][i]))
          assert.unreachable(`${w}x${h} channel ${c} pixel ${i}: ${got} vs reference ${ref[c][i]}`);
      }
  }
});

test("enlarging: antialias equals bilinear within one float32 ulp; a region resize reads only its region", () => {
  const rng = rngFor(seed, "enlarging");
  const image = makeImage(9, 6, () => [0, 0, 0].map(() => randomInt(rng, 0, 255)));
  const a = resizeImage(image, 20, 13).data;
  const b = resizeImage(image, 20, 13, "bilinear").data;
  for (let i = 0; i < a.length; i++)
    if (Math.abs(a[i] - b[i]) > ulp32(b[i])) assert.unreachable(`value ${i}: ${a[i]} vs ${b[i]}`);
  // The 4x3 region at (2, 1) resized alone equals resizePlanes of the whole image's planes there.
  const region = makeImage(4, 3, (x, y) =>
    Array.from(image.data.subarray(((y + 1) * 9 + x + 2) * 4, ((y + 1) * 9 + x + 2) * 4 + 3)),
  );
  const whole = resizeImage(image, 9, 6);
  for (const filter of RESIZE_FILTERS) {
    assert.equal(
      Array.from(resizePlanes(whole, 2, 1, 4, 3, 3, 2, filter).data),
      Array.from(resizeImage(region, 3, 2, filter).data),
      filter,
    );
  }
});

test("same-size resize returns the same pixels as planar RGB, alpha dropped", () => {
  const image = makeImage(5, 3, (x, y) => [x * 50, y * 100, (x * 7 + y * 13) % 256, x * 60]);
  const out = resizeImage(image, 5, 3);
  for (let i = 0; i < 15; i++) {
    for (let c = 0; c < 3; c++) assert.is(out.data[c * 15 + i], image.data[i * 4 + c]);
  }
});

test("resizeImage rejects invalid sizes, filters and images", () => {
  const image = solid(2, 2, [0, 0, 0]);
  assert.throws(
    () => resizeImage(image, 2, 2, "lanczos" as "bilinear"),
    (e: unknown) =>
      e instanceof ArgumentError && /'filter' expected one of "antialias", "bilinear", found/.test(e.message),
  );
  assert.throws(
    () => resizeImage(image, 0, 4),
    (e: unknown) => e instanceof ArgumentError && /'width' expected a positive integer, found 0/.test(e.message),
  );
  assert.throws(
    () => resizeImage(image, 4, 2.5),
    (e: unknown) => e instanceof ArgumentError && /'height'.*found 2\.5/.test(e.message),
  );
  assert.throws(
    () => resizeImage({ width: 2, height: 2, data: new Uint8Array(12) }, 4, 4),
    (e: unknown) => e instanceof ImageError && /expected 16 bytes/.test(e.message),
  );
});

test("toNetworkInput: pure colour gives CHW B, G, R planes minus the mean", () => {
  const out = toNetworkInput(solid(300, 200, [200, 100, 50]));
  const plane = 224 * 224;
  assert.is(out.length, 3 * plane);
  assert.ok(
    planeOf(out, 0, plane).every((v) => v === 50 - 104),
    "B plane",
  );
  assert.ok(
    planeOf(out, 1, plane).every((v) => v === 100 - 117),
    "G plane",
  );
  assert.ok(
    planeOf(out, 2, plane).every((v) => v === 200 - 123),
    "R plane",
  );
});

test("toNetworkInput: centre crop offset floor((resize - crop) / 2) on a gradient", () => {
  // 256x256 input: the resize is the identity, so R = x, G = y exactly; crop offset 16.
  const gradient = makeImage(256, 256, (x, y) => [x, y, 0]);
  const out = toNetworkInput(gradient);
  const plane = 224 * 224;
  for (const [x, y] of [
    [0, 0],
    [223, 0],
    [0, 223],
    [100, 37],
    [223, 223],
  ]) {
    const i = y * 224 + x;
    assert.is(out[i], -104, `B at ${x},${y}`);
    assert.is(out[plane + i], y + 16 - 117, `G at ${x},${y}`);
    assert.is(out[2 * plane + i], x + 16 - 123, `R at ${x},${y}`);
  }
  // odd margin: resize 10, crop 7 -> offset floor(3 / 2) = 1
  const small = toNetworkInput(
    makeImage(10, 10, (x, y) => [x * 10, y * 10, 0]),
    { resize: 10, crop: 7, mean: [0, 0, 0] },
  );
  assert.is(small.length, 3 * 49);
  assert.equal(planeOf(small, 2, 49).slice(0, 7), [10, 20, 30, 40, 50, 60, 70]); // R row 0 = x 1..7
  assert.equal(
    [0, 1, 6].map((y) => small[49 + y * 7]),
    [10, 20, 70],
  ); // G column 0 = y 1, 2, 7
});

test("toNetworkInput ignores alpha and uses a custom mean", () => {
  const opaque = makeImage(8, 8, (x, y) => [x * 30, y * 30, 90]);
  const clear = makeImage(8, 8, (x, y) => [x * 30, y * 30, 90, 0]);
  const options = { resize: 8, crop: 8, mean: [1, 2, 3] };
  assert.equal(Array.from(toNetworkInput(clear, options)), Array.from(toNetworkInput(opaque, options)));
  assert.is(toNetworkInput(opaque, options)[0], 90 - 1);
});

test("toNetworkInput rejects invalid options with ArgumentError", () => {
  const image = solid(4, 4, [1, 2, 3]);
  const cases: [Parameters<typeof toNetworkInput>[1], RegExp][] = [
    [{ resize: 4, crop: 5 }, /'options\.crop' expected at most options\.resize \(4\), found 5/],
    [{ crop: 0 }, /'options\.crop' expected a positive integer, found 0/],
    [{ resize: 2.5, crop: 2 }, /'options\.resize' expected a positive integer, found 2\.5/],
    [{ resize: -256 }, /'options\.resize'/],
    [{ mean: [104, 117] }, /'options\.mean' expected three finite numbers \[B, G, R\], found \[104, 117\]/],
    [{ mean: [104, NaN, 123] }, /'options\.mean'/],
  ];
  for (const [options, pattern] of cases) {
    assert.throws(
      () => toNetworkInput(image, options),
      (e: unknown) => e instanceof ArgumentError && e.op === "toNetworkInput" && pattern.test(e.message),
      String(pattern),
    );
  }
});

test.run();
