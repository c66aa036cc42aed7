// A Cloudflare Worker that classifies images: POST a JPEG or PNG as the body, get the top-5
// classes as JSON. The kernels are imported as compiled WebAssembly modules (Workers forbid
// compiling wasm from bytes); the weights come from a binding (an R2 bucket, bytes, or a service
// that serves the file) or a URL; all but bytes are streamed into the network tensor by tensor. The
// network is loaded once per isolate, by the first request, and reused by later ones.

import { GoogLeNet } from "inception-wasm";
import baseline from "inception-wasm/build/kernels.wasm";
import relaxed from "inception-wasm/build/kernels-relaxed.wasm";

/** The isolate's network (a promise, so concurrent first requests share one load). */
let loading;

/**
 * Weights from env: WEIGHTS (an R2 bucket holding WEIGHTS_KEY, or the bytes themselves),
 * WEIGHTS_SERVICE (a service binding, e.g. a disk directory, answering /WEIGHTS_KEY) or WEIGHTS_URL.
 */
async function weightsFrom(env) {
  if (env.WEIGHTS && typeof env.WEIGHTS.get === "function") {
    const key = env.WEIGHTS_KEY ?? "googlenet.iwnet";
    const object = await env.WEIGHTS.get(key);
    if (object === null) throw new Error(`the R2 bucket bound as WEIGHTS has no object ${key}`);
    return object;
  }
  if (env.WEIGHTS) return env.WEIGHTS;
  if (env.WEIGHTS_SERVICE) {
    const key = env.WEIGHTS_KEY ?? "googlenet.iwnet";
    const response = await env.WEIGHTS_SERVICE.fetch(`http://weights/${key}`);
    if (!response.ok) throw new Error(`the service bound as WEIGHTS_SERVICE answered ${response.status} for /${key}`);
    return response;
  }
  if (env.WEIGHTS_URL) return new URL(env.WEIGHTS_URL);
  throw new Error("no weights: bind WEIGHTS (R2 bucket or bytes) or WEIGHTS_SERVICE, or set WEIGHTS_URL");
}

function network(env) {
  loading ??= weightsFrom(env)
    .then((weights) => GoogLeNet.load({ weights, kernels: { relaxed, baseline }, warmUp: false }))
    .catch((error) => {
      loading = undefined; // the next request tries again
      throw error;
    });
  return loading;
}

export default {
  async fetch(request, env) {
    if (request.method !== "POST") {
      return Response.json({ usage: "POST a JPEG or PNG image as the request body" }, { status: 405 });
    }
    try {
      const net = await network(env);
      const image = new Uint8Array(await request.arrayBuffer());
      const top = await net.classify(image, { topK: 5 });
      return Response.json({
        top,
        threads: net.threads,
        build: net.build,
        why: net.capabilities.reason,
        memoryBytes: net.memoryBytes,
      });
    } catch (error) {
      const status = error?.name === "ImageError" ? 400 : 500;
      return Response.json({ error: error?.name ?? "Error", message: error?.message ?? String(error) }, { status });
    }
  },
};
