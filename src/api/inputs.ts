// Inputs: what classify() takes (encoded bytes, streams, pixels, platform images, ready tensors),
// decoded and validated into RGBA pixels or checked as a network input tensor.

import { ArgumentError } from "../host/errors.js";
import { firstOutside } from "../host/ir/tensors.js";
import {
  decodeImage,
  readImageStream,
  validateRgba,
  type DecodeOptions,
  type RgbaImage,
} from "../model/image/decode.js";
import {
  decodeWithPlatform,
  isPlatformImage,
  platformCanDecode,
  type PlatformImage,
} from "../model/image/platformDecode.js";
import { CROP, RESIZE_TO } from "../model/image/preprocess.js";
import type { CropCount } from "../model/image/crops.js";
import { describe } from "./options.js";

/**
 * Input to classify(): encoded image bytes (Uint8Array, Node Buffer or ArrayBuffer, or a ReadableStream
 * of them, e.g. a fetch body), RGBA pixels (ImageData), a ready CHW tensor (BGR, mean subtracted), or
 * in browsers a Blob, ImageBitmap, <img>, <canvas>, OffscreenCanvas or VideoFrame.
 */
export type ImageInput =
  | Uint8Array
  | ArrayBuffer
  | ReadableStream<Uint8Array>
  | RgbaImage
  | Float32Array
  | PlatformImage;

/**
 * Largest magnitude accepted in an input tensor: a preprocessed image lies within +-255, so
 * anything near this is not an image and would only overflow the activations.
 */
export const MAX_INPUT_MAGNITUDE = 1e6;

/**
 * Throws ArgumentError (naming `op` and `argument`) unless `input` is a network input tensor: a
 * Float32Array of 3 x inputSize x inputSize values within +-MAX_INPUT_MAGNITUDE.
 */
export function checkTensor(
  input: unknown,
  inputSize: number,
  op: string,
  argument = "input",
): asserts input is Float32Array {
  const want = 3 * inputSize * inputSize;
  const expected = `a Float32Array of 3x${inputSize}x${inputSize} = ${want} finite values`;
  if (!(input instanceof Float32Array) || input.length !== want) {
    const found = input instanceof Float32Array ? `${input.length} values` : describe(input);
    throw new ArgumentError(op, argument, expected, found);
  }
  const bad = firstOutside(input, MAX_INPUT_MAGNITUDE);
  if (bad >= 0) {
    throw new ArgumentError(
      op,
      argument,
      `${expected} within +-${MAX_INPUT_MAGNITUDE}`,
      `${input[bad]} at index ${bad}`,
    );
  }
}

/**
 * How images are decoded for a crop protocol: at most maxPixels, and JPEGs at the smallest DCT
 * scale whose short side still covers the largest resize the protocol makes (unless scaledJpeg is off).
 */
export function decodeOptionsFor(
  crops: CropCount,
  inputSize: number,
  maxPixels: number,
  scaledJpeg: boolean,
): DecodeOptions {
  const largest = crops === 144 ? 352 : RESIZE_TO; // the paper's largest scale, else the square resize
  const minShortSide = scaledJpeg ? Math.round((largest * inputSize) / CROP) : Number.POSITIVE_INFINITY;
  return { maxPixels, minShortSide };
}

/**
 * Decoded, validated RGBA pixels of an image given as bytes (Uint8Array, Buffer, ArrayBuffer; at most
 * maxPixels, read from the header before decoding) or pixels. ArgumentError for any other value.
 */
export function toRgba(image: unknown, name: string, decode: DecodeOptions): RgbaImage {
  const isRgba =
    typeof image === "object" && image !== null && !ArrayBuffer.isView(image) && "width" in image && "data" in image;
  if (!(image instanceof Uint8Array || image instanceof ArrayBuffer || isRgba)) {
    throw new ArgumentError(
      "GoogLeNet.classify",
      "image",
      "JPEG/PNG bytes (Uint8Array, Buffer, ArrayBuffer), RGBA pixels { width, height, data } or a Float32Array tensor",
      describe(image),
    );
  }
  const rgba =
    image instanceof Uint8Array || image instanceof ArrayBuffer
      ? decodeImage(image instanceof ArrayBuffer ? new Uint8Array(image) : image, name, decode)
      : (image as RgbaImage);
  validateRgba(rgba, name);
  return rgba;
}

/**
 * Decoded, validated RGBA pixels of an image: a stream is read into bytes first (readImageStream);
 * in browsers (createImageBitmap and OffscreenCanvas present) bytes and pictures are decoded by the
 * platform, elsewhere bytes by the JavaScript decoders.
 */
export async function pixelsOf(
  image: Exclude<ImageInput, Float32Array>,
  name: string,
  decode: DecodeOptions,
): Promise<RgbaImage> {
  const bytesOrImage =
    typeof ReadableStream === "function" && image instanceof ReadableStream
      ? await readImageStream(image, name, decode.maxPixels)
      : (image as Exclude<typeof image, ReadableStream>);
  const platform = isPlatformImage(bytesOrImage) || (bytesOrImage instanceof Uint8Array && platformCanDecode());
  return toRgba(platform ? await decodeWithPlatform(bytesOrImage, name) : bytesOrImage, name, decode);
}
