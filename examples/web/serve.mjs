// `npm run web`: bundles the demo (index.html, src/) with esbuild into examples/web/dist and serves it
// on 127.0.0.1 with the cross-origin isolation headers (COOP/COEP) that shared memory needs, plus
// the weights as /weights.iwnet (converted from what the Node entry finds: the user cache or the
// data folder). The tests import buildWithEsbuild and startServer from here.
//
//   node examples/web/serve.mjs [--port 8080] [--no-isolation] [--weights FILE]

import { copyFile, mkdir, readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".iwnet": "application/octet-stream",
};

/**
 * Bundles the demo from `source` (a folder with index.html and src/) into `out` with esbuild, the
 * way the README tells esbuild users: the page and its worker as two entry points, ES modules,
 * inception-wasm aliased to its inline entry. Returns `out`.
 */
export async function buildWithEsbuild(source = here, out = join(here, "dist"), options = {}) {
  const { build } = await import("esbuild");
  await mkdir(join(out, "src"), { recursive: true });
  await build({
    entryPoints: [join(source, "src", "main.js"), join(source, "src", "netWorker.js")],
    outdir: join(out, "src"),
    bundle: true,
    format: "esm",
    minify: true,
    alias: { "inception-wasm": "inception-wasm/inline" },
    absWorkingDir: options.cwd ?? source,
    logLevel: "error",
  });
  await copyFile(join(source, "index.html"), join(out, "index.html"));
  await copyFile(join(source, "src", "style.css"), join(out, "src", "style.css"));
  return out;
}

/**
 * Serves `root` on 127.0.0.1:`port` (0: any free port), with COOP/COEP when `isolate`, and
 * `weights` (bytes) at /weights.iwnet. Resolves to { url, close() }.
 */
export function startServer({ root, port = 0, isolate = true, weights }) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    const headers = isolate
      ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" }
      : {};
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, headers).end();
      return;
    }
    if (path === "/weights.iwnet" && weights) {
      res.writeHead(200, { ...headers, "Content-Type": TYPES[".iwnet"], "Content-Length": weights.length });
      res.end(req.method === "HEAD" ? undefined : weights);
      return;
    }
    const file = normalize(join(base, path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(base + sep) && file !== base) {
      res.writeHead(403, headers).end();
      return;
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error("not a file");
      const body = await readFile(file);
      res.writeHead(200, { ...headers, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch {
      res.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end(`not found: ${path}`);
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address();
      resolvePromise({
        url: `http://127.0.0.1:${bound}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

/** The IWNET bytes of the weights the Node entry finds (or of `file`). */
async function weightsBytes(file) {
  const { loadWeights, encodeWeightFile, googlenetGraph } = await import("../../dist/src/node/index.js");
  const { expectedWeights } = await import("../../dist/src/host/ir/tensors.js");
  const { tensors } = await loadWeights({ source: file, expected: expectedWeights(googlenetGraph(), 224, 224) });
  return encodeWeightFile(tensors);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const value = (flag) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const weights = await weightsBytes(value("--weights"));
  const root = await buildWithEsbuild();
  const server = await startServer({
    root,
    port: Number(value("--port") ?? 8080),
    isolate: !args.includes("--no-isolation"),
    weights,
  });
  console.log(`inception-wasm demo: ${server.url} (Ctrl-C stops it)`);
}
