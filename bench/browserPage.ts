// The Chromium child's page (bundled by browserChild.ts with the library's inline entry): the
// page's HTML imports this bundle and records how long that took (globalThis.benchImportMs,
// inception-wasm's import phase); onnxruntime-web (ort.js), tfjs-backend-wasm (tfjs.js) and
// LiteRT.js (litert.js) are bundles of their own, imported when asked for (their import phase),
// their wasm files served beside them. The input tensor (input.f32), the weights (weights.iwnet)
// and the ONNX and TFLite exports (model.onnx, model.tflite) come from the child's server. The
// driver calls bench.load(settings), then bench.measure(runs). A binary's size and LiteRT.js's
// version are left 0 and "" for the driver (it has the files).

import type * as LiteRt from "@litertjs/core";
import type * as TfWasm from "@tensorflow/tfjs-backend-wasm";
import type * as Tf from "@tensorflow/tfjs-core";
import type * as OrtWeb from "onnxruntime-web";
import { compileKernels, type BuildChoice, type BuildName } from "../src/host/wasm/kernels.js";
import { registerPeakOf } from "../src/host/wasm/peak.js";
import { decodeWeights, GoogLeNet, googlenetGraph, type TensorMap } from "../src/inline.js";
import {
  EngineUnavailable,
  inceptionEngine,
  loadAndWarm,
  type Measured,
  timeBatches,
  type Engine,
  type Loaded,
  type Precision,
  type Timer,
} from "./childCore.js";
import type { EngineName } from "./engines.js";
import { litertEngine, ortWebEngine, tfjsEngine } from "./enginesWeb.js";
import { inlineRuntime } from "../src/host/inline/runtime.js";

/** What browserChild.ts passes to bench.load. */
export interface PageSettings {
  engine: Exclude<EngineName, "ort-node">;
  threads: number;
  build: BuildChoice;
  precision: Precision;
  maxBatch: number;
  warmup: number;
  /** inception-wasm's package version. */
  version: string;
  /** What the child changed in the page for this engine (tfjsCoresOverride in browserChild.ts): the row's caveat. */
  caveat?: string;
}

/** The page's API, as globalThis.bench. */
export interface PageApi {
  /** The loaded engine's report, or why it cannot run here (an EngineUnavailable does not survive page.evaluate). */
  load(settings: PageSettings): Promise<Loaded | { unavailable: string }>;
  /** The timed runs, then the engine's register-only peak (inception-wasm only: Engine.registerPeak). */
  measure(runs: Record<number, number>): Promise<Measured>;
}

const bytes = async (name: string): Promise<ArrayBuffer> => {
  const r = await fetch(name);
  if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
  return r.arrayBuffer();
};

const here = (file: string): string => new URL(file, location.href).href;
const tensors = async (): Promise<TensorMap> =>
  decodeWeights(new Uint8Array(await bytes("weights.iwnet")), "weights.iwnet", googlenetGraph());
const WORKERS = "Web Workers in a cross-origin isolated page";

/** Each engine's load in the page. */
const loaders: Record<PageSettings["engine"], (s: PageSettings, time: Timer) => Promise<Engine>> = {
  async "inception-wasm"(s, time) {
    await time("compileMs", () => compileKernels(s.build, inlineRuntime));
    const weights = await time("weightsMs", tensors);
    const options = { weights, threads: s.threads, build: s.build };
    const peakOf = (build: BuildName) => registerPeakOf(build, inlineRuntime);
    return inceptionEngine(GoogLeNet, options, s.precision, s.maxBatch, s.version, time, peakOf);
  },
  async "ort-web"(s, time) {
    const ort = (await time("importMs", () => import(here("ort.js")))) as typeof OrtWeb;
    ort.env.wasm.wasmPaths = here("./");
    const model = async () => new Uint8Array(await bytes("model.onnx"));
    const engine = await ortWebEngine(ort, s.threads, model, time, WORKERS);
    return { ...engine, binary: { name: "ort-wasm-simd-threaded.wasm", bytes: 0, kind: "wasm" } };
  },
  async "tfjs-wasm"(s, time) {
    const { tf, backend } = (await time("importMs", () => import(here("tfjs.js")))) as {
      tf: typeof Tf;
      backend: typeof TfWasm;
    };
    backend.setWasmPaths(here("./"));
    const { wasm, ...engine } = await tfjsEngine(tf, backend, s.threads, tensors, time, WORKERS, s.caveat);
    return { ...engine, binary: { name: wasm, bytes: 0, kind: "wasm" } };
  },
  async litert(s, time) {
    const lrt = (await time("importMs", () => import(here("litert.js")))) as typeof LiteRt;
    const start = (threaded: boolean) => lrt.loadLiteRt(here("./"), { threads: threaded });
    const model = async () => new Uint8Array(await bytes("model.tflite"));
    const { wasm, ...engine } = await litertEngine(lrt, s.threads, start, model, time, WORKERS);
    return { ...engine, version: "", binary: { name: wasm, bytes: 0, kind: "wasm" } };
  },
};

let engine: Engine | undefined;
let image: Float32Array | undefined;

const api: PageApi = {
  async load(s) {
    const input = new Float32Array(await bytes("input.f32"));
    image = input;
    const r = await loadAndWarm(
      (time) => loaders[s.engine](s, time),
      input,
      s.warmup,
      s.engine === "inception-wasm"
        ? { importMs: (globalThis as unknown as { benchImportMs: number }).benchImportMs }
        : {},
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
    const samples = await timeBatches(engine, image, runs);
    return { samples, registerPeak: await engine.registerPeak?.() };
  },
};
(globalThis as unknown as { bench: PageApi }).bench = api;
