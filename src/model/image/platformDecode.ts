// Images decoded by the platform in browsers: createImageBitmap for encoded bytes and Blobs (any
// format the browser reads, at native speed), and drawing onto an OffscreenCanvas for what is
// already a picture (ImageBitmap, <img>, <canvas>, VideoFrame, OffscreenCanvas). The pixels are
// read back as RGBA without colour-space conversion or premultiplied alpha, so an opaque PNG gives
// the same bytes as the JavaScript decoder (decode.ts) and preprocessing is then identical.

import { ImageError } from "../../host/errors.js";
import { runtimeName } from "../../host/runtimeName.js";
import type { RgbaImage } from "./decode.js";

/** Pictures only a browser has; classify() accepts them where the platform can draw them. */
export type PlatformImage = Blob | ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | VideoFrame;

function isInstance(value: unknown, name: string): boolean {
  const type = (globalThis as Record<string, unknown>)[name];
  return typeof type === "function" && value instanceof (type as new () => unknown);
}

/** Whether `image` is one of PlatformImage in this runtime. */
export function isPlatformImage(image: unknown): image is PlatformImage {
  return ["Blob", "ImageBitmap", "HTMLImageElement", "HTMLCanvasElement", "OffscreenCanvas", "VideoFrame"].some((t) =>
    isInstance(image, t),
  );
}

/**
 * Whether this runtime can decode and draw images: browsers and their workers (Deno has
 * createImageBitmap and an OffscreenCanvas without a 2D context, so the runtime is checked too).
 */
export function platformCanDecode(): boolean {
  const runtime = runtimeName();
  return (
    (runtime === "browser" || runtime === "browser-worker") &&
    typeof createImageBitmap === "function" &&
    typeof OffscreenCanvas === "function"
  );
}

/** Size of a drawable picture. */
function sizeOf(image: Exclude<PlatformImage, Blob>): { width: number; height: number } {
  if (isInstance(image, "HTMLImageElement")) {
    const img = image as HTMLImageElement;
    return { width: img.naturalWidth, height: img.naturalHeight };
  }
  if (isInstance(image, "VideoFrame")) {
    const frame = image as VideoFrame;
    return { width: frame.displayWidth, height: frame.displayHeight };
  }
  const { width, height } = image as ImageBitmap;
  return { width, height };
}

/** Draws a picture onto an OffscreenCanvas of its size and reads the RGBA pixels back. */
function readPixels(image: Exclude<PlatformImage, Blob>, name: string): RgbaImage {
  const { width, height } = sizeOf(image);
  if (!(width > 0 && height > 0)) {
    throw new ImageError(
      name,
      `expected a picture with pixels (a loaded image, a video frame), found ${width}x${height}`,
    );
  }
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d", { willReadFrequently: true, colorSpace: "srgb" });
  if (context === null) throw new ImageError(name, "the platform gave no 2D canvas context to read the pixels with");
  context.drawImage(image as CanvasImageSource, 0, 0);
  const data = context.getImageData(0, 0, width, height, { colorSpace: "srgb" });
  return { width, height, data: data.data };
}

/**
 * RGBA pixels of encoded bytes, a Blob or a picture, decoded by the platform. Bytes the
 * platform cannot decode reject with an ImageError naming `name`.
 */
export async function decodeWithPlatform(image: Uint8Array | PlatformImage, name: string): Promise<RgbaImage> {
  if (!(image instanceof Uint8Array) && !isInstance(image, "Blob")) {
    return readPixels(image as Exclude<PlatformImage, Blob>, name);
  }
  const blob = image instanceof Uint8Array ? new Blob([image as Uint8Array<ArrayBuffer>]) : (image as Blob);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch (cause) {
    const head = new Uint8Array(await blob.slice(0, 8).arrayBuffer());
    const hex = Array.from(head, (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new ImageError(
      name,
      `the browser cannot decode this image (${(cause as Error).message}): expected an image format it reads ` +
        `(JPEG, PNG, WebP, GIF, AVIF, BMP), found ${blob.size} bytes starting ${hex || "(empty)"}`,
      { cause },
    );
  }
  try {
    return readPixels(bitmap, name);
  } finally {
    bitmap.close();
  }
}
