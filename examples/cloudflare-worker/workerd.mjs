// Runs the Worker locally under workerd (the npm package, no account, no wrangler): bundles an app
// folder's src/index.js (this example copied next to an installed inception-wasm) the way wrangler
// does (export conditions workerd, worker, browser; .wasm imports kept as compiled modules), writes a
// workerd config giving the Worker its weights one of three ways, starts workerd on
// 127.0.0.1:`port`. The tests import runWorkerd from here.
//
// Weights: `weights` (bytes) as a data binding WEIGHTS (the isolate gets them whole, as an
// ArrayBuffer); `weightsDir`, a folder holding googlenet.iwnet, as a disk service bound to the Worker
// as the service binding WEIGHTS_SERVICE (its fetch() answers the file as a stream, as an R2 object's
// body would: workerd's own r2Bucket binding sends Cloudflare's internal R2 protocol to a service
// that must implement it, as Miniflare does); or `weightsUrl` as the text binding WEIGHTS_URL, with
// the Worker's outbound network allowed to reach local addresses (workerd's default "internet"
// service reaches public ones only).

import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The capnp bindings and extra services for the weights options of runWorkerd. */
function weightsConfig({ weights, weightsDir, weightsUrl }) {
  if ([weights, weightsDir, weightsUrl].filter((w) => w !== undefined).length !== 1) {
    throw new Error("runWorkerd: expected exactly one of weights, weightsDir, weightsUrl");
  }
  if (weights) return { bindings: ['(name = "WEIGHTS", data = embed "weights.iwnet")'], services: [] };
  if (weightsDir) {
    return {
      bindings: ['(name = "WEIGHTS_SERVICE", service = "weights")'],
      services: [`(name = "weights", disk = (path = ${JSON.stringify(weightsDir)}, writable = false))`],
    };
  }
  return {
    bindings: [`(name = "WEIGHTS_URL", text = ${JSON.stringify(weightsUrl)})`],
    // Replaces workerd's default "internet" service (the Worker's globalOutbound): local addresses too.
    services: ['(name = "internet", network = (allow = ["public", "local"]))'],
  };
}

/**
 * Bundles and starts the Worker of `app` (a folder with src/index.js and node_modules/inception-wasm);
 * its weights are one of `weights` (IWNET bytes), `weightsDir` or `weightsUrl` (see the header).
 * With `inspectorPort`, workerd also serves the DevTools protocol on 127.0.0.1:`inspectorPort` (the
 * tests read the isolate's heap there). Resolves once workerd listens on 127.0.0.1:`port`, to
 * { url, pid, log(), stop() }; stop() also removes the folder of the bundle and config.
 */
export async function runWorkerd({
  app,
  port,
  weights,
  weightsDir,
  weightsUrl,
  compatibilityFlags = [],
  inspectorPort,
}) {
  const weightsSetup = weightsConfig({ weights, weightsDir, weightsUrl });
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
  if (weights) await writeFile(join(dir, "weights.iwnet"), weights);
  await writeFile(
    join(dir, "config.capnp"),
    [
      'using Workerd = import "/workerd/workerd.capnp";',
      "const config :Workerd.Config = (",
      `  services = [ (name = "main", worker = .worker), ${weightsSetup.services.map((x) => `${x}, `).join("")}],`,
      `  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],`,
      ");",
      "const worker :Workerd.Worker = (",
      "  modules = [",
      '    (name = "worker.js", esModule = embed "worker.js"),',
      '    (name = "inception-wasm/build/kernels.wasm", wasm = embed "kernels.wasm"),',
      '    (name = "inception-wasm/build/kernels-relaxed.wasm", wasm = embed "kernels-relaxed.wasm"),',
      "  ],",
      `  bindings = [ ${weightsSetup.bindings.join(", ")} ],`,
      '  compatibilityDate = "2026-11-01",',
      `  compatibilityFlags = [${compatibilityFlags.map((f) => JSON.stringify(f)).join(", ")}],`,
      ");",
      "",
    ].join("\n"),
  );
  const bin = join(createRequire(import.meta.url).resolve("workerd/package.json"), "..", "bin", "workerd");
  const args = ["serve", join(dir, "config.capnp"), "--verbose"];
  if (inspectorPort !== undefined) args.push(`--inspector-addr=127.0.0.1:${inspectorPort}`);
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited with code ${child.exitCode}: ${log}`);
    // The Worker answers a GET with 405: anything else on the port is not this workerd.
    const up = await fetch(url).then(
      (r) => r.status === 405,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`workerd did not listen on ${url} within 30 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid,
    log: () => log,
    // SIGTERM, then SIGKILL after 5 s: a workerd whose inspector was used sometimes ignores SIGTERM.
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null)
          return rm(dir, { recursive: true, force: true }).then(resolve, resolve);
        const force = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => {
          clearTimeout(force);
          rm(dir, { recursive: true, force: true }).then(resolve, resolve);
        });
        child.kill("SIGTERM");
      }),
  };
}
