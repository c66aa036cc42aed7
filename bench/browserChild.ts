// The Chromium child: speaks the engine child's protocol (childIpc.ts) to the suite and runs the
// engine in a page of Debian's Chromium (playwright-core, test/support/chromium.ts), served with
// COOP/COEP so the page has shared memory and workers: inception-wasm through its inline entry,
// onnxruntime-web, tfjs-backend-wasm and LiteRT.js bundled for the browser (browserPage.ts; each engine's
// wasm files, and LiteRT.js's Emscripten JavaScript, served beside the page); onnxruntime-node
// is reported as not run here (a native addon). The
// input tensor is made here (the same decoding and preprocessing as the other children) and the
// weights are served as IWNET. Peak RSS is the page's renderer process's (the browser and GPU
// processes are left out).

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { build } from "esbuild";
import { expectedWeights } from "../src/host/ir/tensors.js";
import { decodeImage } from "../src/model/image/decode.js";
import { toNetworkInput } from "../src/model/image/preprocess.js";
import { encodeWeightFile } from "../src/model/formats/iwnet.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { loadWeights } from "../src/node/weights.js";
import { ROOT } from "../test/support/app.js";
import { litertPackage } from "../test/support/litert.js";
import { LITERT_WASM } from "../test/support/litertWasm.js";
import { CHROMIUM, launchChromium } from "../test/support/chromium.js";
import { EngineUnavailable, INPUT_SIZE } from "./childCore.js";
import { nextMessage, reportFailure, send, type ChildSettings } from "./childIpc.js";
import type { PageApi, PageSettings } from "./browserPage.js";
import { engineNotInstalled, packageVersion } from "./engines.js";
import { peakRss, processTree } from "./proc.js";

const require = createRequire(import.meta.url);

/** The files each engine's page needs beside page.js: bundles (esbuild, from this source) and copies. */
const ENGINE_FILES: Record<PageSettings["engine"], { bundles: Record<string, string>; copies: string[] }> = {
  "inception-wasm": { bundles: {}, copies: [] },
  "ort-web": {
    // The wasm-only build: the same ort-wasm-simd-threaded.wasm as under Node (the default build adds WebGPU's).
    bundles: { "ort.js": 'export * from "onnxruntime-web/wasm";' },
    copies: ["onnxruntime-web/ort-wasm-simd-threaded.mjs", "onnxruntime-web/ort-wasm-simd-threaded.wasm"],
  },
  "tfjs-wasm": {
    bundles: {
      "tfjs.js":
        'export * as tf from "@tensorflow/tfjs-core"; export * as backend from "@tensorflow/tfjs-backend-wasm";',
    },
    copies: ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"].map(
      (f) => `@tensorflow/tfjs-backend-wasm/dist/${f}`,
    ),
  },
  litert: {
    bundles: { "litert.js": 'export * from "@litertjs/core";' },
    copies: Object.values(LITERT_WASM).flatMap((f) =>
      [".js", ".wasm"].map((ext) => join(litertPackage().dir, "wasm", `${f}${ext}`)),
    ),
  },
};

/** Writes page.js, the engine's bundles and copies into `dir`. */
async function writePage(dir: string, engine: PageSettings["engine"]): Promise<void> {
  const options = { bundle: true, format: "esm", platform: "browser", logLevel: "error" } as const;
  const { bundles, copies } = ENGINE_FILES[engine];
  const files = copies.map((file) => {
    try {
      return require.resolve(file);
    } catch (error) {
      throw engineNotInstalled(engine, (error as Error).message);
    }
  });
  await Promise.all([
    writeFile(join(dir, "index.html"), PAGE),
    build({ ...options, entryPoints: [join(ROOT, "bench", "browserPage.ts")], outfile: join(dir, "page.js") }),
    ...Object.entries(bundles).map(([file, contents]) =>
      build({
        ...options,
        stdin: { contents, resolveDir: join(ROOT, "bench"), loader: "js" },
        outfile: join(dir, file),
      }),
    ),
    ...files.map((file) => copyFile(file, join(dir, basename(file)))),
  ]);
}

/** The page: imports the bundle (browserPage.ts and the library's inline entry) and times that import; no favicon request. */
const PAGE = `<!doctype html><link rel="icon" href="data:,"><script type="module">
const t0 = performance.now();
await import("./page.js");
globalThis.benchImportMs = performance.now() - t0;
</script>`;

/**
 * The page's peak RSS: the largest peak (VmHWM) of Chromium's renderer processes below this one
 * (the page and its workers run in one; a navigation with COOP may leave an idle one beside it).
 */
