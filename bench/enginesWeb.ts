// The engine adapters that also run in a browser page (browserPage.ts): onnxruntime (-web and
// -node share one), tfjs-backend-wasm and LiteRT.js after their import, each given its model or
// weights by a loader, so Node's children (engines.ts) and Chromium's page run the same code.

import type * as LiteRt from "@litertjs/core";
import type * as Tf from "@tensorflow/tfjs-core";
import type * as TfWasm from "@tensorflow/tfjs-backend-wasm";
import type * as OrtNode from "onnxruntime-node";
import type * as OrtWeb from "onnxruntime-web";
import type { Graph } from "../src/host/ir/graph.js";
import type { TensorMap } from "../src/host/ir/tensors.js";
import { caffePoolPads, exportOnnx } from "../src/model/formats/onnxExport.js";
import { CLASSES, googlenetGraph } from "../src/model/network/googlenet.js";
import { EngineUnavailable, INPUT_SIZE, type Engine, type Timer } from "./childCore.js";
import { LITERT_WASM } from "../test/support/litertWasm.js";

/** An engine's output as float32 (every output of this network is). */
function float32(data: unknown, what: string): Float32Array {
  if (!(data instanceof Float32Array)) throw new Error(`${what} is not float32`);
  return data;
}

export type Ort = Pick<typeof OrtNode, "InferenceSession" | "Tensor">;

// tfjs's tensor types, named through its factories: a reference to a type member of the package
// (Tensor) would not compile where bench/node_modules is not installed (bench/peer-packages.d.ts).
type Tensor = ReturnType<typeof Tf.tensor>;
type Tensor2D = ReturnType<typeof Tf.tensor2d>;
type Tensor4D = ReturnType<typeof Tf.tensor4d>;

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

/**
 * The onnxruntime phases after import, shared by -web and -node: `readModel` gives the ONNX file's
 * bytes (the weights phase); `options` are the session options.
 */
