// Test-time crop protocols of BVLC GoogLeNet and of the paper ("Going deeper with convolutions",
// section 7): the geometry of every crop (pure, testable against a float64 reference), the
// network inputs it gives, and the averaging of their probabilities.
//
//   1 crop    resize to R x R (R = 256 for a 224 input), centre crop: exactly toNetworkInput.
//   10 crops  BVLC: resize to R x R; the 4 corner crops and the centre crop, each also mirrored
//             left-right.
//   144 crops the paper: for each scale S of 256, 288, 320, 352 (for a 224 input) the image is
//             resized so its shorter side is S; from the left, centre and right S x S squares
//             (top, middle, bottom for portrait images) the 4 corner crops, the centre crop and
//             the whole square resized to the input size; each also mirrored: 4 x 3 x 6 x 2.
// Sizes scale with the input size (S * inputSize / 224, rounded). Crops come in the order of the
// loops above (scale, square, position), each crop's mirrored copy right after it; the
// probabilities are averaged in that order in float64 (averageProbabilities), which makes the
// result a function of the image alone: any thread count and batch split gives the same bits.

import { ArgumentError } from "../../host/errors.js";
import type { RgbaImage } from "./decode.js";
import {
  BGR_MEAN,
  CROP,
  RESIZE_TO,
  resizeImage,
  resizePlanes,
  toNetworkInput,
  type ResizeFilter,
  type RgbPlanes,
} from "./preprocess.js";
import type { Workspace } from "./workspace.js";

/** The crop protocols: 1 (centre), 10 (BVLC) or 144 (the paper). */
export type CropCount = 1 | 10 | 144;
export const CROP_COUNTS: readonly CropCount[] = [1, 10, 144];

/** The paper's four scales (shorter side) for a 224 input. */
const PAPER_SCALES = [256, 288, 320, 352] as const;

/**
 * One crop: the image resized to resizeW x resizeH, its square [x, x + size) x [y, y + size) brought to
 * out x out (taken as is when size == out, resized otherwise), mirrored left-right when `mirror`.
 */
export interface CropView {
  resizeW: number;
  resizeH: number;
  x: number;
  y: number;
  size: number;
  out: number;
  mirror: boolean;
}

/** Checks a crop count argument; throws ArgumentError naming `op`. */
export function checkCropCount(op: string, crops: unknown): CropCount {
  if (!CROP_COUNTS.includes(crops as CropCount)) throw new ArgumentError(op, "crops", "1, 10 or 144", crops);
  return crops as CropCount;
}

/**
 * How the single centre crop is resized: "square" (Caffe's: both sides to 256) or "shortSide"
 * (torchvision's Resize(256): the short side to 256, the aspect kept). 10 and 144 crops are Caffe's.
 */
export type CentreResize = "square" | "shortSide";

/** The crops of a width x height image under a protocol, in averaging order (see the header). */
export function cropViews(
  width: number,
  height: number,
  crops: CropCount,
  inputSize = CROP,
  centre: CentreResize = "square",
): CropView[] {
  const c = inputSize;
  const views: CropView[] = [];
  const both = (v: Omit<CropView, "mirror">): void => {
    views.push({ ...v, mirror: false }, { ...v, mirror: true });
  };
  const square = Math.round((inputSize * RESIZE_TO) / CROP);
  const mid = (free: number): number => Math.floor(free / 2);
  if (crops === 1 && centre === "shortSide") {
    const landscape = width >= height;
    const resizeW = landscape ? Math.round((width * square) / height) : square;
    const resizeH = landscape ? square : Math.round((height * square) / width);
    return [{ resizeW, resizeH, x: mid(resizeW - c), y: mid(resizeH - c), size: c, out: c, mirror: false }];
  }
  if (crops === 1)
    return [
      { resizeW: square, resizeH: square, x: mid(square - c), y: mid(square - c), size: c, out: c, mirror: false },
    ];
  if (crops === 10) {
    const corners: [number, number][] = [
      [0, 0],
      [square - c, 0],
      [0, square - c],
      [square - c, square - c],
      [mid(square - c), mid(square - c)],
    ];
    for (const [x, y] of corners) both({ resizeW: square, resizeH: square, x, y, size: c, out: c });
    return views;
  }
  for (const paperScale of PAPER_SCALES) {
    const s = Math.round((paperScale * inputSize) / CROP);
    const landscape = width >= height;
    const resizeW = landscape ? Math.round((width * s) / height) : s;
    const resizeH = landscape ? s : Math.round((height * s) / width);
    const long = landscape ? resizeW : resizeH;
    for (const offset of [0, mid(long - s), long - s]) {
      const sx = landscape ? offset : 0;
      const sy = landscape ? 0 : offset;
      const at = (x: number, y: number): Omit<CropView, "mirror"> => ({ resizeW, resizeH, x, y, size: c, out: c });
      both(at(sx, sy));
      both(at(sx + s - c, sy));
      both(at(sx, sy + s - c));
      both(at(sx + s - c, sy + s - c));
      both(at(sx + mid(s - c), sy + mid(s - c)));
      both({ resizeW, resizeH, x: sx, y: sy, size: s, out: c });
    }
  }
  return views;
}

