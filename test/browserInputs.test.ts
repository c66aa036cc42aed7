// classify() inputs in Debian's Chromium, from the packed package's default (browser) entry bundled
// by esbuild, with the assets where the host serves them: the kernels as URLs and the pool's worker
// from the `worker` factory option (test/pages/inputs.mjs). coffee.png given as ImageData, a
// ReadableStream (a fetch body), an <img>, a VideoFrame (from a canvas, WebCodecs) and a Blob gives
// the same top-1 (967) and the same SHA-256 of the probabilities as Node gives for the same PNG's
// pixels (fast-png, baseline build); so does a ReadableStream in Node. The factory starts the pool's
// one worker for 2 threads.

import { cp, mkdir, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { GoogLeNet } from "../src/inline.js";
import { encodeWeightFile } from "../src/model/formats/iwnet.js";
import { decodeImage } from "../src/model/image/decode.js";
import { floatsSha256 } from "../src/model/network/golden.js";
import { readMatWeights } from "../src/node/weights.js";
import { installPackedApp, ROOT, type App } from "./support/app.js";
import { launchChromium, requireChromium, type Browser } from "./support/chromium.js";
import { DATA_DIR } from "./support/data.js";

interface Server {
  url: string;
  close(): Promise<void>;
}
type Result = { top1: number; probabilitiesSha256: string };
type PageAnswer = {
  info: { threads: number; reason: string; build: string; workersStarted: number; frameFormat: string };
  results: Record<string, Result>;
};

const COFFEE = join(DATA_DIR, "photos", "coffee.png");
let app: App | undefined;
let browser: Browser | undefined;
let server: Server | undefined;
let weights: Uint8Array;

test.before(async () => {
  requireChromium();
  weights = await encodeWeightFile(await readMatWeights(DATA_DIR));
  app = await installPackedApp("browser-inputs");
  const site = join(app.dir, "site");
  await mkdir(site);
  const { build } = await import("esbuild");
  await build({
    entryPoints: [join(ROOT, "test", "pages", "inputs.mjs")],
    outfile: join(site, "inputs.js"),
    bundle: true,
    format: "esm",
    conditions: ["browser"],
    absWorkingDir: app.dir,
    nodePaths: [join(app.dir, "node_modules")],
    logLevel: "error",
  });
  await cp(join(ROOT, "test", "pages", "inputs.html"), join(site, "index.html"));
  await cp(COFFEE, join(site, "coffee.png"));
  await symlink(join(app.dir, "node_modules", "inception-wasm"), join(site, "pkg"));
  const { startServer } = (await import(join(ROOT, "examples", "web", "serve.mjs"))) as {
    startServer(o: { root: string; isolate: boolean; weights: Uint8Array }): Promise<Server>;
  };
  server = await startServer({ root: site, isolate: true, weights });
  browser = await launchChromium();
});

test.after(async () => {
  await browser?.close();
  await server?.close();
  await app?.remove();
});

test("ImageData, ReadableStream, <img>, VideoFrame and Blob: 967 and Node's probability bits; the worker factory runs the pool", async () => {
  const png = new Uint8Array(await readFile(COFFEE));
  const node = await GoogLeNet.load({ weights, build: "baseline", threads: 1, warmUp: false });
  const reference = await floatsSha256(await node.probabilities(decodeImage(png, COFFEE)));
  const stream = new Blob([png as Uint8Array<ArrayBuffer>]).stream();
  assert.is(await floatsSha256(await node.probabilities(stream)), reference, "Node: a ReadableStream = the pixels");
  await node.dispose();

  const errors: string[] = [];
  const page = await browser!.context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  await page.goto(server!.url);
  await page.waitForFunction("window.ready === true", undefined, { timeout: 60_000 });
  const answer = (await page.evaluate("window.classifyInputs('/coffee.png')")) as PageAnswer;
  await page.close();
  console.log(JSON.stringify(answer));
  assert.equal(errors, [], "no console errors");
  assert.is(answer.info.build, "baseline");
  assert.is(answer.info.threads, 2, answer.info.reason);
  assert.is(answer.info.workersStarted, 1, "the factory started the pool's one worker (2 threads)");
  assert.equal(Object.keys(answer.results), ["imageData", "readableStream", "htmlImageElement", "videoFrame", "blob"]);
  for (const [input, r] of Object.entries(answer.results)) {
    assert.is(r.top1, 967, `${input}: top-1`);
    assert.is(r.probabilitiesSha256, reference, `${input}: probabilities' SHA-256 = Node's for the same pixels`);
  }
});

test.run();
