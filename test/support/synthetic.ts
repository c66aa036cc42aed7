// Deterministic photo-like test pictures (never committed as files): smooth lighting gradients, a few soft-edged
// discs and textured bands, and mild noise, so a JPEG of one has the coefficient statistics of a photo (mostly
// low frequencies, some edges, a noise floor) rather than of flat colour or pure noise.

import type { RgbaImage } from "../../src/model/image/decode.js";
import { mulberry32 } from "./rng.js";

/** A width x height RGBA photo-like picture (alpha 255), the same for the same seed. */
export function photoLike(width: number, height: number, seed = 1): RgbaImage {
  const rng = mulberry32(seed);
  const discs = Array.from({ length: 12 }, () => ({
    x: rng() * width,
    y: rng() * height,
    r: (0.05 + rng() * 0.2) * Math.min(width, height),
    rgb: [rng() * 255, rng() * 255, rng() * 255],
  }));
  const fx = (2 + rng() * 6) / width,
    fy = (2 + rng() * 6) / height;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o += 4) {
      const light = 0.6 + 0.4 * Math.sin(x * fx * 3.1) * Math.cos(y * fy * 2.3);
      let r = 90 + 80 * (x / width),
        g = 110 + 60 * (y / height),
        b = 140 - 50 * (x / width);
      for (const d of discs) {
        const dist = Math.hypot(x - d.x, y - d.y);
        const w = Math.min(1, Math.max(0, (d.r - dist) / 3)); // 3-pixel soft edge
        if (w > 0) {
          const texture = 1 + 0.15 * Math.sin((x + y) * 0.35) * Math.sin((x - y) * 0.21);
          r += w * (d.rgb[0] * texture - r);
          g += w * (d.rgb[1] * texture - g);
          b += w * (d.rgb[2] * texture - b);
        }
      }
      const noise = (rng() - 0.5) * 6;
      data[o] = r * light + noise;
      data[o + 1] = g * light + noise;
      data[o + 2] = b * light + noise;
      data[o + 3] = 255;
    }
  }
  return { width, height, data };
}
