// The demo page (examples/web) in Debian's Chromium, bundled from the packed package by Vite (no
// config: `new Worker(new URL(…))` and the wasm URLs are rewritten) and by esbuild (the README's
// recipe: inception-wasm aliased to inception-wasm/inline). Under COOP/COEP it classifies coffee.png
// as 967 on navigator.hardwareConcurrency threads, the baseline build reproduces the golden hashes,
// the browser-decoded PNG gives Node's network input bit for bit, and a second visit reads the
// weights from Cache Storage; without the headers it runs 1 thread and says why. No console errors.
// Screenshots go to $INCEPTION_WASM_SCREENSHOTS (default dist/screenshots/).

import { cp, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { hex, sha256 } from "../src/host/digest.js";
import { decodeImage } from "../src/model/image/decode.js";
import { toNetworkInput } from "../src/model/image/preprocess.js";
import { encodeWeightFile } from "../src/model/formats/iwnet.js";
import { floatsSha256 } from "../src/model/network/golden.js";
import { readMatWeights } from "../src/node/weights.js";
import { installPackedApp, ROOT, type App } from "./support/app.js";
import { launchChromium, requireChromium, type Browser } from "./support/chromium.js";
import { DATA_DIR } from "./support/data.js";

interface Server {
  url: string;
  close(): Promise<void>;
}
interface ServeModule {
  buildWithEsbuild(source: string, out: string): Promise<string>;
  startServer(o: { root: string; isolate: boolean; weights: Uint8Array }): Promise<Server>;
}

const COFFEE = join(DATA_DIR, "photos", "coffee.png");
const SHOTS = process.env.INCEPTION_WASM_SCREENSHOTS ?? join(ROOT, "dist", "screenshots");
let app: App | undefined;
let browser: Browser | undefined;
let weights: Uint8Array;
let serve: ServeModule;
const outputs: Record<string, string> = {};

test.before(async () => {
  requireChromium();
  serve = (await import(join(ROOT, "examples", "web", "serve.mjs"))) as ServeModule;
  weights = await encodeWeightFile(await readMatWeights(DATA_DIR));
  app = await installPackedApp("browser");
  const web = join(app.dir, "web");
  await mkdir(web);
  await cp(join(ROOT, "examples", "web", "index.html"), join(web, "index.html"));
  await cp(join(ROOT, "examples", "web", "src"), join(web, "src"), { recursive: true });
  const vite = (await import("vite")) as typeof import("vite");
  outputs.vite = join(app.dir, "vite-out");
  await vite.build({
    root: web,
    configFile: false,
    logLevel: "error",
    build: { outDir: outputs.vite, emptyOutDir: true },
  });
  outputs.esbuild = await serve.buildWithEsbuild(web, join(app.dir, "esbuild-out"));
  browser = await launchChromium();
  await mkdir(SHOTS, { recursive: true });
});

test.after(async () => {
  await browser?.close();
  await app?.remove();
});

/** A page that records console errors and uncaught exceptions. */
async function openPage(errors: string[]): Promise<Page> {
  const page = await browser!.context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  return page;
}

type Demo = {
  state: string;
  progress?: { fromCache: boolean; loaded: number };
  info: { threads: number; reason: string; build: string; cores: number; crossOriginIsolated: boolean };
  result: { top: { index: number }[]; ms: number };
  verified: { build: string; results: { name: string; reproduces: boolean }[] };
  error?: { message: string };
};

async function waitFor(page: Page, states: string[]): Promise<Demo> {
  await page.waitForFunction(
    (s) =>
      s.includes((window as unknown as { demo?: { state: string } }).demo?.state ?? "") ||
      !!document.body.dataset.state?.includes("error"),
    states,
    { timeout: 120_000 },
  );
  const demo = (await page.evaluate("window.demo")) as Demo;
  assert.not.equal(demo.state, "error", `page error: ${demo.error?.message}`);
  return demo;
}

async function withServer<T>(root: string, isolate: boolean, body: (url: string) => Promise<T>): Promise<T> {
  const server = await serve.startServer({ root, isolate, weights });
  try {
    return await body(server.url);
  } finally {
    await server.close();
  }
}

for (const bundler of ["vite", "esbuild"] as const) {
  test(`${bundler} build, COOP/COEP: coffee.png is 967 on every core, golden bits, Node's input, cached weights`, async () => {
    await withServer(outputs[bundler], true, async (url) => {
      const errors: string[] = [];
      const page = await openPage(errors);
      await page.goto(`${url}?build=baseline`);
      let demo = await waitFor(page, ["ready"]);
      const cores = (await page.evaluate("navigator.hardwareConcurrency")) as number;
      assert.ok(demo.info.crossOriginIsolated, "cross-origin isolated");
      assert.is(demo.info.threads, cores, `threads = navigator.hardwareConcurrency (${demo.info.reason})`);
      assert.is(demo.info.build, "baseline");
      await page.setInputFiles("#file", COFFEE);
      demo = await waitFor(page, ["classified"]);
      assert.is(demo.result.top[0].index, 967, "top-1 of coffee.png");
      assert.is(await page.locator("#top5 li").first().getAttribute("data-index"), "967", "the page shows 967 first");
      await page.click("#verify-button");
      demo = await waitFor(page, ["verified"]);
      for (const r of demo.verified.results) assert.ok(r.reproduces, `golden ${r.name}: baseline SHA-256 as in Node`);
      assert.match(await page.locator("#verify-result").innerText(), /reproduces the reference bits/);

      const png = await readFile(COFFEE);
      const rgba = decodeImage(png, COFFEE);
      const node = {
        rgbaSha256: hex(await sha256(new Uint8Array(rgba.data.buffer, rgba.data.byteOffset, rgba.data.byteLength))),
        inputSha256: await floatsSha256(toNetworkInput(rgba)),
      };
      const inPage = (await page.evaluate(
        async (bytes) =>
          (window as unknown as { demo: { hashInput(b: Blob): Promise<unknown> } }).demo.hashInput(
            new Blob([new Uint8Array(bytes)], { type: "image/png" }),
          ),
        [...png],
      )) as { rgbaSha256: string; inputSha256: string };
      assert.is(inPage.rgbaSha256, node.rgbaSha256, "RGBA from createImageBitmap = fast-png's");
      assert.is(inPage.inputSha256, node.inputSha256, "network input in Chromium = Node's");
      await page.screenshot({ path: join(SHOTS, `classify-${bundler}.png`) });

      // A second visit: the weights come from Cache Storage.
      await page.reload();
      demo = await waitFor(page, ["ready"]);
      assert.ok(demo.progress?.fromCache, "second visit: weights from Cache Storage");
      if (bundler === "vite") {
        await page.click("#tab-bench");
        await page.fill("#bench-runs", "5");
        await page.fill("#bench-warmup", "1");
        await page.click("#bench-button");
        const bench = (await waitFor(page, ["benchmarked"])) as Demo & {
          bench: { results: { threads: number; medianMs: number; outputSha256: string }[] };
        };
        assert.ok(bench.bench.results.length >= 1 && bench.bench.results.every((r) => r.medianMs > 0));
        assert.is(new Set(bench.bench.results.map((r) => r.outputSha256)).size, 1, "same output at every thread count");
        await page.screenshot({ path: join(SHOTS, "benchmark-vite.png") });
      }
      await page.close();
      assert.equal(errors, [], "no console errors");
    });
  });

  test(`${bundler} build without COOP/COEP: 1 thread, the reason shown, still 967`, async () => {
    await withServer(outputs[bundler], false, async (url) => {
      const errors: string[] = [];
      const page = await openPage(errors);
      await page.goto(url);
      let demo = await waitFor(page, ["ready"]);
      assert.not.ok(demo.info.crossOriginIsolated);
      assert.is(demo.info.threads, 1);
      assert.match(demo.info.reason, /cross-origin isolation/);
      assert.match(await page.locator("#fact-why").innerText(), /cross-origin isolation/);
      await page.setInputFiles("#file", COFFEE);
      demo = await waitFor(page, ["classified"]);
      assert.is(demo.result.top[0].index, 967);
      await page.close();
      assert.equal(errors, [], "no console errors");
    });
  });
}

test.run();
