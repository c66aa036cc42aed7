// The network's thread: a dedicated worker, so the page never freezes while weights decode or the
// network runs. It loads GoogLeNet once (weights fetched with progress, kept in Cache Storage),
// then answers classify, verify and bench requests from the page (src/main.js).

import {
  decodeImageWithPlatform,
  floatsSha256,
  GOLDEN,
  goldenInput,
  GoogLeNet,
  runtimeName,
  syntheticInput,
} from "inception-wasm";

/** @type {GoogLeNet | undefined} */
let net;
/** @type {{ weights: string, build: string, threads: number | undefined }} */
let config;
let queue = Promise.resolve();

const reply = (message) => self.postMessage(message);

async function load(weights, build, threads) {
  const t0 = performance.now();
  const loaded = await GoogLeNet.load({
    weights,
    build,
    threads,
    weightsFetch: { onProgress: (p) => reply({ type: "progress", ...p }) },
  });
  return { net: loaded, loadMs: performance.now() - t0 };
}

function describe(n, loadMs) {
  return {
    threads: n.threads,
    reason: n.capabilities.reason,
    build: n.build,
    buildReason: n.buildReason,
    loadMs,
    cores: navigator.hardwareConcurrency,
    crossOriginIsolated: self.crossOriginIsolated === true,
    runtime: runtimeName(),
    userAgent: navigator.userAgent,
  };
}

async function classify(image) {
  const t0 = performance.now();
  const top = await net.classify(image, { topK: 5 });
  return { top, ms: performance.now() - t0 };
}

/** The golden set (src/model/network/golden.ts) on the loaded network: hashes, and whether they match. */
async function verify() {
  const results = [];
  for (const [i, input] of GOLDEN.inputs.entries()) {
    const { logits, probabilities } = await net.run(goldenInput(input));
    const want = GOLDEN.baseline[i];
    const got = { logitsSha256: await floatsSha256(logits), probabilitiesSha256: await floatsSha256(probabilities) };
    results.push({
      name: input.name,
      ...got,
      reproduces: got.logitsSha256 === want.logitsSha256 && got.probabilitiesSha256 === want.probabilitiesSha256,
    });
  }
  return { build: net.build, threads: net.threads, results };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The standard benchmark (as `inception-wasm bench --json`): each thread count loaded afresh, timed on one input. */
async function bench(runs, warmup) {
  const cores = navigator.hardwareConcurrency || 1;
  const counts = [1];
  for (let t = 2; t < cores; t *= 2) counts.push(t);
  if (cores > 1 && self.crossOriginIsolated) counts.push(cores);
  const results = [];
  let inputSize = 224;
  let multiplyAdds = 0;
  for (const threads of counts) {
    reply({ type: "bench-progress", text: `loading for ${threads} thread(s)…` });
    const { net: b } = await load(config.weights, config.build, threads);
    try {
      inputSize = b.inputSize;
      multiplyAdds = b.multiplyAdds;
      const input = syntheticInput(3 * b.inputSize * b.inputSize);
      const times = [];
      for (let i = 0; i < warmup + runs; i++) {
        const t0 = performance.now();
        await b.run(input);
        if (i >= warmup) times.push(performance.now() - t0);
        if (i % 5 === 0) reply({ type: "bench-progress", text: `${threads} thread(s): run ${i + 1} of ${warmup + runs}` });
      }
      const { probabilities } = await b.run(input);
      const medianMs = median(times);
      results.push({
        engine: "inception-wasm",
        build: b.build,
        threads: b.threads,
        batch: 1,
        runs,
        medianMs,
        minMs: Math.min(...times),
        gflops: (2 * b.multiplyAdds) / (medianMs * 1e6),
        outputSha256: await floatsSha256(probabilities),
      });
      reply({ type: "bench-row", row: results.at(-1) });
    } finally {
      await b.dispose();
    }
  }
  return { runtime: navigator.userAgent, cores, crossOriginIsolated: self.crossOriginIsolated === true, inputSize, multiplyAdds, results };
}

self.onmessage = (e) => {
  const m = e.data;
  queue = queue.then(async () => {
    try {
      if (m.type === "load") {
        config = { weights: m.weights, build: m.build ?? "auto", threads: m.threads };
        const r = await load(config.weights, config.build, config.threads);
        net = r.net;
        reply({ type: "loaded", info: describe(net, r.loadMs) });
      } else if (m.type === "classify") {
        reply({ type: "result", id: m.id, ...(await classify(m.image)) });
      } else if (m.type === "input-hash") {
        // The network input of an image decoded by the browser: the tests compare it with Node's.
        const rgba = await decodeImageWithPlatform(m.image, "image");
        const input = net.toInput(rgba);
        reply({ type: "input-hash", rgbaSha256: await floatsSha256(new Float32Array(rgba.data.slice().buffer)), inputSha256: await floatsSha256(input) });
      } else if (m.type === "verify") {
        reply({ type: "verified", ...(await verify()) });
      } else if (m.type === "bench") {
        reply({ type: "bench-done", result: await bench(m.runs, m.warmup) });
      }
    } catch (error) {
      reply({ type: "error", request: m.type, name: error?.name, message: error?.message ?? String(error) });
    }
  });
};
