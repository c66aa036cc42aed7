// Caffe-style input preprocessing for BVLC GoogLeNet: resize (antialiased or bilinear), centre crop,
// RGB -> BGR, per-channel mean subtraction, CHW float32. Pure JS (runs in browsers).

import { ArgumentError } from "../../host/errors.js";
import { validateRgba, type RgbaImage } from "./decode.js";
import { scratch, type Workspace } from "./workspace.js";

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

/**
 * How an image is resized. "antialias" (the default): a triangle filter whose support widens with the
 * shrink factor, each tap weighted by its distance to the destination pixel's centre and normalised
 * (PIL's BILINEAR, torchvision's antialias=true); when enlarging it equals "bilinear". "bilinear": 2x2
 * taps at half-pixel centres, clamped to the edge (OpenCV INTER_LINEAR, Caffe's cv::resize); shrinking
 * by more than 2x then skips source pixels and aliases.
 */
export type ResizeFilter = "antialias" | "bilinear";
export const RESIZE_FILTERS: readonly ResizeFilter[] = ["antialias", "bilinear"];

/**
 * The taps of one axis: destination pixel d reads source pixels index[d * width + k] with weights
 * weight[d * width + k], k < width (unused taps repeat a valid index with weight 0).
 */
interface AxisTaps {
  width: number;
  index: Int32Array;
  weight: Float64Array;
}

/** The taps of one axis (in the workspace's slots "taps.<axis>.*" when given). */
function axisTaps(
  src: number,
  dst: number,
  filter: ResizeFilter,
  workspace: Workspace | undefined,
  axis: string,
): AxisTaps {
  const scale = src / dst;
  const arrays = (width: number): { index: Int32Array; weight: Float64Array } => ({
    index: scratch(workspace, Int32Array, `taps.${axis}.index`, width * dst),
    weight: scratch(workspace, Float64Array, `taps.${axis}.weight`, width * dst),
  });
  if (filter === "bilinear") {
    const { index, weight } = arrays(2);
    for (let d = 0; d < dst; d++) {
      const s = Math.min(Math.max((d + 0.5) * scale - 0.5, 0), src - 1);
      const i0 = Math.floor(s);
      index[2 * d] = i0;
      index[2 * d + 1] = Math.min(i0 + 1, src - 1);
      weight[2 * d] = 1 - (s - i0);
      weight[2 * d + 1] = s - i0;
    }
    return { width: 2, index, weight };
  }
  // Source pixel x (centre x + 0.5) is a tap of destination d (centre (d + 0.5) * scale) when their
  // distance is below `support`; its weight falls linearly from 1 at distance 0 to 0 at `support`.
  const support = Math.max(scale, 1);
  const width = Math.ceil(2 * support) + 1;
  const { index, weight } = arrays(width);
  for (let d = 0; d < dst; d++) {
    const centre = (d + 0.5) * scale;
    const first = Math.max(0, Math.floor(centre - support + 0.5));
    const end = Math.min(src, Math.floor(centre + support + 0.5));
    let sum = 0;
    for (let x = first; x < end; x++) sum += Math.max(0, 1 - Math.abs(x + 0.5 - centre) / support);
    for (let k = 0; k < width; k++) {
      const x = Math.min(first + k, end - 1);
      index[d * width + k] = x;
      weight[d * width + k] = first + k < end ? Math.max(0, 1 - Math.abs(x + 0.5 - centre) / support) / sum : 0;
    }
  }
  return { width, index, weight };
}

/**
 * Where a source's samples are: channel c (0 R, 1 G, 2 B) of pixel (x, y) is
 * data[base + c * channelStride + y * rowStride + x * pixelStride].
 */
interface SourceLayout {
  data: ArrayLike<number>;
  base: number;
  channelStride: number;
  rowStride: number;
  pixelStride: number;
}

/** Where resample's arrays live: a workspace and the slot of the output planes (default: fresh arrays). */
export interface ResizeScratch {
  workspace: Workspace;
  /** The output's slot; the taps and the row pass use the slots "taps.*" and "resample.rows". */
  slot: string;
}

/**
 * Separable resize of a w x h source to outW x outH float RGB planes: rows first (into float64),
 * then columns, each sum in tap order in float64, rounded once to float32.
 */
function resample(
  src: SourceLayout,
  w: number,
  h: number,
  outW: number,
  outH: number,
  filter: ResizeFilter,
  into?: ResizeScratch,
): RgbPlanes {
  const workspace = into?.workspace;
  const xs = axisTaps(w, outW, filter, workspace, "x"),
    ys = axisTaps(h, outH, filter, workspace, "y");
  const rows = scratch(workspace, Float64Array, "resample.rows", 3 * h * outW);
  const { data, base, channelStride, rowStride, pixelStride } = src;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      const from = base + c * channelStride + y * rowStride;
      const to = (c * h + y) * outW;
      for (let x = 0; x < outW; x++) {
        let sum = 0;
        for (let k = x * xs.width; k < (x + 1) * xs.width; k++)
          sum += data[from + xs.index[k] * pixelStride] * xs.weight[k];
        rows[to + x] = sum;
      }
    }
  }
  const plane = outW * outH;
  const out = scratch(workspace, Float32Array, into?.slot ?? "", 3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < outH; y++) {
      const to = c * plane + y * outW;
      for (let x = 0; x < outW; x++) {
        let sum = 0;
        for (let k = y * ys.width; k < (y + 1) * ys.width; k++)
          sum += rows[(c * h + ys.index[k]) * outW + x] * ys.weight[k];
        out[to + x] = sum;
      }
    }
  }
  return { width: outW, height: outH, data: out };
}

