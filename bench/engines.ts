// The engines the suite compares under Node, Deno and Bun, behind one interface (child-core.ts):
// a cold start timed phase by phase, then runs of a batch of NCHW images. All run the same network on the same weights:
// inception-wasm and tfjs-wasm from the weight tensors, the onnxruntimes from the ONNX
// export of those tensors (src/model/onnx.ts).

import { readdir, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, sep } from "node:path";
import type * as Tf from "@tensorflow/tfjs-core";
import type * as OrtNode from "onnxruntime-node";
import type { Graph } from "../src/host/ir/graph.js";
import type { BuildChoice } from "../src/host/wasm/kernels.js";
import { runtimeName } from "../src/host/runtime.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { caffePoolPads, exportOnnx } from "../src/model/formats/onnxExport.js";
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
} from "./child-core.js";

/** inception-wasm and the engines it is compared with. */
export const ENGINES = ["inception-wasm", "ort-web", "tfjs-wasm", "ort-node"] as const;
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
}

const require = createRequire(import.meta.url);

/** The runtime this engine runs in, as thread notes name it (Node, Deno or Bun). */
const RUNTIME = { deno: "Deno", bun: "Bun" }[runtimeName() as string] ?? "Node";

async function binaryOf(files: string[], kind: Binary["kind"]): Promise<Binary> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  return { name: files.map((f) => basename(f)).join(" + "), bytes: sizes.reduce((a, b) => a + b, 0), kind };
}

/** Imports an optional engine package; a missing one becomes EngineUnavailable. */
async function importEngine<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND")
      throw new EngineUnavailable(`${name} is not installed (${(error as Error).message})`);
    throw error;
  }
}

/** inception-wasm's version (package.json). */
export async function packageVersion(): Promise<string> {
  return (JSON.parse(await readFile(join(projectRoot(), "package.json"), "utf8")) as { version: string }).version;
}

/** An engine's output as float32 (every output of this network is). */
function float32(data: unknown, what: string): Float32Array {
  if (!(data instanceof Float32Array)) throw new Error(`${what} is not float32`);
  return data;
}

function weightsFor(config: EngineConfig, graph: Graph): Promise<{ tensors: TensorMap }> {
  return loadWeights({ source: config.weights, expected: expectedWeights(graph, INPUT_SIZE, INPUT_SIZE) });
}

async function loadInceptionWasm(config: EngineConfig, time: Timer): Promise<Engine> {
  const [{ GoogLeNet }, { compileKernels }] = await time("importMs", () =>
    Promise.all([import("../src/node/index.js"), import("../src/host/wasm/kernels.js")]),
  );
  await time("compileMs", () => compileKernels(config.build));
  const { tensors } = await time("weightsMs", () => weightsFor(config, googlenetGraph()));
  const options = { weights: tensors, threads: config.threads, build: config.build };
  return inceptionEngine(GoogLeNet, options, config.precision, config.maxBatch, await packageVersion(), time);
}

type Ort = Pick<typeof OrtNode, "InferenceSession" | "Tensor">;

/** A weightless one-pooling network: creating its session starts an onnxruntime without loading a model. */
const STARTUP_GRAPH: Graph = {
  input: "data",
  inputChannels: 1,
  logits: "pool",
  probabilities: "prob",
  nodes: [
    { op: "maxPool", name: "pool", input: "data", output: "pool", kernel: 1, stride: 1, pad: 0 },
    { op: "softmax", name: "prob", input: "pool", output: "prob" },
  ],
};

