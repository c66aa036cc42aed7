// Runs the Worker locally under workerd (the npm package, no account, no wrangler): bundles an app
// folder's src/index.js (this example copied next to an installed inception-wasm) the way wrangler does (export conditions workerd, worker, browser; .wasm imports kept
// as compiled modules), writes a workerd config with the weights as a data binding, starts workerd on
// 127.0.0.1:`port`. The tests import runWorkerd from here.

import { spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Bundles and starts the Worker of `app` (a folder with src/index.js and node_modules/inception-wasm);
 * `weights` are the IWNET bytes, bound as WEIGHTS. Resolves once workerd listens on 127.0.0.1:`port`,
 * to { url, log(), stop() }.
 */
export async function runWorkerd({ app, port, weights, compatibilityFlags = [] }) {
  const { build } = await import("esbuild");
  const dir = await mkdtemp(join(tmpdir(), "inception-wasm-workerd-"));
  await build({
    entryPoints: [join(app, "src", "index.js")],
    outfile: join(dir, "worker.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["*.wasm"],
    absWorkingDir: app,
    logLevel: "error",
  });
  const require = createRequire(join(app, "package.json"));
  const wasm = (file) => require.resolve(`inception-wasm/build/${file}`);
  await writeFile(join(dir, "kernels.wasm"), await readFile(wasm("kernels.wasm")));
  await writeFile(join(dir, "kernels-relaxed.wasm"), await readFile(wasm("kernels-relaxed.wasm")));
  await writeFile(join(dir, "weights.iwnet"), weights);
  await writeFile(
    join(dir, "config.capnp"),
    [
      'using Workerd = import "/workerd/workerd.capnp";',
      "const config :Workerd.Config = (",
      '  services = [ (name = "main", worker = .worker) ],',
      `  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],`,
      ");",
      "const worker :Workerd.Worker = (",
      "  modules = [",
      '    (name = "worker.js", esModule = embed "worker.js"),',
      '    (name = "inception-wasm/build/kernels.wasm", wasm = embed "kernels.wasm"),',
      '    (name = "inception-wasm/build/kernels-relaxed.wasm", wasm = embed "kernels-relaxed.wasm"),',
      "  ],",
      '  bindings = [ (name = "WEIGHTS", data = embed "weights.iwnet") ],',
      '  compatibilityDate = "2026-11-01",',
      `  compatibilityFlags = [${compatibilityFlags.map((f) => JSON.stringify(f)).join(", ")}],`,
      ");",
      "",
    ].join("\n"),
  );
  const bin = join(createRequire(import.meta.url).resolve("workerd/package.json"), "..", "bin", "workerd");
  const child = spawn(bin, ["serve", join(dir, "config.capnp"), "--verbose"], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited with code ${child.exitCode}: ${log}`);
    const up = await fetch(url).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`workerd did not listen on ${url} within 30 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(undefined);
        child.once("exit", () => resolve(undefined));
        child.kill();
      }),
  };
}