export async function ortEngine(
  ort: Ort,
  readModel: () => Promise<Uint8Array>,
  time: Timer,
  options: OrtNode.InferenceSession.SessionOptions,
): Promise<Pick<Engine, "run" | "dispose">> {
  const startup = exportOnnx(STARTUP_GRAPH, new Map(), 1);
  await time("compileMs", async () => {
    await (await ort.InferenceSession.create(startup, options)).release();
  });
  const bytes = await time("weightsMs", readModel);
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

/** onnxruntime-web with `threads` threads (`workers`: what its threads are here, for the note); binary left to the caller. */
export async function ortWebEngine(
  ort: typeof OrtWeb,
  threads: number,
  readModel: () => Promise<Uint8Array>,
  time: Timer,
  workers: string,
): Promise<Omit<Engine, "binary">> {
  ort.env.wasm.numThreads = threads;
  const engine = await ortEngine(ort, readModel, time, { executionProviders: ["wasm"] });
  return {
    ...engine,
    version: ort.env.versions.web ?? "?",
    threads,
    threadNote: threads > 1 ? `env.wasm.numThreads = ${threads} (${workers})` : "env.wasm.numThreads = 1",
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
): { forward(x: Tensor4D): { logits: Tensor; probabilities: Tensor }; dispose(): void } {
  const params = new Map<string, Tensor>();
  for (const [name, t] of weights) {
    const raw = tf.tensor(t.data, t.shape);
    const order = t.shape.length === 4 ? [2, 3, 1, 0] : t.shape.length === 2 ? [1, 0] : undefined;
    params.set(name, order ? tf.transpose(raw, order) : raw);
    if (order) raw.dispose();
  }
  const param = <T extends Tensor>(name: string): T => params.get(name)! as T;
  /** [N, 1, 1, C*H*W] in CHW order, as the graph flattens. */
  const flatten = (x: Tensor4D): Tensor4D => tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [x.shape[0], 1, 1, -1]);
  return {
    forward(data) {
      const t = new Map<string, Tensor4D>([[graph.input, tf.transpose(data, [0, 2, 3, 1])]]);
      for (const node of graph.nodes) {
        switch (node.op) {
          case "conv":
            t.set(
              node.output,
              tf.fused.conv2d({
                x: t.get(node.input)!,
                filter: param<Tensor4D>(`${node.weights}.weight`),
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
              b: param<Tensor2D>(`${node.weights}.weight`),
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
      const out = (name: string): Tensor => tf.reshape(t.get(name)!, [data.shape[0], -1]);
      return { logits: out(graph.logits), probabilities: out(graph.probabilities) };
    },
    dispose: () => {
      for (const p of params.values()) p.dispose();
    },
  };
}

/**
 * Why tfjs-backend-wasm (4.x) runs another thread count than setThreadsCount asked, given whether
 * it loaded its threaded build (`threaded`: WASM_HAS_MULTITHREAD_SUPPORT) and its IS_NODE. Without
 * the threaded build its C++ is compiled without pthreads and runs 1 thread; tfjs turns that build
 * off wherever IS_NODE is true (Node, Deno and Bun here; tfjs issue #3830), elsewhere when shared
 * memory or wasm threads are missing. With it, init_with_threads_count (its src/cc/backend.cc)
 * clamps the count to 1..min(8, floor(navigator.hardwareConcurrency / 2)) (it assumes two hardware
 * threads per core); tfjs has no option that lifts that cap.
 */
function tfjsThreadsCause(threaded: boolean, isNode: boolean): string {
  if (!threaded)
    return isNode
      ? "tfjs loads its build without threads where IS_NODE is true (WASM_HAS_MULTITHREAD_SUPPORT false; tfjs issue #3830)"
      : "tfjs loads its build without threads: no shared memory or wasm threads here (WASM_HAS_MULTITHREAD_SUPPORT false)";
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return (
    "its threaded build clamps setThreadsCount to 1..min(8, navigator.hardwareConcurrency / 2), assuming two " +
    `hardware threads per core (hardwareConcurrency ${cores ?? "unknown"} here); tfjs has no option that lifts that cap`
  );
}

/**
 * tfjs-backend-wasm with `threads` threads (EngineUnavailable when it runs another count, naming
 * why: tfjsThreadsCause; `why` says where its threads come from here), the network built from
 * `loadTensors` (the weights phase). `wasm` names the build it runs (threaded SIMD, SIMD or plain);
 * the binary is the caller's. `caveat`: the setting the caller changed for it (Engine.caveat).
 */
export async function tfjsEngine(
  tf: typeof Tf,
  backend: typeof TfWasm,
  threads: number,
  loadTensors: () => Promise<TensorMap>,
  time: Timer,
  why: string,
  caveat?: string,
): Promise<Omit<Engine, "binary"> & { wasm: string }> {
  backend.setThreadsCount(threads);
  await time("compileMs", async () => {
    if (!(await tf.setBackend("wasm"))) throw new Error("tfjs: the wasm backend failed to initialise");
    await tf.ready();
  });
  const running = backend.getThreadsCount();
  if (running !== threads) {
    const threaded = Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"));
    throw new EngineUnavailable(
      `tfjs-backend-wasm runs ${running} thread(s) here, not ${threads}: ${tfjsThreadsCause(threaded, Boolean(tf.env().get("IS_NODE")))}`,
    );
  }
  const graph = googlenetGraph();
  const tensors = await time("weightsMs", loadTensors);
  const net = await time("setupMs", async () => tfjsNetwork(tf, graph, tensors));
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  return {
    version: backend.version_wasm,
    threads,
    threadNote: `setThreadsCount; ${why}`,
    ...(caveat ? { caveat } : {}),
    wasm:
      threads > 1
        ? "tfjs-backend-wasm-threaded-simd.wasm"
        : simd
          ? "tfjs-backend-wasm-simd.wasm"
          : "tfjs-backend-wasm.wasm",
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

/**
 * LiteRT.js (TFLite + XNNPACK in wasm, CPU accelerator "wasm") with `threads` threads, running
 * the TFLite export (src/model/formats/tfliteExport.ts) that `readModel` gives (the weights
 * phase). `start(threaded)` loads its wasm (the compile phase: loadLiteRt with the folder of its
 * files, set up by the caller for its runtime). More than one thread needs the threaded build
 * (relaxed SIMD and shared memory), else EngineUnavailable. The model's input is NHWC: each image
 * of a batch is transposed from our CHW tensor and run alone (the export's batch is 1).
 */
export async function litertEngine(
  lrt: typeof LiteRt,
  threads: number,
  start: (threaded: boolean) => Promise<unknown>,
  readModel: () => Promise<Uint8Array>,
  time: Timer,
  workers: string,
): Promise<Omit<Engine, "binary" | "version"> & { wasm: string }> {
  const [relaxed, shared] = await Promise.all([lrt.supportsFeature("relaxedSimd"), lrt.supportsFeature("threads")]);
  if (threads > 1 && !(relaxed && shared))
    throw new EngineUnavailable(
      `LiteRT.js runs more than 1 thread only in its threaded build, which needs relaxed SIMD and shared memory (relaxed SIMD ${relaxed}, threads ${shared})`,
    );
  const wasm = `${threads > 1 ? LITERT_WASM.threaded : relaxed ? LITERT_WASM.relaxed : LITERT_WASM.compat}.wasm`;
  await time("compileMs", () => start(threads > 1));
  const bytes = await time("weightsMs", readModel);
  const model = await time("setupMs", () =>
    lrt.loadAndCompile(bytes, { accelerator: "wasm", cpuOptions: { numThreads: threads } }),
  );
  const graph = googlenetGraph();
  const image = 3 * INPUT_SIZE * INPUT_SIZE;
  const hwc = new Float32Array(image);
  const read = (out: Record<string, LiteRt.Tensor>, name: string): Float32Array => {
    const t = out[name];
    if (!t) throw new Error(`LiteRT.js: no output ${name} (outputs: ${Object.keys(out).join(", ")})`);
    return float32(t.toTypedArray(), name);
  };
  return {
    threads,
    threadNote:
      threads > 1
        ? `cpuOptions.numThreads = ${threads}, threaded build (Emscripten pthreads on ${workers})`
        : "cpuOptions.numThreads = 1",
    wasm,
    async run(input, batch) {
      const logits = new Float32Array(batch * CLASSES),
        probabilities = new Float32Array(batch * CLASSES);
      for (let b = 0; b < batch; b++) {
        chwToHwc(input.subarray(b * image, (b + 1) * image), hwc, 3, INPUT_SIZE * INPUT_SIZE);
        const x = new lrt.Tensor(hwc, [1, INPUT_SIZE, INPUT_SIZE, 3]);
        const out = await model.run({ [graph.input]: x }).finally(() => x.delete());
        try {
          logits.set(read(out, graph.logits), b * CLASSES);
          probabilities.set(read(out, graph.probabilities), b * CLASSES);
        } finally {
          for (const t of Object.values(out)) t.delete();
        }
      }
      return { logits, probabilities };
    },
    dispose: async () => model.delete(),
  };
}

/** Copies a CHW image (`channels` planes of `pixels`) into `out` in HWC order. */
export function chwToHwc(chw: Float32Array, out: Float32Array, channels: number, pixels: number): void {
  for (let c = 0; c < channels; c++) for (let p = 0; p < pixels; p++) out[p * channels + c] = chw[c * pixels + p];
}
