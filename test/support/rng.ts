// Seeded pseudo-random numbers for randomized tests. Every randomized test file prints its
// seed; rerun with TEST_SEED=<seed> to replay a failure exactly.

/** A generator of uniform floats in [0, 1). */
export type Rng = () => number;

/** mulberry32: a small, fast 32-bit PRNG (period 2^32), good enough for test data. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed: env TEST_SEED (a 32-bit unsigned integer) or, when unset, the clock. */
export function seedFromEnv(): number {
  const text = process.env.TEST_SEED;
  if (text !== undefined && text !== "") {
    const seed = Number(text);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`TEST_SEED must be an integer in [0, 2^32), found "${text}"`);
    }
    return seed;
  }
  return Date.now() % 0x100000000;
}

/** Reads the seed and prints it with the command that replays it. */
export function announceSeed(file: string): number {
  const seed = seedFromEnv();
  console.log("seed", seed, `- replay with TEST_SEED=${seed} node dist/test/run.js ${file}`);
  return seed;
}

/** An independent stream per test name, so each test replays alone and in any order. */
export function rngFor(seed: number, name: string): Rng {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return mulberry32(h ^ 0x9e3779b9);
}

/** n floats uniform in [lo, hi), rounded to f32. */
export function randomArray(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng();
  return out;
}

/** An integer uniform in [lo, hi] (inclusive). */
export function randomInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** One element of `items`, uniformly. */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

/** A Fisher-Yates shuffle of a copy of `items`. */
export function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
