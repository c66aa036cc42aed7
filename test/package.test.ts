// The package as a user installs it: `npm pack`, the tarball installed into an empty folder with
// production dependencies only, then the CLI (--help, summary, bench), a short ESM script that
// classifies a photo, and a TypeScript file type-checked against the package's own types.
// Needs the build (dist/, build/*.wasm) and the npm cache that `npm ci` filled.

import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readMatWeights } from "../src/node/weights.js";
import { encodeCaffemodel } from "./support/caffemodel.js";
import { DATA_DIR, photoCases } from "./support/data.js";
import { rngFor } from "./support/rng.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
let app = "";
let cache = "";

/** Runs a command in the app folder with the user cache in the temporary folder. */
function inApp(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(file, args, { cwd: app, env: { ...process.env, INCEPTION_WASM_CACHE: cache }, maxBuffer: 1 << 24 });
}

test.before(async () => {
  const tmp = await mkdtemp(join(tmpdir(), "inception-wasm-pack-"));
  app = join(tmp, "app");
  cache = join(tmp, "cache");
  // The build is already there (npm test compiles first); packing must not rebuild it.
  const { stdout } = await run(npm, ["pack", "--ignore-scripts", "--silent", "--pack-destination", tmp], { cwd: root });
  const tarball = join(tmp, stdout.trim().split("\n").pop()!);
  await run("mkdir", ["-p", app]);
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  await inApp(npm, ["install", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund", tarball]);
});

test.after(async () => {
  if (app) await rm(join(app, ".."), { recursive: true, force: true });
});

test("the installed package holds the CLI, both entries, the worker and the wasm builds, no sources or tests", () => {
  const pkg = join(app, "node_modules", "inception-wasm");
  for (const f of [
    "dist/src/cli/main.js",
    "dist/src/index.js",
    "dist/src/node/index.js",
    "dist/src/node/worker.js",
    "dist/src/host/exec/worker.js",
    "dist/worker.js",
    "build/kernels.wasm",
    "build/kernels-relaxed.wasm",
  ]) {
    assert.ok(existsSync(join(pkg, f)), f);
  }
  for (const f of ["src", "test", "dist/test", "dist/bench", "assembly"])
    assert.not.ok(existsSync(join(pkg, f)), `${f} is not shipped`);
  const deps = readdirSync(join(app, "node_modules"));
  for (const dev of ["typescript", "uvu", "assemblyscript", "onnxruntime-node", "deno"])
    assert.not.ok(deps.includes(dev), `${dev} not installed`);
});

test("npx inception-wasm --help, summary and bench --runs 3 work from the installed package", async () => {
  const bin = join(app, "node_modules", ".bin", "inception-wasm");
  assert.match((await inApp(bin, ["--help"])).stdout, /usage: inception-wasm <command>/);
  assert.match((await inApp(bin, ["summary"])).stdout, /6,998,552\s+1,582,671,872/);
  const bench = await inApp(bin, ["bench", "--runs", "3", "--warmup", "1", "--weights", DATA_DIR]);
  assert.match(bench.stdout, /threads=1 batch=1: median [0-9.]+ ms/);
  assert.not.ok(existsSync(join(app, "node_modules", "inception-wasm", ".cache")), "no cache inside the package");
});

test("npx inception-wasm verify reproduces the golden bits from the installed package", async () => {
  const bin = join(app, "node_modules", ".bin", "inception-wasm");
  const { stdout } = await inApp(bin, ["verify", "--weights", DATA_DIR]);
  assert.match(stdout, /^PASS: the baseline build reproduces the reference bits for all 3 inputs/m);
});

test("npx inception-wasm classify --weights <a generated V1 caffemodel> photo: the right class", async () => {
  // A model-zoo-like training snapshot (V1 layers, loss heads) built from the BVLC weights; fixed seed for its heads.
  const caffemodel = join(app, "bvlc_googlenet.caffemodel");
  const tensors = await readMatWeights(DATA_DIR);
  await writeFile(
    caffemodel,
    encodeCaffemodel(tensors, { version: 1, withTrainingLayers: true, rng: rngFor(1, "pack") }),
  );
  const photo = photoCases()[0];
  const bin = join(app, "node_modules", ".bin", "inception-wasm");
  const { stdout } = await inApp(bin, ["classify", "--json", "--threads", "1", "--weights", caffemodel, photo.file]);
  const r = JSON.parse(stdout) as { images: { top: { index: number }[] }[] };
  assert.is(r.images[0].top[0].index, photo.top1);
});

test("a 10-line ESM script classifies a photo through the package's Node entry", async () => {
  const photo = photoCases()[0];
  await writeFile(
    join(app, "classify.mjs"),
    [
      'import { readFile } from "node:fs/promises";',
      'import { GoogLeNet } from "inception-wasm";',
      "",
      "const [weights, image] = process.argv.slice(2);",
      "const net = await GoogLeNet.load({ weights, threads: 2 });",
      "const top = await net.classify(await readFile(image), { topK: 1 });",
      "console.log(JSON.stringify({ index: top[0].index, label: top[0].label, threads: net.threads }));",
      "await net.dispose();",
    ].join("\n"),
  );
  const { stdout } = await inApp(process.execPath, ["classify.mjs", DATA_DIR, photo.file]);
  const r = JSON.parse(stdout) as { index: number; label: string; threads: number };
  assert.is(r.index, photo.top1, `${photo.file}: ${r.label}`);
  assert.is(r.threads, 2);
});

test("every entry exports the typed errors, DisposedError named as such; a disposed network rejects with it; no ./kernels subpath", async () => {
  await writeFile(
    join(app, "entries.mjs"),
    [
      'const entries = { node: await import("inception-wasm"), inline: await import("inception-wasm/inline") };',
      "const names = {};",
      "for (const [entry, m] of Object.entries(entries)) {",
      '  const e = new m.DisposedError("op", "gone");',
      "  names[entry] = [e.name, e instanceof m.InceptionError, e.code];",
      "}",
      "const net = await entries.node.GoogLeNet.load({ weights: process.argv[2], threads: 1, warmUp: false });",
      "await net.dispose();",
      "const disposed = await net.run(new Float32Array(3 * 224 * 224)).catch((e) => [e.name, e instanceof entries.node.DisposedError]);",
      'const kernels = await import("inception-wasm/kernels").then(() => "exported", (e) => e.code);',
      "console.log(JSON.stringify({ names, disposed, kernels }));",
    ].join("\n"),
  );
  const node = JSON.parse((await inApp(process.execPath, ["entries.mjs", DATA_DIR])).stdout);
  const want = ["DisposedError", true, "E_DISPOSED"];
  assert.equal(node, {
    names: { node: want, inline: want },
    disposed: ["DisposedError", true],
    kernels: "ERR_PACKAGE_PATH_NOT_EXPORTED",
  });
  // The browser-safe entry, as bundlers' "browser" condition picks it (no loadWeights: that is the Node entry's).
  await writeFile(
    join(app, "browser.mjs"),
    'const m = await import("inception-wasm");\nconsole.log(new m.DisposedError("op", "gone").name, typeof m.loadWeights);\n',
  );
  const browser = await inApp(process.execPath, ["--conditions=browser", "browser.mjs"]);
  assert.is(browser.stdout.trim(), "DisposedError undefined");
});

test("a TypeScript file type-checks against the package's types", async () => {
  await writeFile(
    join(app, "use.mts"),
    [
      'import { GoogLeNet, ILSVRC2012_CLASSES, WeightsError, type LoadOptions, type Prediction } from "inception-wasm";',
      "",
      'const options: LoadOptions = { weights: process.argv[2], threads: 1, build: "baseline" };',
      "const net: GoogLeNet = await GoogLeNet.load(options);",
      "const top: Prediction[] = await net.classify(new Uint8Array(8), { topK: 3 }).catch((e: unknown) => {",
      "  if (e instanceof WeightsError) throw e;",
      "  return [];",
      "});",
      "console.log(top.length, ILSVRC2012_CLASSES.length, net.build, net.capabilities.reason);",
      "await net.dispose();",
    ].join("\n"),
  );
  await writeFile(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "es2022",
        module: "nodenext",
        moduleResolution: "nodenext",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ["node"],
        typeRoots: [join(root, "node_modules", "@types")],
      },
      files: ["use.mts"],
    }),
  );
  await inApp(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"]);
  // The check can fail: a wrong type is reported.
  await writeFile(
    join(app, "use.mts"),
    'import { GoogLeNet } from "inception-wasm";\nconst n: number = GoogLeNet.load;\n',
  );
  const e = await inApp(process.execPath, [
    join(root, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    "tsconfig.json",
  ]).catch((err: unknown) => err as { stdout: string });
  assert.match((e as { stdout: string }).stdout, /TS2322/);
});

test.run();
