// The golden set: reference output bits of the baseline build on deterministic synthetic
// inputs, with the hash of the weights they were computed with. The baseline build (mul then
// add, no fused multiply-add, a fixed reduction order at any thread count) gives the same bits
// on every machine and runtime, so any difference is a bug or different weights. Shipped in
// the package for `inception-wasm verify`; test/runtimes.test.ts checks it in every runtime.
//
// Produced by `inception-wasm verify --json` (its `computed` fields) with the BVLC weights,
// baseline build, Node 20.20.2, and checked unchanged under Node 22, 24, 26, Deno and Bun.
// Regenerate only on purpose (a kernel change that alters the bits), never to make a test pass.

import { hex, sha256 } from "../../host/digest.js";
import { WeightsError } from "../../host/errors.js";
import type { ExpectedTensor, TensorMap } from "../../host/ir/tensors.js";

/** A golden input: all zeros, or syntheticInput(length, seed). */
export interface GoldenInput {
  name: string;
  seed: number | "zeros";
}

/** Reference bits of one golden input: SHA-256 (hex) of the float32 outputs and the top-1 class. */
export interface GoldenOutput {
  name: string;
  logitsSha256: string;
  probabilitiesSha256: string;
  top1: number;
}

export const GOLDEN = {
  /** Square input side the outputs are for. */
  inputSize: 224,
  /** weightsSha256() of the BVLC GoogLeNet weights (bvlc-params/*.mat, or their IWNET conversion). */
  weightsSha256: "11fedd33d712bf597b748581296bb6089d5295e9b1ceb0263bdae9156adaee13",
  inputs: [
    { name: "zeros", seed: "zeros" },
    { name: "lcg-12345", seed: 12345 },
    { name: "lcg-2718281", seed: 2718281 },
  ] as readonly GoldenInput[],
  /** The baseline build's outputs, in the order of `inputs`. */
  baseline: [
    {
      name: "zeros",
      top1: 885,
      logitsSha256: "05a79c6af0d2912fb655b011a2d1ee02f1d0d47db4df0c9609a0c3dac78cfcef",
      probabilitiesSha256: "9994e7b88a4a048ac8531e778467144da2f3d356a320267e05002aa75a4a22a7",
    },
    {
      name: "lcg-12345",
      top1: 489,
      logitsSha256: "bc2ed3434ad031df7a07764f46557b13c834636371c73663be64ba1b2d1fe5ec",
      probabilitiesSha256: "45ae4aa5daf9ce15167544c03837e14537fedff44f52ceb67eaa4000594f14ef",
    },
    {
      name: "lcg-2718281",
      top1: 549,
      logitsSha256: "a5a3c0be1001d1e31756cf94fdeb4c9d0f8b1f4848f405365751a2381e82e416",
      probabilitiesSha256: "34d811c3043e4b03159f14ada68e73311b037d7a5e7bb658fa9216f9267f0fae",
    },
  ] as readonly GoldenOutput[],
} as const;

/**
 * A deterministic input with the magnitudes of a real one (values in about -120..130): the
 * recurrence s = (s * 1103515245 + 12345) >>> 0 from `seed`, scaled. It is computed in IEEE
 * double (the product rounds, so it is not an exact mod-2^32 LCG), which ECMAScript defines
 * exactly: every runtime produces the same floats. Seed 12345 is the benchmark's input.
 */
export function syntheticInput(length: number, seed = 12345): Float32Array {
  const x = new Float32Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = (s / 2 ** 32) * 250 - 120;
  }
  return x;
}

/** The network input (3 x inputSize x inputSize) of a golden input. */
export function goldenInput(input: GoldenInput, inputSize: number = GOLDEN.inputSize): Float32Array {
  const length = 3 * inputSize * inputSize;
  return input.seed === "zeros" ? new Float32Array(length) : syntheticInput(length, input.seed);
}

/** Hex SHA-256 of the float32 bits (little-endian, as every supported platform stores them). */
export async function floatsSha256(a: Float32Array): Promise<string> {
  return hex(await sha256(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
}

/**
 * Hex SHA-256 of the weights in canonical form: the float32 data of each tensor of `expected`
 * (the network's order, see expectedWeights), concatenated. Names and shapes are fixed by the
 * network (checkTensors enforces them), so only the values are hashed. Throws WeightsError if a tensor is missing.
 */
export async function weightsSha256(tensors: TensorMap, expected: readonly ExpectedTensor[]): Promise<string> {
  const parts = expected.map(({ name }) => {
    const t = tensors.get(name);
    if (t === undefined) throw new WeightsError("weights", name, `missing tensor ${name}`);
    return t.data;
  });
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    all.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  return hex(await sha256(all));
}
