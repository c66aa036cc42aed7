// The Chromium child's page (bundled by browser-child.ts with the library's inline entry): the
// page's HTML imports this bundle and records how long that took (globalThis.benchImportMs, the
// import phase). The input tensor (input.f32) and the weights (weights.iwnet) come from the
// child's server. The driver calls bench.load(settings), then bench.measure(runs).

import { compileKernels, type BuildChoice } from "../src/host/wasm/kernels.js";
import { decodeWeights, GoogLeNet, googlenetGraph } from "../src/inline.js";
import {
  EngineUnavailable,
  inceptionEngine,
  loadAndWarm,
  timeBatches,
  type Engine,
  type Loaded,
  type Precision,
} from "./child-core.js";

/** What browser-child.ts passes to bench.load. */
export interface PageSettings {
  threads: number;
  build: BuildChoice;
  precision: Precision;
  maxBatch: number;
  warmup: number;
  /** inception-wasm's package version. */
  version: string;
}

/** The page's API, as globalThis.bench. */
export interface PageApi {
  /** The loaded engine's report, or why it cannot run here (an EngineUnavailable does not survive page.evaluate). */
  load(settings: PageSettings): Promise<Loaded | { unavailable: string }>;
  measure(runs: Record<number, number>): Promise<Record<number, number[]>>;
}

const bytes = async (name: string): Promise<ArrayBuffer> => {
  const r = await fetch(name);
  if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
  return r.arrayBuffer();
};

let engine: Engine | undefined;
let image: Float32Array | undefined;

const api: PageApi = {
  async load(s) {
    const input = new Float32Array(await bytes("input.f32"));
    image = input;
    const importMs = (globalThis as unknown as { benchImportMs: number }).benchImportMs;
    const r = await loadAndWarm(
      async (time) => {
        await time("compileMs", () => compileKernels(s.build));
        const tensors = await time("weightsMs", async () =>
          decodeWeights(new Uint8Array(await bytes("weights.iwnet")), "weights.iwnet", googlenetGraph()),
        );
        const options = { weights: tensors, threads: s.threads, build: s.build };
        return inceptionEngine(GoogLeNet, options, s.precision, s.maxBatch, s.version, time);
      },
      input,
      s.warmup,
      { importMs },
    ).catch((e: unknown) => {
      if (e instanceof EngineUnavailable) return { unavailable: e.message };
      throw e;
    });
    if ("unavailable" in r) return r;
    engine = r.engine;
    return r.loaded;
  },
  async measure(runs) {
    if (!engine || !image) throw new Error("bench.measure before bench.load");
    return timeBatches(engine, image, runs);
  },
};
(globalThis as unknown as { bench: PageApi }).bench = api;