/**
 * Resizes RGBA pixels to width x height float RGB planes with `filter` (default "antialias"); alpha
 * is dropped. A same-size resize returns the source values exactly. Throws ImageError for an invalid
 * image and ArgumentError for a width or height that is not a positive integer. With `into`, the
 * result is a view of its workspace (slot into.slot), valid until that slot is next taken.
 */
export function resizeImage(
  image: RgbaImage,
  width: number,
  height: number,
  filter: ResizeFilter = "antialias",
  into?: ResizeScratch,
): RgbPlanes {
  validateRgba(image, "image");
  checkPositiveInteger("resizeImage", "width", width);
  checkPositiveInteger("resizeImage", "height", height);
  checkFilter("resizeImage", "filter", filter);
  const layout = { data: image.data, base: 0, channelStride: 1, rowStride: 4 * image.width, pixelStride: 4 };
  return resample(layout, image.width, image.height, width, height, filter, into);
}

/**
 * Resizes (as resizeImage) the region [x, x + w) x [y, y + h) of float RGB planes to outW x outH;
 * taps stay inside the region. The region must lie inside the planes. `into` as for resizeImage.
 */
export function resizePlanes(
  planes: RgbPlanes,
  x: number,
  y: number,
  w: number,
  h: number,
  outW: number,
  outH: number,
  filter: ResizeFilter = "antialias",
  into?: ResizeScratch,
): RgbPlanes {
  for (const [name, v] of [
    ["w", w],
    ["h", h],
    ["outW", outW],
    ["outH", outH],
  ] as const) {
    checkPositiveInteger("resizePlanes", name, v);
  }
  checkFilter("resizePlanes", "filter", filter);
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
  const layout = {
    data: planes.data,
    base: y * planes.width + x,
    channelStride: planes.width * planes.height,
    rowStride: planes.width,
    pixelStride: 1,
  };
  return resample(layout, w, h, outW, outH, filter, into);
}

/** Checks a resize filter argument; throws ArgumentError naming `op` and `argument`. */
export function checkFilter(op: string, argument: string, filter: unknown): ResizeFilter {
  if (!RESIZE_FILTERS.includes(filter as ResizeFilter)) {
    throw new ArgumentError(op, argument, `one of ${RESIZE_FILTERS.map((f) => `"${f}"`).join(", ")}`, filter);
  }
  return filter as ResizeFilter;
}

/** Options of toNetworkInput; defaults RESIZE_TO, CROP, BGR_MEAN. */
export interface NetworkInputOptions {
  /** Square side to resize to (positive integer). */
  resize?: number;
  /** Centre-crop side (positive integer, <= resize). */
  crop?: number;
  /** Mean subtracted per channel, in order B, G, R (three finite numbers). */
  mean?: readonly number[];
  /** How the image is resized (default "antialias"). */
  filter?: ResizeFilter;
  /**
   * Scratch memory reused across calls (slots "resize", "input" and resizeImage's): the result is
   * then a view of the workspace, valid until its next use. Default: fresh arrays.
   */
  workspace?: Workspace;
}

/**
 * Caffe-style network input: resize to resize x resize (options.filter), centre crop crop x crop at offset
 * floor((resize - crop) / 2), reorder to B, G, R, subtract mean. Returns CHW float32
 * [3][crop][crop] (B plane, G plane, R plane); alpha is ignored. Throws ImageError for an
 * invalid image and ArgumentError for invalid options.
 */
export function toNetworkInput(image: RgbaImage, options: NetworkInputOptions = {}): Float32Array {
  const { resize = RESIZE_TO, crop = CROP, mean = BGR_MEAN, filter = "antialias", workspace } = options;
  checkPositiveInteger("toNetworkInput", "options.resize", resize);
  checkPositiveInteger("toNetworkInput", "options.crop", crop);
  if (crop > resize)
    throw new ArgumentError("toNetworkInput", "options.crop", `at most options.resize (${resize})`, crop);
  if (mean.length !== 3 || !mean.every(Number.isFinite)) {
    throw new ArgumentError("toNetworkInput", "options.mean", "three finite numbers [B, G, R]", `[${mean.join(", ")}]`);
  }
  checkFilter("toNetworkInput", "options.filter", filter);
  const resized = resizeImage(image, resize, resize, filter, workspace && { workspace, slot: "resize" }).data;
  const offset = Math.floor((resize - crop) / 2);
  const plane = crop * crop;
  const out = scratch(workspace, Float32Array, "input", 3 * plane);
  for (let c = 0; c < 3; c++) {
    const srcPlane = (2 - c) * resize * resize; // output B, G, R from planes R, G, B
    for (let y = 0; y < crop; y++) {
      const srcRow = srcPlane + (y + offset) * resize + offset;
      for (let x = 0; x < crop; x++) out[c * plane + y * crop + x] = resized[srcRow + x] - mean[c];
    }
  }
  return out;
}
