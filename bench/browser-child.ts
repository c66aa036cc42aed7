// The Chromium child: speaks the engine child's protocol (child-ipc.ts) to the suite and runs the
// engine in a page of Debian's Chromium (playwright-core, test/support/chromium.ts), served with
// COOP/COEP so the page has shared memory and workers. inception-wasm runs there through its
// inline entry (browser-page.ts); the other engines are reported as not run here, with why. The
// input tensor is made here (the same decoding and preprocessing as the other children) and the
// weights are served as IWNET. Peak RSS is the page's renderer process's (the browser and GPU
// processes are left out).

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { expectedWeights } from "../src/host/ir/tensors.js";
import { decodeImage } from "../src/model/image/decode.js";
import { toNetworkInput } from "../src/model/image/preprocess.js";
import { encodeWeightFile } from "../src/model/formats/iwnet.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { loadWeights } from "../src/node/weights.js";
import { ROOT } from "../test/support/app.js";
import { CHROMIUM, launchChromium } from "../test/support/chromium.js";
import { EngineUnavailable, INPUT_SIZE } from "./child-core.js";
import { nextMessage, reportFailure, send, type ChildSettings } from "./child-ipc.js";
import type { PageApi, PageSettings } from "./browser-page.js";
import { packageVersion } from "./engines.js";
import { peakRss, processTree } from "./proc.js";

/** Why an engine other than inception-wasm is not run in Chromium. */
const NOT_IN_CHROMIUM: Record<string, string> = {
  "ort-node": "onnxruntime-node is a native Node addon: browsers cannot load it",
  "ort-web": "the Chromium child runs inception-wasm only: onnxruntime-web is not bundled for the page yet",
  "tfjs-wasm": "the Chromium child runs inception-wasm only: tfjs-backend-wasm is not bundled for the page yet",
};

/** The page: imports the bundle (browser-page.ts and the library's inline entry) and times that import. */
const PAGE = `<!doctype html><script type="module">
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

interface Server {
  url: string;
  close(): Promise<void>;
}
const { startServer } = (await import(join(ROOT, "examples", "web", "serve.mjs"))) as {
  startServer(o: { root: string; isolate: boolean; weights: Uint8Array }): Promise<Server>;
};

async function main(settings: ChildSettings): Promise<void> {
  const { config } = settings;
  if (config.engine !== "inception-wasm") throw new EngineUnavailable(NOT_IN_CHROMIUM[config.engine]);
  const dir = await mkdtemp(join(tmpdir(), "inception-wasm-bench-chromium-"));
  const cleanup: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    const image = toNetworkInput(decodeImage(new Uint8Array(await readFile(settings.photo)), settings.photo));
    await writeFile(join(dir, "input.f32"), new Uint8Array(image.buffer, image.byteOffset, image.byteLength));
    const expected = expectedWeights(googlenetGraph(), INPUT_SIZE, INPUT_SIZE);
    const weights = await encodeWeightFile((await loadWeights({ source: config.weights, expected })).tensors);
    await writeFile(join(dir, "index.html"), PAGE);
    await build({
      entryPoints: [join(ROOT, "bench", "browser-page.ts")],
      outfile: join(dir, "page.js"),
      bundle: true,
      format: "esm",
      logLevel: "error",
    });
    const server = await startServer({ root: dir, isolate: true, weights });
    cleanup.unshift(() => server.close());
    const browser = await launchChromium();
    cleanup.unshift(() => browser.close());
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction("globalThis.benchImportMs !== undefined", null, { timeout: 60_000 }).catch(() => {
      throw new Error(`the page did not start${errors.length ? `: ${errors.join("; ")}` : ""}`);
    });
    const pageSettings: PageSettings = {
      threads: config.threads,
      build: config.build,
      precision: config.precision,
      maxBatch: config.maxBatch,
      warmup: settings.warmup,
      version: await packageVersion(),
    };
    const loaded = await page.evaluate(
      (s) => (globalThis as unknown as { bench: PageApi }).bench.load(s),
      pageSettings,
    );
    if ("unavailable" in loaded) throw new EngineUnavailable(loaded.unavailable);
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
    const samples = await page.evaluate(
      (runs) => (globalThis as unknown as { bench: PageApi }).bench.measure(runs),
      settings.runs,
    );
    await send({ type: "result", samples, peakRssBytes: rendererPeakRss() });
  } finally {
    for (const step of cleanup) await step();
  }
}

main(JSON.parse(process.argv[2]) as ChildSettings).then(() => process.exit(0), reportFailure);
