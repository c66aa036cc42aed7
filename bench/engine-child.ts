// One engine in a process of its own (its memory, threads and V8 flags are its own), driven
// by the suite over IPC. Started with the settings as JSON in argv[2]; it loads the engine
// (timing each cold-start phase; the first inference classifies the photo), warms up on single
// images and sends "ready" with its peak RSS so far; on "measure" it times single images, then
// each larger batch after one untimed run, and sends "result" with its peak RSS; then it exits.
// A missing engine sends "unavailable", a failure "error".

import { readFile } from "node:fs/promises";
import { Bench } from "tinybench";
import { runtimeName } from "../src/host/runtime.js";
import { decodeImage } from "../src/model/image/decode.js";
import { toNetworkInput } from "../src/model/image/preprocess.js";
import {
  EngineUnavailable,
  loadEngine,
  type Binary,
  type ColdStart,
  type EngineConfig,
  type Phase,
} from "./engines.js";

/** What the suite asks of a child. */
export interface ChildSettings {
  config: EngineConfig;
  /** The photo: classified by the first inference (accuracy) and the input of every timed run. */
  photo: string;
  warmup: number;
  /** Timed runs per batch size. */
  runs: Record<number, number>;
}

/** The runtime a child runs in (SuiteOptions.runtime, else $INCEPTION_WASM_BENCH_RUNTIME): its name, version and V8. */
export interface ChildRuntime {
  name: string;
  version: string;
  v8: string;
}

/** Child -> suite. Probabilities and logits are the photo's (batch 1, first inference). */
export type ChildMessage =
  | {
      type: "ready";
      runtime: ChildRuntime;
      version: string;
      threads: number;
      threadNote: string;
      binary: Binary;
      coldStart: ColdStart;
      logits: number[];
      probabilities: number[];
      peakRssBytes: number;
    }
  | { type: "unavailable"; reason: string }
  | { type: "result"; samples: Record<number, number[]>; peakRssBytes: number }
  | { type: "error"; message: string };

/** Suite -> child. */
export type ParentMessage = { type: "measure" };

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(message, undefined, undefined, (e) => (e ? reject(e) : resolve())),
  );
}

function childRuntime(): ChildRuntime {
  const name = runtimeName();
  const versions: Partial<Record<string, string>> = process.versions;
  return { name, version: versions[name] ?? "?", v8: process.versions.v8 };
}

const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

function nextMessage(): Promise<ParentMessage> {
  return new Promise((resolve) => process.once("message", (m: ParentMessage) => resolve(m)));
}

async function main(settings: ChildSettings): Promise<void> {
  const cold: Record<Phase, number> = { importMs: 0, compileMs: 0, weightsMs: 0, setupMs: 0, firstInferenceMs: 0 };
  const time = async <T>(phase: Phase, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      cold[phase] += performance.now() - t0;
    }
  };
  const image = toNetworkInput(decodeImage(new Uint8Array(await readFile(settings.photo)), settings.photo));
  const engine = await loadEngine(settings.config, time);
  const first = await time("firstInferenceMs", () => engine.run(image, 1));
  const batch = (n: number): Float32Array => {
    const x = new Float32Array(n * image.length);
    for (let i = 0; i < n; i++) x.set(image, i * image.length);
    return x;
  };
  const sizes = Object.keys(settings.runs).map(Number);
  const inputs = new Map(sizes.map((n) => [n, batch(n)]));
  for (let i = 0; i < settings.warmup; i++) await engine.run(image, 1);
  await send({
    type: "ready",
    runtime: childRuntime(),
    version: engine.version,
    threads: engine.threads,
    threadNote: engine.threadNote,
    binary: engine.binary,
    coldStart: { ...cold, totalMs: Object.values(cold).reduce((a, b) => a + b, 0) },
    logits: Array.from(first.logits),
    probabilities: Array.from(first.probabilities),
    peakRssBytes: peakRss(),
  });

  await nextMessage();
  const samples: Record<number, number[]> = {};
  for (const n of sizes) {
    // One untimed run at a new batch size: its first run allocates.
    const bench = new Bench({
      iterations: settings.runs[n],
      time: 0,
      warmupIterations: n > 1 ? 1 : 0,
      warmupTime: 0,
      retainSamples: true,
    });
    bench.add(`batch ${n}`, async () => {
      await engine.run(inputs.get(n)!, n);
    });
    await bench.run();
    const r = bench.tasks[0].result;
    if (r.state !== "completed") throw new Error(`batch ${n}: the benchmark did not complete (${r.state})`);
    samples[n] = [...(r.latency.samples ?? [])];
  }
  await send({ type: "result", samples, peakRssBytes: peakRss() });
  await engine.dispose();
}

const settings = JSON.parse(process.argv[2]) as ChildSettings;
main(settings).then(
  () => process.exit(0),
  async (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    await send(
      error instanceof EngineUnavailable
        ? { type: "unavailable", reason: message }
        : { type: "error", message: error instanceof Error && error.stack ? error.stack : message },
    );
    process.exit(error instanceof EngineUnavailable ? 0 : 1);
  },
);
