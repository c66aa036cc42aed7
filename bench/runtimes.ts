// The runtime table: the same probe (bench/runtimeRow.ts: load, median run(), median classify(coffee.png),
// top-1) in Chromium's page main thread, a Chromium worker, a page without COOP/COEP, workerd (the
// Cloudflare Worker example, timed from outside), edge-runtime, Deno, Bun and Node, one after another.
// Prints a Markdown table and writes the JSON to bench/results/<date>-runtimes.json.
//
//   node scripts/provision.mjs bench chromium && npm run build:ts && node dist/bench/runtimes.js

import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { encodeWeightFile } from "../src/model/formats/iwnet.js";
import { readMatWeights } from "../src/node/weights.js";
import { installPackedApp, ROOT } from "../test/support/app.js";
import { launchChromium } from "../test/support/chromium.js";
import { DATA_DIR } from "../test/support/data.js";
import type { ProbeRow } from "./runtimeRow.js";

const run = promisify(execFile);
type Row = Partial<ProbeRow> & { runtime: string; note?: string };
const rows: Row[] = [];
const COFFEE = join(DATA_DIR, "photos", "coffee.png");

interface Server {
  url: string;
  close(): Promise<void>;
}
const { startServer } = (await import(join(ROOT, "examples", "web", "serve.mjs"))) as {
  startServer(o: { root: string; isolate: boolean; weights: Uint8Array }): Promise<Server>;
};

const weights = await encodeWeightFile(await readMatWeights(DATA_DIR));
const dir = await mkdtemp(join(tmpdir(), "inception-wasm-runtimes-"));
const weightsFile = join(dir, "weights.iwnet");
await writeFile(weightsFile, weights);
await cp(COFFEE, join(dir, "coffee.png"));
await writeFile(join(dir, "index.html"), '<!doctype html><script type="module" src="./runtimeRowWeb.js"></script>');
const probeSource = join(ROOT, "bench", "runtimeRowWeb.ts");
await build({
  entryPoints: [probeSource],
  outfile: join(dir, "runtimeRowWeb.js"),
  bundle: true,
  format: "esm",
  logLevel: "error",
});

async function chromiumRows(isolate: boolean): Promise<void> {
  const server = await startServer({ root: dir, isolate, weights });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(server.url);
    await page.waitForFunction("window.probeResult !== undefined", null, { timeout: 300_000 });
    const r = (await page.evaluate("window.probeResult")) as { mainThread: ProbeRow; worker: ProbeRow };
    if (isolate) {
      rows.push({ runtime: "Chromium, page main thread", ...r.mainThread });
      rows.push({ runtime: "Chromium, dedicated worker", ...r.worker });
    } else rows.push({ runtime: "Chromium worker, no COOP/COEP", ...r.worker });
  } finally {
    await browser.close();
    await server.close();
  }
}

async function edgeRow(): Promise<void> {
  const server = await startServer({ root: dir, isolate: false, weights });
  try {
    const out = await build({
      entryPoints: [probeSource],
      bundle: true,
      format: "iife",
      write: false,
      logLevel: "error",
    });
    const { EdgeRuntime } = await import("edge-runtime");
    const vm = new EdgeRuntime({
      initialCode: `globalThis.PROBE_BASE = ${JSON.stringify(server.url)};\n${out.outputFiles[0].text}`,
    });
    const deadline = Date.now() + 300_000;
    const context = vm.context as unknown as { probeResult?: ProbeRow };
    while (context.probeResult === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    rows.push({ runtime: "edge-runtime (Vercel)", ...context.probeResult });
  } finally {
    await server.close();
  }
}

async function workerdRow(): Promise<void> {
  const app = await installPackedApp("runtimes");
  const { runWorkerd } = (await import(join(ROOT, "examples", "cloudflare-worker", "workerd.mjs"))) as {
    runWorkerd(o: { app: string; port: number; weights: Uint8Array }): Promise<{ url: string; stop(): Promise<void> }>;
  };
  await cp(join(ROOT, "examples", "cloudflare-worker", "src"), join(app.dir, "src"), { recursive: true });
  const w = await runWorkerd({ app: app.dir, port: 18787, weights });
  try {
    const png = await readFile(COFFEE);
    const times: number[] = [];
    let top1 = -1;
    let answer: { threads: number; build: string; why: string } | undefined;
    for (let i = 0; i < 16; i++) {
      const t = performance.now();
      const r = (await (await fetch(w.url, { method: "POST", body: png })).json()) as typeof answer & {
        top: { index: number }[];
      };
      times.push(performance.now() - t);
      top1 = r!.top[0].index;
      answer = r;
    }
    const later = times.slice(1).sort((a, b) => a - b);
    const med = (later[7] + later[8]) / 2;
    rows.push({
      runtime: "workerd (Cloudflare Worker example)",
      threads: answer!.threads,
      build: answer!.build,
      why: answer!.why,
      loadMs: times[0] - med,
      classifyMs: med,
      top1,
      note: "timed from outside (workerd freezes timers during a request): load = first request - median; classify = HTTP round trip",
    });
  } finally {
    await w.stop();
    await app.remove();
  }
}

async function cliRow(label: string, argv: string[]): Promise<void> {
  const probe = join(ROOT, "dist", "bench", "runtimeRowNode.js");
  const [bin, ...args] = argv;
  const { stdout } = await run(bin, [...args, probe, weightsFile, COFFEE], { cwd: ROOT, maxBuffer: 1 << 24 });
  rows.push({ runtime: label, ...(JSON.parse(stdout.trim().split("\n").pop()!) as ProbeRow) });
}

const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
const steps: [string, () => Promise<void>][] = [
  ["chromium", () => chromiumRows(true)],
  ["chromium without isolation", () => chromiumRows(false)],
  ["workerd", workerdRow],
  ["edge-runtime", edgeRow],
  ["deno", () => cliRow("Deno", [bin("deno"), "run", "-A", "--node-modules-dir=manual"])],
  ["bun", () => cliRow("Bun", [bin("bun"), "--no-install"])],
  ["node", () => cliRow(`Node ${process.version}`, [process.execPath])],
];
try {
  for (const [name, step] of steps) {
    process.stderr.write(`runtimes: ${name}\n`);
    await step().catch((e: Error) => rows.push({ runtime: name, note: `failed: ${e.message}` }));
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const f = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(1));
console.log(`CPU: ${cpus()[0]?.model} (${cpus().length} logical cores)\n`);
console.log("| runtime | threads | build | load ms | run ms (median) | classify ms (median) | top-1 |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.runtime} | ${r.threads ?? "-"} | ${r.build ?? "-"} | ${f(r.loadMs)} | ${f(r.runMs)} | ${f(r.classifyMs)} | ${r.top1 ?? "-"} |`,
  );
}
for (const r of rows) {
  const notes = [r.why, r.note, (r as { error?: string }).error].filter(Boolean);
  if (notes.length > 0) console.log(`- ${r.runtime}: ${notes.join("; ")}`);
}
await mkdir(join(ROOT, "bench", "results"), { recursive: true });
const file = join(ROOT, "bench", "results", `${new Date().toISOString().slice(0, 10)}-runtimes.json`);
await writeFile(file, `${JSON.stringify({ cpu: cpus()[0]?.model, cores: cpus().length, rows }, null, 2)}\n`);
console.log(`\n${file}`);
