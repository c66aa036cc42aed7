// Caffe-style input preprocessing for BVLC GoogLeNet: bilinear resize, centre crop,
// RGB -> BGR, per-channel mean subtraction, CHW float32. Pure JS (runs in browsers).

import { ArgumentError } from "../../host/errors.js";
import { validateRgba, type RgbaImage } from "./decode.js";

/** Per-channel ILSVRC2012 mean in network channel order B, G, R (0..255 scale). */
export const BGR_MEAN: readonly [number, number, number] = [104, 117, 123];
/** Side of the square the image is resized to before cropping. */
export const RESIZE_TO = 256;
/** Side of the centre crop fed to the network. */
export const CROP = 224;

/** Float RGB image, planar: data is [3][height][width] (R plane, G plane, B plane), values 0..255, unrounded. */
export interface RgbPlanes {
  width: number;
  height: number;
  data: Float32Array;
}

function checkPositiveInteger(op: string, argument: string, value: number): void {
  if (!(Number.isInteger(value) && value > 0)) throw new ArgumentError(op, argument, "a positive integer", value);
}

/** For each destination index along one axis: the two source indices and the weight of the second. */
function axisTaps(src: number, dst: number): { i0: Int32Array; i1: Int32Array; w: Float64Array } {
  const i0 = new Int32Array(dst),
    i1 = new Int32Array(dst),
    w = new Float64Array(dst);
  const scale = src / dst;
  for (let d = 0; d < dst; d++) {
    const s = Math.min(Math.max((d + 0.5) * scale - 0.5, 0), src - 1);
    i0[d] = Math.floor(s);
    i1[d] = Math.min(i0[d] + 1, src - 1);
    w[d] = s - i0[d];
  }
  return { i0, i1, w };
}

/**
 * Bilinear resize with half-pixel centres (OpenCV INTER_LINEAR, PIL without antialias):
 * source coordinate = (dst + 0.5) * src/dst - 0.5, clamped to the edge pixels. Alpha is
 * dropped. A same-size resize returns the source values exactly. Throws ImageError for an
 * invalid image and ArgumentError for a width or height that is not a positive integer.
 */
export function resizeBilinear(image: RgbaImage, width: number, height: number): RgbPlanes {
  validateRgba(image, "image");
  checkPositiveInteger("resizeBilinear", "width", width);
  checkPositiveInteger("resizeBilinear", "height", height);
  const src = image.data,
    sw = image.width;
  const xs = axisTaps(sw, width),
    ys = axisTaps(image.height, height);
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let y = 0; y < height; y++) {
    const row0 = ys.i0[y] * sw,
      row1 = ys.i1[y] * sw,
      wy = ys.w[y];
    for (let x = 0; x < width; x++) {
      const x0 = xs.i0[x],
        x1 = xs.i1[x],
        wx = xs.w[x];
      const p00 = (row0 + x0) * 4,
        p01 = (row0 + x1) * 4,
        p10 = (row1 + x0) * 4,
        p11 = (row1 + x1) * 4;
      for (let c = 0; c < 3; c++) {
        const top = src[p00 + c] + (src[p01 + c] - src[p00 + c]) * wx;
        const bottom = src[p10 + c] + (src[p11 + c] - src[p10 + c]) * wx;
        out[c * plane + y * width + x] = top + (bottom - top) * wy;
      }
    }
  }
  return { width, height, data: out };
}

/**
 * Bilinear resize (as resizeBilinear, half-pixel centres, clamped to the region's edge) of the
 * region [x, x + w) x [y, y + h) of float RGB planes to outW x outH. The region must lie inside the planes.
 */
export function resizePlanes(
  planes: RgbPlanes,
  x: number,
  y: number,
  w: number,
  h: number,
  outW: number,
  outH: number,
): RgbPlanes {
  for (const [name, v] of [
    ["w", w],
    ["h", h],
    ["outW", outW],
    ["outH", outH],
  ] as const) {
    checkPositiveInteger("resizePlanes", name, v);
  }
  if (
    !(Number.isInteger(x) && Number.isInteger(y) && x >= 0 && y >= 0 && x + w <= planes.width && y + h <= planes.height)
  ) {
    throw new ArgumentError(
      "resizePlanes",
      "region",
      `inside ${planes.width}x${planes.height}`,
      `${w}x${h} at ${x},${y}`,
    );
  }
  const xs = axisTaps(w, outW),
    ys = axisTaps(h, outH);
  const srcPlane = planes.width * planes.height;
  const plane = outW * outH;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const src = planes.data.subarray(c * srcPlane, (c + 1) * srcPlane);
    for (let oy = 0; oy < outH; oy++) {
      const row0 = (y + ys.i0[oy]) * planes.width + x,
        row1 = (y + ys.i1[oy]) * planes.width + x,
        wy = ys.w[oy];
      for (let ox = 0; ox < outW; ox++) {
        const x0 = xs.i0[ox],
          x1 = xs.i1[ox],
          wx = xs.w[ox];
        const top = src[row0 + x0] + (src[row0 + x1] - src[row0 + x0]) * wx;
        const bottom = src[row1 + x0] + (src[row1 + x1] - src[row1 + x0]) * wx;
        out[c * plane + oy * outW + ox] = top + (bottom - top) * wy;
      }
    }
  }
  return { width: outW, height: outH, data: out };
}

/** Options of toNetworkInput; defaults RESIZE_TO, CROP, BGR_MEAN. */
export interface NetworkInputOptions {
  /** Square side to resize to (positive integer). */
  resize?: number;
  /** Centre-crop side (positive integer, <= resize). */
  crop?: number;
  /** Mean subtracted per channel, in order B, G, R (three finite numbers). */
  mean?: readonly number[];
}

/**
 * Caffe-style network input: resize to resize x resize, centre crop crop x crop at offset
 * floor((resize - crop) / 2), reorder to B, G, R, subtract mean. Returns CHW float32
 * [3][crop][crop] (B plane, G plane, R plane); alpha is ignored. Throws ImageError for an
 * invalid image and ArgumentError for invalid options.
 */
export function toNetworkInput(image: RgbaImage, options: NetworkInputOptions = {}): Float32Array {
  const { resize = RESIZE_TO, crop = CROP, mean = BGR_MEAN } = options;
  checkPositiveInteger("toNetworkInput", "options.resize", resize);
  checkPositiveInteger("toNetworkInput", "options.crop", crop);
  if (crop > resize)
    throw new ArgumentError("toNetworkInput", "options.crop", `at most options.resize (${resize})`, crop);
  if (mean.length !== 3 || !mean.every(Number.isFinite)) {
    throw new ArgumentError("toNetworkInput", "options.mean", "three finite numbers [B, G, R]", `[${mean.join(", ")}]`);
  }
  const resized = resizeBilinear(image, resize, resize).data;
  const offset = Math.floor((resize - crop) / 2);
  const plane = crop * crop;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const srcPlane = (2 - c) * resize * resize; // output B, G, R from planes R, G, B
    for (let y = 0; y < crop; y++) {
      const srcRow = srcPlane + (y + offset) * resize + offset;
      for (let x = 0; x < crop; x++) out[c * plane + y * crop + x] = resized[srcRow + x] - mean[c];
    }
  }
  return out;
}
