// The decoded picture every image path produces, and the default bound on its size.

/** ImageData-like picture: row-major, 4 bytes per pixel (R, G, B, A), each 0..255; data.length = width*height*4. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/**
 * Default largest image, in pixels (width*height), that decodeImage accepts (24 MP, e.g.
 * 6000x4000); checked from the file's header before anything is decoded or allocated.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 24_000_000;
