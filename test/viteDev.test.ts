// The demo page (examples/web) under Vite's dev server, from the packed package installed in an app
// folder: Vite pre-bundles inception-wasm and serves the kernels and the pool's worker from
// node_modules through its own URLs. The only configuration is the one the README gives for threads:
// COOP/COEP headers (server.headers). Chromium loads the page: coffee.png is 967 on
// navigator.hardwareConcurrency threads; every .wasm is answered 200 as application/wasm with the
// wasm magic (not the HTML page dev servers fall back to); no console errors. Vite runs as a child
// process on 127.0.0.1 and is stopped by its PID.

import { type ChildProcess, spawn } from "node:child_process";
import { cp, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Page, Response } from "playwright-core";
import { encodeWeightFile } from "../src/model/formats/iwnet.js";
import { readMatWeights } from "../src/node/weights.js";
import { installPackedApp, ROOT, type App } from "./support/app.js";
import { launchChromium, requireChromium, type Browser } from "./support/chromium.js";
import { DATA_DIR } from "./support/data.js";
import { freePort } from "./support/ports.js";

const COFFEE = join(DATA_DIR, "photos", "coffee.png");
/** vite.config.js of the app: what the README tells Vite users for threads (cross-origin isolation). */
const VITE_CONFIG = `export default {
  server: { headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } },
};
`;

let app: App | undefined;
let browser: Browser | undefined;
let vite: ChildProcess | undefined;
let viteLog = "";
let url = "";

test.before(async () => {
  requireChromium();
  app = await installPackedApp("vite-dev");
  const web = join(app.dir, "web");
  await mkdir(join(web, "public"), { recursive: true });
  await cp(join(ROOT, "examples", "web", "index.html"), join(web, "index.html"));
  await cp(join(ROOT, "examples", "web", "src"), join(web, "src"), { recursive: true });
  await writeFile(join(web, "public", "weights.iwnet"), await encodeWeightFile(await readMatWeights(DATA_DIR)));
  await writeFile(join(web, "vite.config.js"), VITE_CONFIG);
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  const bin = join(ROOT, "node_modules", "vite", "bin", "vite.js");
  vite = spawn(process.execPath, [bin, "--host", "127.0.0.1", "--port", String(port), "--strictPort"], {
    cwd: web,
    stdio: ["ignore", "pipe", "pipe"],
  });
  vite.stdout!.on("data", (d) => (viteLog += d));
  vite.stderr!.on("data", (d) => (viteLog += d));
  const deadline = Date.now() + 60_000;
  // The demo's page, not whatever else might hold the port.
  const demoServed = (): Promise<boolean> =>
    fetch(url).then(
      async (r) => r.ok && (await r.text()).includes("<title>inception-wasm: GoogLeNet in your browser</title>"),
      () => false,
    );
  while (!(await demoServed())) {
    if (vite.exitCode !== null) throw new Error(`vite exited with code ${vite.exitCode}: ${viteLog}`);
    if (Date.now() > deadline) throw new Error(`vite did not serve ${url} within 60 s: ${viteLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  browser = await launchChromium();
});

test.after(async () => {
  await browser?.close();
  const child = vite;
  if (child?.pid !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(child.pid, "SIGTERM");
    await exited;
  }
  await app?.remove();
});

type Demo = {
  state: string;
  info: { threads: number; reason: string; crossOriginIsolated: boolean };
  result?: { top: { index: number }[] };
  error?: { message: string };
};

/** The demo's state (window.demo) once it is `state` or "error". */
async function settled(page: Page, state: string): Promise<Demo> {
  await page.waitForFunction(
    (s) => [s, "error"].includes((window as unknown as { demo?: { state: string } }).demo?.state ?? ""),
    state,
    { timeout: 120_000 },
  );
  return (await page.evaluate("window.demo")) as Demo;
}

test("Vite dev server: coffee.png is 967 on every core, the kernels served as wasm, no console errors", async () => {
  const errors: string[] = [];
  const wasm: Promise<string>[] = [];
  const page = await browser!.context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  // Context-wide: the kernels are fetched by the demo's worker, not the page.
  const onResponse = (r: Response): void => {
    if (!new URL(r.url()).pathname.endsWith(".wasm")) return;
    wasm.push(
      r.body().then((body) => {
        const magic = [...body.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
        return `${r.status()} ${r.headers()["content-type"]} ${magic} ${new URL(r.url()).pathname.split("/").pop()}`;
      }),
    );
  };
  browser!.context.on("response", onResponse);
  await page.goto(url);
  let demo = await settled(page, "ready");
  assert.is(demo.state, "ready", `${demo.error?.message}\n${viteLog}`);
  const cores = (await page.evaluate("navigator.hardwareConcurrency")) as number;
  assert.ok(demo.info.crossOriginIsolated, "cross-origin isolated by the config's headers");
  assert.is(demo.info.threads, cores, `threads = navigator.hardwareConcurrency (${demo.info.reason})`);
  await page.setInputFiles("#file", COFFEE);
  demo = await settled(page, "classified");
  assert.is(demo.result?.top[0].index, 967, `top-1 of coffee.png (${demo.error?.message})`);
  await page.close();
  browser!.context.off("response", onResponse);
  const served = await Promise.all(wasm);
  console.log(`wasm responses: ${served.join("; ")}`);
  assert.ok(served.length >= 1, "the demo fetched a kernel build");
  for (const s of served) assert.match(s, /^200 application\/wasm 00 61 73 6d /, s);
  assert.equal(errors, [], "no console errors");
});

test.run();
