// The page of test/browserInputs.test.ts, bundled by esbuild from the packed package's default
// (browser) entry, with the package's assets where this page's server puts them (/pkg/ is the
// installed inception-wasm): the kernels passed as URLs and the pool's worker started by a factory,
// as the README tells hosts with their own asset paths. window.classifyInputs() loads the network
// on 2 threads and classifies coffee.png given as ImageData, a ReadableStream, an <img>, a
// VideoFrame and a Blob; it returns, per input, the top-1 index and the probabilities' SHA-256.

import { floatsSha256, GoogLeNet } from "inception-wasm";

const asset = (path) => new URL(path, location.href);

/** RGBA pixels of a bitmap, read back without colour conversion (as the library reads pictures). */
function imageDataOf(bitmap) {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d", { willReadFrequently: true, colorSpace: "srgb" });
  context.drawImage(bitmap, 0, 0);
  return context.getImageData(0, 0, bitmap.width, bitmap.height, { colorSpace: "srgb" });
}

window.classifyInputs = async (photo) => {
  let workersStarted = 0;
  const net = await GoogLeNet.load({
    weights: asset("/weights.iwnet"),
    build: "baseline",
    threads: 2,
    kernels: { baseline: asset("/pkg/build/kernels.wasm"), relaxed: asset("/pkg/build/kernels-relaxed.wasm") },
    worker: () => {
      workersStarted++;
      return new Worker(asset("/pkg/dist/worker.js"), { type: "module" });
    },
  });
  const blob = await (await fetch(asset(photo))).blob();
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const imageData = imageDataOf(bitmap);
  const img = new Image();
  img.src = asset(photo).href;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = imageData.width;
  canvas.height = imageData.height;
  canvas.getContext("2d").putImageData(imageData, 0, 0);
  const frame = new VideoFrame(canvas, { timestamp: 0 });
  const inputs = {
    imageData,
    readableStream: (await fetch(asset(photo))).body,
    htmlImageElement: img,
    videoFrame: frame,
    blob,
  };
  const results = {};
  for (const [name, input] of Object.entries(inputs)) {
    const probabilities = await net.probabilities(input);
    let top1 = 0;
    for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[top1]) top1 = i;
    results[name] = { top1, probabilitiesSha256: await floatsSha256(probabilities) };
  }
  const frameFormat = frame.format;
  frame.close();
  bitmap.close();
  const info = { threads: net.threads, reason: net.capabilities.reason, build: net.build, workersStarted, frameFormat };
  await net.dispose();
  return { info, results };
};
window.ready = true;
