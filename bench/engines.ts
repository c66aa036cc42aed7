// The engines the suite compares under Node, Deno and Bun, behind one interface (childCore.ts):
// a cold start timed phase by phase, then runs of a batch of NCHW images. All run the same network
// on the same weights: inception-wasm and tfjs-wasm from the weight tensors, the onnxruntimes from
// the ONNX export of those tensors (src/model/formats/onnxExport.ts), LiteRT.js from their TFLite
// export (src/model/formats/tfliteExport.ts). The adapters after each
// import are in enginesWeb.ts (shared with the Chromium page); this file imports and finds files.

import { readdir, readFile, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, sep } from "node:path";
import type { Graph } from "../src/host/ir/graph.js";
import type { BuildChoice, BuildName } from "../src/host/wasm/kernels.js";
import { runtimeName } from "../src/host/runtimeName.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { loadWeights, projectRoot } from "../src/node/weights.js";
import { expectedWeights, type TensorMap } from "../src/host/ir/tensors.js";
import {
  EngineUnavailable,
  inceptionEngine,
  INPUT_SIZE,
  type Binary,
  type Engine,
  type Precision,
  type Timer,
} from "./childCore.js";
import { litertPackage, startLitertNode } from "../test/support/litert.js";
import { litertEngine, ortEngine, ortWebEngine, tfjsEngine } from "./enginesWeb.js";
import { nodeRuntime } from "../src/node/runtime.js";

/** inception-wasm and the engines it is compared with. */
export const ENGINES = ["inception-wasm", "ort-web", "tfjs-wasm", "ort-node", "litert"] as const;
export type EngineName = (typeof ENGINES)[number];

/** What a child process loads. */
export interface EngineConfig {
  engine: EngineName;
  threads: number;
  /** inception-wasm's precision mode (the other engines have one: float32 as their defaults run it). */
  precision: Precision;
  /** Largest batch the child runs (inception-wasm plans its memory for it: maxBatch). */
  maxBatch: number;
  /** inception-wasm's kernel build. */
  build: BuildChoice;
  /** Weights for inception-wasm and tfjs-wasm (MAT folder or .iwnet; default the data folder). */
  weights?: string;
  /** The ONNX export of the same weights, for the onnxruntimes. */
  onnxFile: string;
  /** The TFLite export of the same weights, for LiteRT.js. */
  tfliteFile: string;
}

const require = createRequire(import.meta.url);

/** The runtime this engine runs in, as thread notes name it (Node, Deno or Bun). */
const RUNTIME = { deno: "Deno", bun: "Bun" }[runtimeName() as string] ?? "Node";

async function binaryOf(files: string[], kind: Binary["kind"]): Promise<Binary> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  return { name: files.map((f) => basename(f)).join(" + "), bytes: sizes.reduce((a, b) => a + b, 0), kind };
}

/** Why an engine package is missing (`detail`: the resolver's message), naming the command that installs it. */
export function engineNotInstalled(name: string, detail: string): EngineUnavailable {
  return new EngineUnavailable(
    `${name} is not installed (${detail}): the comparison suite's packages install into bench/node_modules ` +
      "with `node scripts/provision.mjs bench` (npm run bench does it)",
  );
}

/** Imports an engine package (bench/package.json's, or onnxruntime-node); a missing one becomes EngineUnavailable. */
async function importEngine<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND")
      throw engineNotInstalled(name, (error as Error).message);
    throw error;
  }
}

/** inception-wasm's version (package.json). */
export async function packageVersion(): Promise<string> {
  return (JSON.parse(await readFile(join(projectRoot(), "package.json"), "utf8")) as { version: string }).version;
}

function weightsFor(config: EngineConfig, graph: Graph): Promise<{ tensors: TensorMap }> {
  return loadWeights({ source: config.weights, expected: expectedWeights(graph, INPUT_SIZE, INPUT_SIZE) });
}

async function loadInceptionWasm(config: EngineConfig, time: Timer): Promise<Engine> {
  const [{ GoogLeNet }, { compileKernels }, { registerPeakOf }] = await time("importMs", () =>
    Promise.all([
      import("../src/node/index.js"),
      import("../src/host/wasm/kernels.js"),
      import("../src/host/wasm/peak.js"),
    ]),
  );
  await time("compileMs", () => compileKernels(config.build, nodeRuntime));
  const { tensors } = await time("weightsMs", () => weightsFor(config, googlenetGraph()));
  const options = { weights: tensors, threads: config.threads, build: config.build };
  const peakOf = (build: BuildName) => registerPeakOf(build, nodeRuntime);
  return inceptionEngine(GoogLeNet, options, config.precision, config.maxBatch, await packageVersion(), time, peakOf);
}