function rendererPeakRss(): number {
  const renderers = processTree(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--type=renderer");
    } catch {
      return false;
    }
  });
  return Math.max(0, ...renderers.map((pid) => peakRss([pid])));
}

/**
 * The navigator.hardwareConcurrency the page reports for tfjs-backend-wasm at `threads` threads:
 * its threaded build clamps its thread count to hardwareConcurrency / 2 (enginesWeb.ts,
 * tfjsThreadsCause), so on a machine of fewer than 2 x `threads` cores it would run fewer threads
 * than every other engine. Emulating 2 x `threads` (DevTools' Emulation domain) lifts only that
 * clamp; the machine's cores stay what they are. undefined: no override needed.
 */
function tfjsCoresOverride(engine: PageSettings["engine"], threads: number): number | undefined {
  return engine === "tfjs-wasm" && threads > 1 && 2 * threads > availableParallelism() ? 2 * threads : undefined;
}

interface Server {
  url: string;
  close(): Promise<void>;
}
const { startServer } = (await import(join(ROOT, "examples", "web", "serve.mjs"))) as {
  startServer(o: { root: string; isolate: boolean; weights: Uint8Array }): Promise<Server>;
};

async function main(settings: ChildSettings): Promise<void> {
  const { config } = settings;
  const engine = config.engine;
  if (engine === "ort-node")
    throw new EngineUnavailable("onnxruntime-node is a native Node addon: browsers cannot load it");
  const dir = await mkdtemp(join(tmpdir(), "inception-wasm-bench-chromium-"));
  const cleanup: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    const image = toNetworkInput(decodeImage(new Uint8Array(await readFile(settings.photo)), settings.photo));
    await writeFile(join(dir, "input.f32"), new Uint8Array(image.buffer, image.byteOffset, image.byteLength));
    const expected = expectedWeights(googlenetGraph(), INPUT_SIZE, INPUT_SIZE);
    const weights = await encodeWeightFile((await loadWeights({ source: config.weights, expected })).tensors);
    await writePage(dir, engine);
    if (engine === "ort-web") await copyFile(config.onnxFile, join(dir, "model.onnx"));
    if (engine === "litert") await copyFile(config.tfliteFile, join(dir, "model.tflite"));
    const server = await startServer({ root: dir, isolate: true, weights });
    cleanup.unshift(() => server.close());
    const browser = await launchChromium();
    cleanup.unshift(() => browser.close());
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") process.stderr.write(`chromium page: ${m.text()}\n`);
    });
    const cores = tfjsCoresOverride(engine, config.threads);
    if (cores !== undefined) {
      const cdp = await browser.context.newCDPSession(page);
      await cdp.send("Emulation.setHardwareConcurrencyOverride", { hardwareConcurrency: cores });
    }
    await page.goto(server.url);
    await page.waitForFunction("globalThis.benchImportMs !== undefined", null, { timeout: 60_000 }).catch(() => {
      throw new Error(`the page did not start${errors.length ? `: ${errors.join("; ")}` : ""}`);
    });
    const pageSettings: PageSettings = {
      engine,
      threads: config.threads,
      build: config.build,
      precision: config.precision,
      maxBatch: config.maxBatch,
      warmup: settings.warmup,
      version: await packageVersion(),
      ...(cores !== undefined
        ? {
            caveat:
              `navigator.hardwareConcurrency emulated as ${cores} on ${availableParallelism()} vCPUs, as tfjs's ` +
              "threaded build runs at most hardwareConcurrency / 2 threads (it assumes two hardware threads per core)",
          }
        : {}),
    };
    const loaded = await page.evaluate(
      (s) => (globalThis as unknown as { bench: PageApi }).bench.load(s),
      pageSettings,
    );
    if ("unavailable" in loaded) throw new EngineUnavailable(loaded.unavailable);
    if (loaded.binary.bytes === 0) loaded.binary.bytes = (await stat(join(dir, loaded.binary.name))).size;
    if (engine === "litert") loaded.version = litertPackage().version;
    const version =
      /[\d.]+/.exec(
        execFileSync(CHROMIUM, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }),
      )?.[0] ?? "?";
    await send({
      type: "ready",
      runtime: { name: "chromium", version, engine: `V8 (Chromium ${version})` },
      peakRssBytes: rendererPeakRss(),
      ...loaded,
    });
    await nextMessage();
    const measured = await page.evaluate(
      (runs) => (globalThis as unknown as { bench: PageApi }).bench.measure(runs),
      settings.runs,
    );
    await send({ type: "result", ...measured, peakRssBytes: rendererPeakRss() });
  } finally {
    for (const step of cleanup) await step();
  }
}

main(JSON.parse(process.argv[2]) as ChildSettings).then(() => process.exit(0), reportFailure);