/**
 * The network input of one crop of resized planes: the square, resized to out x out when needed
 * (in the workspace's slot "region" when given), mirrored when asked, as B, G, R planes minus
 * BGR_MEAN (CHW float32, as toNetworkInput; always a fresh array).
 */
function cropInput(resized: RgbPlanes, v: CropView, filter: ResizeFilter, workspace?: Workspace): Float32Array {
  const into = workspace && { workspace, slot: "region" };
  const region =
    v.size === v.out ? undefined : resizePlanes(resized, v.x, v.y, v.size, v.size, v.out, v.out, filter, into);
  const src = region ?? resized;
  const x0 = region ? 0 : v.x;
  const y0 = region ? 0 : v.y;
  const n = v.out;
  const mirror = v.mirror;
  const plane = n * n;
  const width = src.width;
  const srcPlane = width * src.height;
  const data = src.data;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const from = (2 - c) * srcPlane; // output B, G, R from planes R, G, B
    const mean = BGR_MEAN[c];
    for (let y = 0; y < n; y++) {
      const row = from + (y + y0) * width + x0;
      const to = c * plane + y * n;
      if (mirror) for (let x = 0; x < n; x++) out[to + n - 1 - x] = data[row + x] - mean;
      else for (let x = 0; x < n; x++) out[to + x] = data[row + x] - mean;
    }
  }
  return out;
}

/**
 * The network inputs (3 x inputSize x inputSize each) of every crop of `image`, in averaging order;
 * every resize (the image to each scale, a whole square to the input size) uses `filter`. With a
 * workspace the intermediate planes live in it (slots "scale<i>" for the i-th scale, "region" and
 * resizeImage's), and so does the one input of 1 crop (toNetworkInput's slots: then valid until the
 * workspace's next use); the inputs of 10 and 144 crops are fresh arrays.
 */
export function cropInputs(
  image: RgbaImage,
  crops: CropCount,
  inputSize = CROP,
  filter: ResizeFilter = "antialias",
  workspace?: Workspace,
  centre: CentreResize = "square",
): Float32Array[] {
  const views = cropViews(image.width, image.height, crops, inputSize, centre);
  if (crops === 1 && centre === "square")
    return [toNetworkInput(image, { resize: views[0].resizeW, crop: inputSize, filter, workspace })];
  const resized = new Map<string, RgbPlanes>();
  return views.map((v) => {
    const key = `${v.resizeW}x${v.resizeH}`;
    let planes = resized.get(key);
    if (!planes) {
      planes = resizeImage(
        image,
        v.resizeW,
        v.resizeH,
        filter,
        workspace && { workspace, slot: `scale${resized.size}` },
      );
      resized.set(key, planes);
    }
    return cropInput(planes, v, filter, workspace);
  });
}

/**
 * The mean of probability vectors, summed in the given order in float64 and divided by their
 * count, then rounded once to float32. Throws ArgumentError for no vectors or unequal lengths.
 */
export function averageProbabilities(all: readonly Float32Array[]): Float32Array {
  if (all.length === 0) throw new ArgumentError("averageProbabilities", "all", "at least one vector", 0);
  const n = all[0].length;
  const sum = new Float64Array(n);
  for (const p of all) {
    if (p.length !== n) throw new ArgumentError("averageProbabilities", "all", `vectors of ${n} values`, p.length);
    for (let i = 0; i < n; i++) sum[i] += p[i];
  }
  return Float32Array.from(sum, (v) => v / all.length);
}
