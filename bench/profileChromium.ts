// The profile in a page of Debian's Chromium (test/support/chromium.ts: playwright-core, never a
// downloaded browser): bench/profilePage.ts bundled with esbuild, served with COOP/COEP (shared
// memory and pool workers) by the demo's server, the real weights converted to IWNET.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { expectedWeights } from "../src/host/ir/tensors.js";
import { encodeWeightFile } from "../src/model/formats/iwnet.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { loadWeights } from "../src/node/weights.js";
import { ROOT } from "../test/support/app.js";
import { launchChromium } from "../test/support/chromium.js";
import type { ProfileReport } from "./profileCore.js";
import type { ProfilePageSettings } from "./profilePage.js";

interface Server {
  url: string;
  close(): Promise<void>;
}

/** How long the page may take to start (bundle import) and to profile. */
const START_MS = 60_000;
const PROFILE_MS = 600_000;

/** Runs the profile in a fresh Chromium page and returns its report; page errors and console errors go to stderr. */
export async function profileInChromium(settings: ProfilePageSettings): Promise<ProfileReport> {
  const { startServer } = (await import(join(ROOT, "examples", "web", "serve.mjs"))) as {
    startServer(o: { root: string; isolate: boolean; weights: Uint8Array }): Promise<Server>;
  };
  const dir = await mkdtemp(join(tmpdir(), "inception-wasm-profile-chromium-"));
  const cleanup: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    await writeFile(
      join(dir, "index.html"),
      '<!doctype html><link rel="icon" href="data:,"><script type="module" src="./page.js"></script>',
    );
    await build({
      entryPoints: [join(ROOT, "bench", "profilePage.ts")],
      outfile: join(dir, "page.js"),
      bundle: true,
      format: "esm",
      platform: "browser",
      logLevel: "error",
    });
    const { tensors } = await loadWeights({ expected: expectedWeights(googlenetGraph(), 224, 224) });
    const server = await startServer({ root: dir, isolate: true, weights: await encodeWeightFile(tensors) });
    cleanup.unshift(() => server.close());
    const browser = await launchChromium();
    cleanup.unshift(() => browser.close());
    const page = await browser.context.newPage();
    page.on("pageerror", (e) => process.stderr.write(`chromium page: ${e.message}\n`));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") process.stderr.write(`chromium page: ${m.text()}\n`);
    });
    await page.goto(server.url);
    await page.waitForFunction("globalThis.profile !== undefined", null, { timeout: START_MS });
    const report = page.evaluate(
      (s) => (globalThis as unknown as { profile(s: ProfilePageSettings): Promise<ProfileReport> }).profile(s),
      settings,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the page's profile took over ${PROFILE_MS / 1000} s`)), PROFILE_MS);
    });
    try {
      return await Promise.race([report, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    for (const step of cleanup) await step();
  }
}
