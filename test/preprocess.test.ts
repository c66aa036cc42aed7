import { test } from "uvu";
import * as assert from "uvu/assert";
import { ArgumentError, ImageError } from "../src/host/errors.js";
import type { RgbaImage } from "../src/model/image/decode.js";
import { BGR_MEAN, CROP, RESIZE_TO, resizeBilinear, toNetworkInput } from "../src/model/image/preprocess.js";

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

test("resizing a constant image keeps it constant (up and down)", () => {
  const image = solid(7, 5, [10, 20, 30]);
  for (const [w, h] of [
    [256, 256],
    [3, 2],
    [1, 1],
    [13, 4],
  ]) {
    const out = resizeBilinear(image, w, h);
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

test("2x2 -> 4x4 upscale matches hand-computed half-pixel-centre values", () => {
  // R: [[0, 100], [200, 40]]. Source coordinates of destination 0..3 are
  // -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1), so along each axis
  // [a, b] -> [a, 0.75a + 0.25b, 0.25a + 0.75b, b].
  const r = [
    [0, 100],
    [200, 40],
  ];
  const image = makeImage(2, 2, (x, y) => [r[y][x], 7, 255 - r[y][x]]);
  const out = resizeBilinear(image, 4, 4);
  const expectedR = [0, 25, 75, 100, 50, 58.75, 76.25, 85, 150, 126.25, 78.75, 55, 200, 160, 80, 40];
  assert.equal(planeOf(out.data, 0, 16), expectedR);
  assert.ok(planeOf(out.data, 1, 16).every((v) => v === 7));
  assert.equal(
    planeOf(out.data, 2, 16),
    expectedR.map((v) => 255 - v),
  );
});

test("4x1 -> 2x1 downscale averages pixel pairs (source x = 0.5 and 2.5)", () => {
  const out = resizeBilinear(
    makeImage(4, 1, (x) => [[0, 10, 100, 200][x], 0, 0]),
    2,
    1,
  );
  assert.equal(planeOf(out.data, 0, 2), [5, 150]);
});

test("same-size resize returns the same pixels as planar RGB, alpha dropped", () => {
  const image = makeImage(5, 3, (x, y) => [x * 50, y * 100, (x * 7 + y * 13) % 256, x * 60]);
  const out = resizeBilinear(image, 5, 3);
  for (let i = 0; i < 15; i++) {
    for (let c = 0; c < 3; c++) assert.is(out.data[c * 15 + i], image.data[i * 4 + c]);
  }
});

test("resizeBilinear rejects invalid sizes and images", () => {
  const image = solid(2, 2, [0, 0, 0]);
  assert.throws(
    () => resizeBilinear(image, 0, 4),
    (e: unknown) => e instanceof ArgumentError && /'width' expected a positive integer, found 0/.test(e.message),
  );
  assert.throws(
    () => resizeBilinear(image, 4, 2.5),
    (e: unknown) => e instanceof ArgumentError && /'height'.*found 2\.5/.test(e.message),
  );
  assert.throws(
    () => resizeBilinear({ width: 2, height: 2, data: new Uint8Array(12) }, 4, 4),
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