async function loadOrtWeb(config: EngineConfig, time: Timer): Promise<Engine> {
  const ort = await time("importMs", () => importEngine("onnxruntime-web", () => import("onnxruntime-web")));
  const engine = await ortWebEngine(
    ort,
    config.threads,
    () => readFile(config.onnxFile),
    time,
    `worker_threads in ${RUNTIME}`,
  );
  return {
    ...engine,
    binary: await binaryOf([require.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm")], "wasm"),
  };
}

async function loadOrtNode(config: EngineConfig, time: Timer): Promise<Engine> {
  const ort = await time("importMs", () => importEngine("onnxruntime-node", () => import("onnxruntime-node")));
  const engine = await ortEngine(ort, () => readFile(config.onnxFile), time, {
    intraOpNumThreads: config.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
  });
  const bin = join(dirname(require.resolve("onnxruntime-node")), "..", "bin");
  const libs = (await readdir(bin, { recursive: true }))
    .filter((f) => f.includes(join(process.platform, process.arch) + sep) && /\.(node|so[.\d]*|dylib|dll)$/.test(f))
    .map((f) => join(bin, f));
  return {
    ...engine,
    version: ort.env.versions.node ?? "?",
    threads: config.threads,
    threadNote: `intraOpNumThreads = ${config.threads}`,
    binary: await binaryOf(libs, "native"),
  };
}

async function loadTfjsWasm(config: EngineConfig, time: Timer): Promise<Engine> {
  const [tf, backend] = await time("importMs", () =>
    importEngine("@tensorflow/tfjs-backend-wasm", () =>
      Promise.all([import("@tensorflow/tfjs-core"), import("@tensorflow/tfjs-backend-wasm")]),
    ),
  );
  const why = `multithreading needs web workers, ${RUNTIME === "Node" ? "absent in Node" : `unused where IS_NODE (tfjs takes ${RUNTIME} for Node)`}`;
  const loadTensors = async () => (await weightsFor(config, googlenetGraph())).tensors;
  const { wasm, ...engine } = await tfjsEngine(tf, backend, config.threads, loadTensors, time, why);
  const binary = await binaryOf([join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")), wasm)], "wasm");
  return { ...engine, binary };
}

/**
 * How long LiteRT.js's wasm may take to start (compile, instantiate, start its pthreads): under
 * Bun 1.4 its threaded build never returned from loadLiteRt (nothing after 120 s), which would
 * hang the child until the suite's timeout.
 */
const LITERT_START_TIMEOUT_MS = 60_000;

async function loadLitert(config: EngineConfig, time: Timer): Promise<Engine> {
  const lrt = await time("importMs", () => importEngine("@litertjs/core", () => import("@litertjs/core")));
  let glue: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const start = (threaded: boolean) =>
    Promise.race([
      startLitertNode(lrt, threaded).then((dir) => {
        glue = dir;
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new EngineUnavailable(
                `LiteRT.js's ${threaded ? "threaded" : "single-threaded"} build did not start within ${LITERT_START_TIMEOUT_MS / 1000} s under ${RUNTIME}`,
              ),
            ),
          LITERT_START_TIMEOUT_MS,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  const why = `worker_threads in ${RUNTIME}`;
  const read = () => readFile(config.tfliteFile);
  const { wasm, ...engine } = await litertEngine(lrt, config.threads, start, read, time, why);
  const { dir, version } = litertPackage();
  return {
    ...engine,
    version,
    binary: await binaryOf([join(dir, "wasm", wasm)], "wasm"),
    dispose: async () => {
      await engine.dispose();
      if (glue) await rm(glue, { recursive: true, force: true });
    },
  };
}

/** Loads an engine, timing its phases with `time`. Throws EngineUnavailable when it cannot run here. */
export function loadEngine(config: EngineConfig, time: Timer): Promise<Engine> {
  switch (config.engine) {
    case "inception-wasm":
      return loadInceptionWasm(config, time);
    case "ort-web":
      return loadOrtWeb(config, time);
    case "ort-node":
      return loadOrtNode(config, time);
    case "tfjs-wasm":
      return loadTfjsWasm(config, time);
    case "litert":
      return loadLitert(config, time);
  }
}
