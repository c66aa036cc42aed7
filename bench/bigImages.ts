// 12 MP test pictures made from a sample photo (never committed): coffee.png enlarged to 4000x3000
// (sharp, Lanczos), with seeded film-grain noise and a fine texture added so the enlargement
// compresses like a camera photo rather than like a smooth upscale, then written by sharp (libvips,
// mozjpeg) as a baseline 4:2:0 JPEG at quality 90 and as a PNG. Made once into a folder and reused.

import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { PHOTOS_DIR } from "../test/support/data.js";
import { mulberry32 } from "../test/support/rng.js";

export const BIG_WIDTH = 4000;
export const BIG_HEIGHT = 3000;
/** The photo the 12 MP pictures are made from, and its reference top-1 (photos.tsv: 967 espresso). */
export const BIG_SOURCE = "coffee.png";
export const BIG_SOURCE_TOP1 = 967;

/** Grain amplitude (uniform noise, +-GRAIN/2 per channel) and texture amplitude, in 8-bit levels. */
const GRAIN = 14;
const TEXTURE = 3;

/**
 * Paths of the 12 MP JPEG (4:2:0, quality 90, baseline) and PNG in `dir`, made there if missing
 * (seeded: the same pixels every time; the encoders' versions decide the exact bytes).
 */
export async function bigImages(dir: string): Promise<{ jpeg: string; png: string }> {
  const jpeg = join(dir, "coffee-4000x3000-q90-420.jpg");
  const png = join(dir, "coffee-4000x3000.png");
  if (existsSync(jpeg) && existsSync(png)) return { jpeg, png };
  mkdirSync(dir, { recursive: true });
  const { data } = await sharp(join(PHOTOS_DIR, BIG_SOURCE))
    .removeAlpha()
    .resize(BIG_WIDTH, BIG_HEIGHT, { fit: "cover", kernel: "lanczos3" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const rng = mulberry32(12);
  for (let y = 0, o = 0; y < BIG_HEIGHT; y++) {
    for (let x = 0; x < BIG_WIDTH; x++, o += 3) {
      const texture = TEXTURE * Math.sin(x * 0.9 + Math.sin(y * 0.31) * 3) * Math.sin(y * 0.7 + x * 0.13);
      const luma = (rng() - 0.5) * GRAIN + texture;
      for (let c = 0; c < 3; c++) {
        const v = data[o + c] + luma + (rng() - 0.5) * (GRAIN / 3);
        data[o + c] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
  }
  const raw = { raw: { width: BIG_WIDTH, height: BIG_HEIGHT, channels: 3 as const } };
  const write = async (file: string, bytes: Buffer): Promise<void> => {
    writeFileSync(`${file}.part`, bytes);
    renameSync(`${file}.part`, file);
  };
  await write(
    jpeg,
    await sharp(data, raw).jpeg({ quality: 90, chromaSubsampling: "4:2:0", progressive: false }).toBuffer(),
  );
  await write(png, await sharp(data, raw).png({ compressionLevel: 6 }).toBuffer());
  return { jpeg, png };
}
