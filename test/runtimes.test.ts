// Smoke test that runs unchanged under Node, Deno and Bun (`npm test` runs it under all three,
// see run.ts): load on 1 thread, classify two listed photos, the same probability bits on 2
// threads (the worker pool: worker_threads in Node, Web Workers in Deno and Bun), dispose.
// The runner counts a process that does not exit on its own after dispose as crashed.

import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { InceptionError } from "../src/host/errors.js";
import { runtimeName } from "../src/host/runtime.js";
import { GoogLeNet } from "../src/node/index.js";
import { photoCases } from "./support/data.js";

const runtime = runtimeName();
const version = (process.versions as Record<string, string | undefined>)[runtime] ?? "?";
const photos = photoCases().slice(0, 2).map((p) => ({ ...p, bytes: new Uint8Array(readFileSync(p.file)) }));

/** Hex SHA-256 of the float bits (WebCrypto: the same API in every runtime; it takes an unshared copy). */
async function sha256(a: Float32Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", a.slice());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Loads on `threads`, classifies every photo (checking its top-1) and returns the probability hashes. */
async function classifyAll(threads: number): Promise<string[]> {
  const t0 = performance.now();
  const net = await GoogLeNet.load({ threads });
  const loaded = performance.now();
  const hashes: string[] = [];
  try {
    assert.is(net.threads, threads, `threads (${net.capabilities.reason})`);
    assert.is(net.build, "relaxed", `${runtime} supports relaxed SIMD, so "auto" takes it (${net.buildReason})`);
    for (const photo of photos) {
      const [top] = await net.classify(photo.bytes, { topK: 1, name: photo.file });
      assert.is(top.index, photo.top1, `${photo.file}: top-1 ${top.index} (${top.label}), expected ${photo.top1} (${photo.top1Label})`);
      hashes.push(await sha256((await net.run(net.toInput(photo.bytes, photo.file))).probabilities));
    }
    console.log(`  ${runtime} ${version}, ${threads} thread(s): build ${net.build} (${net.buildReason}); ` +
      `load ${(loaded - t0).toFixed(0)} ms, ${photos.length} classify + ${photos.length} run ${(performance.now() - loaded).toFixed(0)} ms`);
  } finally {
    await net.dispose();
  }
  const e = await net.run(new Float32Array(3 * 224 * 224)).catch((error: unknown) => error);
  assert.instance(e, InceptionError, "run after dispose rejects");
  return hashes;
}

let oneThread: string[] = [];

test(`${runtime}: on 1 thread, the relaxed build gives two photos their reference top-1`, async () => {
  oneThread = await classifyAll(1);
});

test(`${runtime}: on 2 threads, the same top-1 and the same SHA-256 of the probabilities as on 1`, async () => {
  assert.is(oneThread.length, photos.length, "the 1-thread test ran first");
  assert.equal(await classifyAll(2), oneThread, "SHA-256 of each photo's probabilities, 2 threads vs 1");
});

test.run();