/** The onnxruntime phases after import, shared by -web and -node; `options` are the session options. */
async function ortEngine(
  ort: Ort,
  config: EngineConfig,
  time: Timer,
  options: OrtNode.InferenceSession.SessionOptions,
): Promise<Pick<Engine, "run" | "dispose">> {
  const startup = exportOnnx(STARTUP_GRAPH, new Map(), 1);
  await time("compileMs", async () => {
    await (await ort.InferenceSession.create(startup, options)).release();
  });
  const bytes = await time("weightsMs", () => readFile(config.onnxFile));
  const session = await time("setupMs", () => ort.InferenceSession.create(bytes, options));
  const graph = googlenetGraph();
  return {
    async run(input, batch) {
      const x = new ort.Tensor("float32", input, [batch, 3, INPUT_SIZE, INPUT_SIZE]);
      const out = await session.run({ [graph.input]: x });
      return {
        logits: float32(out[graph.logits].data, graph.logits),
        probabilities: float32(out[graph.probabilities].data, graph.probabilities),
      };
    },
    dispose: () => session.release(),
  };
}

async function loadOrtWeb(config: EngineConfig, time: Timer): Promise<Engine> {
  const ort = await time("importMs", () => importEngine("onnxruntime-web", () => import("onnxruntime-web")));
  ort.env.wasm.numThreads = config.threads;
  const engine = await ortEngine(ort, config, time, { executionProviders: ["wasm"] });
  return {
    ...engine,
    version: ort.env.versions.web ?? "?",
    threads: config.threads,
    threadNote:
      config.threads > 1
        ? `env.wasm.numThreads = ${config.threads} (worker_threads in ${RUNTIME})`
        : "env.wasm.numThreads = 1",
    binary: await binaryOf([require.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm")], "wasm"),
  };
}

async function loadOrtNode(config: EngineConfig, time: Timer): Promise<Engine> {
  const ort = await time("importMs", () => importEngine("onnxruntime-node", () => import("onnxruntime-node")));
  const engine = await ortEngine(ort, config, time, {
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

/**
 * The network in tfjs ops (NHWC: conv2d there is what the wasm backend runs fastest), from the
 * same tensors: conv weights OIHW -> HWIO, FC weights [out][in] -> [in][out] (the wasm backend's
 * fused matMul with transposeB and a bias gives wrong results in 4.22); Caffe's ceil-mode max
 * pooling as an explicit -inf pad (the pads of the ONNX export) then a valid pool; LRN with
 * depthRadius (size-1)/2 and tfjs's alpha, which is not divided by the window size (Caffe's alpha / size).
 */
function tfjsNetwork(
  tf: typeof Tf,
  graph: Graph,
  weights: TensorMap,
): { forward(x: Tf.Tensor4D): { logits: Tf.Tensor; probabilities: Tf.Tensor }; dispose(): void } {
  const params = new Map<string, Tf.Tensor>();
  for (const [name, t] of weights) {
    const raw = tf.tensor(t.data, t.shape);
    const order = t.shape.length === 4 ? [2, 3, 1, 0] : t.shape.length === 2 ? [1, 0] : undefined;
    params.set(name, order ? tf.transpose(raw, order) : raw);
    if (order) raw.dispose();
  }
  const param = <T extends Tf.Tensor>(name: string): T => params.get(name)! as T;
  /** [N, 1, 1, C*H*W] in CHW order, as the graph flattens. */
  const flatten = (x: Tf.Tensor4D): Tf.Tensor4D => tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [x.shape[0], 1, 1, -1]);
  return {
    forward(data) {
      const t = new Map<string, Tf.Tensor4D>([[graph.input, tf.transpose(data, [0, 2, 3, 1])]]);
      for (const node of graph.nodes) {
        switch (node.op) {
          case "conv":
            t.set(
              node.output,
              tf.fused.conv2d({
                x: t.get(node.input)!,
                filter: param<Tf.Tensor4D>(`${node.weights}.weight`),
                bias: param(`${node.weights}.bias`),
                strides: node.stride,
                pad: node.pad,
                activation: node.relu ? "relu" : "linear",
              }),
            );
            break;
          case "maxPool":
          case "avgPool": {
            const x = t.get(node.input)!;
            const h = caffePoolPads(x.shape[1], node.kernel, node.stride, node.pad);
            const w = caffePoolPads(x.shape[2], node.kernel, node.stride, node.pad);
            const padded = h[0] + h[1] + w[0] + w[1] > 0;
            if (node.op === "avgPool") {
              if (padded) throw new Error(`tfjs engine: ${node.name}: padded average pooling is not built`);
              t.set(node.output, tf.avgPool(x, node.kernel, node.stride, "valid"));
            } else {
              const input = padded ? tf.pad(x, [[0, 0], h, w, [0, 0]], -Infinity) : x;
              t.set(node.output, tf.maxPool(input, node.kernel, node.stride, "valid"));
            }
            break;
          }
          case "lrn":
            t.set(
              node.output,
              tf.localResponseNormalization(
                t.get(node.input)!,
                (node.size - 1) / 2,
                node.k,
                node.alpha / node.size,
                node.beta,
              ),
            );
            break;
          case "concat":
            t.set(
              node.output,
              tf.concat(
                node.inputs.map((name) => t.get(name)!),
                3,
              ),
            );
            break;
          case "fc": {
            const x = flatten(t.get(node.input)!);
            const y = tf.fused.matMul({
              a: tf.reshape(x, [x.shape[0], -1]),
              b: param<Tf.Tensor2D>(`${node.weights}.weight`),
              bias: param(`${node.weights}.bias`),
            });
            t.set(node.output, tf.reshape(y, [x.shape[0], 1, 1, -1]));
            break;
          }
          case "softmax":
            t.set(node.output, tf.softmax(flatten(t.get(node.input)!)));
            break;
        }
      }
      const out = (name: string): Tf.Tensor => tf.reshape(t.get(name)!, [data.shape[0], -1]);
      return { logits: out(graph.logits), probabilities: out(graph.probabilities) };
    },
    dispose: () => {
      for (const p of params.values()) p.dispose();
    },
  };
}

async function loadTfjsWasm(config: EngineConfig, time: Timer): Promise<Engine> {
  const [tf, backend] = await time("importMs", () =>
    importEngine("@tensorflow/tfjs-backend-wasm", () =>
      Promise.all([import("@tensorflow/tfjs-core"), import("@tensorflow/tfjs-backend-wasm")]),
    ),
  );
  backend.setThreadsCount(config.threads);
  await time("compileMs", async () => {
    if (!(await tf.setBackend("wasm"))) throw new Error("tfjs: the wasm backend failed to initialise");
    await tf.ready();
  });
  const threads = backend.getThreadsCount();
  if (threads !== config.threads) {
    throw new EngineUnavailable(
      `tfjs-backend-wasm runs ${threads} thread(s) here, not ${config.threads} ` +
        `(WASM_HAS_MULTITHREAD_SUPPORT ${String(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"))}, IS_NODE ${String(tf.env().get("IS_NODE"))})`,
    );
  }
  const graph = googlenetGraph();
  const { tensors } = await time("weightsMs", () => weightsFor(config, graph));
  const net = await time("setupMs", async () => tfjsNetwork(tf, graph, tensors));
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  const wasm = join(
    dirname(require.resolve("@tensorflow/tfjs-backend-wasm")),
    threads > 1
      ? "tfjs-backend-wasm-threaded-simd.wasm"
      : simd
        ? "tfjs-backend-wasm-simd.wasm"
        : "tfjs-backend-wasm.wasm",
  );
  return {
    version: backend.version_wasm,
    threads,
    threadNote: `setThreadsCount; multithreading needs web workers, ${RUNTIME === "Node" ? "absent in Node" : `unused where IS_NODE (tfjs takes ${RUNTIME} for Node)`}`,
    binary: await binaryOf([wasm], "wasm"),
    async run(input, batch) {
      const { logits, probabilities } = tf.tidy(() =>
        net.forward(tf.tensor4d(input, [batch, 3, INPUT_SIZE, INPUT_SIZE])),
      );
      try {
        const [l, p] = await Promise.all([logits.data(), probabilities.data()]);
        return { logits: float32(l, "logits"), probabilities: float32(p, "probabilities") };
      } finally {
        logits.dispose();
        probabilities.dispose();
      }
    },
    dispose: async () => net.dispose(),
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
  }
}
