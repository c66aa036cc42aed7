// Provides what `npm test` and `npm run bench` need beyond `npm ci`, installing what is missing
// when it may, and saying what it does:
//   chromium       Debian's chromium: the browser tests (test/support/chromium.ts) and the
//                  comparison suite's Chromium runtime. apt-get install chromium.
//   onnx-testdata  Debian's libonnx-testdata: ONNX's backend node tests (test/conformance.test.ts).
//                  apt-get install libonnx-testdata.
//   bench          bench/package.json's packages (the engines the comparison suite compares with,
//                  sharp, edge-runtime) into bench/node_modules: npm ci --prefix bench; then links
//                  dist/bench/node_modules to it, so the compiled bench (dist/bench) resolves them too.
//
// Usage: node scripts/provision.mjs [chromium] [onnx-testdata] [bench]   (no name: all three)
//
// System packages are installed with apt-get as root, or with `sudo -n` (no password prompt).
// INCEPTION_WASM_NO_INSTALL=1 installs nothing, only checks. A browser or data folder named by
// CHROMIUM_PATH or ONNX_NODE_TESTS is only checked (the default locations are Debian's, the same
// as in test/support/chromium.ts and test/support/conformance.ts). It never fails the command: what
// it cannot provide it names with the command that installs it, and the tests that need it fail
// with the same words.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NO_INSTALL = process.env.INCEPTION_WASM_NO_INSTALL === "1";
const say = (line) => console.log(`provision: ${line}`);

/** The system packages: where each is found, which Debian package puts it there. */
const SYSTEM = {
  chromium: { path: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", env: "CHROMIUM_PATH", deb: "chromium" },
  "onnx-testdata": {
    path: process.env.ONNX_NODE_TESTS ?? "/usr/share/libonnx-testdata/data/node",
    env: "ONNX_NODE_TESTS",
    deb: "libonnx-testdata",
  },
};

/** How apt-get may run here: "" as root, "sudo -n" with passwordless sudo, else undefined. */
function aptPrefix() {
  if (process.getuid?.() === 0) return [];
  return spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0 ? ["sudo", "-n"] : undefined;
}

function run(argv) {
  execFileSync(argv[0], argv.slice(1), {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** Installs the missing system packages among `names` where allowed; says what is still missing. */
function provideSystem(names) {
  const missing = names.filter((n) => !existsSync(SYSTEM[n].path));
  for (const n of names.filter((x) => !missing.includes(x))) say(`${n}: ${SYSTEM[n].path}`);
  const installable = missing.filter((n) => process.env[SYSTEM[n].env] === undefined);
  const prefix = aptPrefix();
  const why = NO_INSTALL
    ? "INCEPTION_WASM_NO_INSTALL=1"
    : prefix === undefined
      ? "not root and no passwordless sudo"
      : undefined;
  if (installable.length && why === undefined) {
    const debs = installable.map((n) => SYSTEM[n].deb);
    say(`installing Debian's ${debs.join(" and ")} (apt-get update, then apt-get install -y ${debs.join(" ")})...`);
    const started = Date.now();
    try {
      run([...prefix, "apt-get", "update", "-qq"]);
      run([...prefix, "apt-get", "install", "-y", "-qq", ...debs]);
      say(`apt-get finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      say(`apt-get failed: ${error.message}`);
    }
  }
  for (const n of missing) {
    if (existsSync(SYSTEM[n].path)) {
      say(`${n}: ${SYSTEM[n].path} (installed)`);
      continue;
    }
    const reason =
      process.env[SYSTEM[n].env] !== undefined ? `${SYSTEM[n].env} names it` : (why ?? "apt-get did not provide it");
    say(
      `MISSING ${n}: nothing at ${SYSTEM[n].path} (${reason}); install it with \`apt-get install -y ${SYSTEM[n].deb}\` ` +
        `as root, or set ${SYSTEM[n].env}. The tests that need it will fail.`,
    );
  }
}

/** The bench packages whose installed version differs from bench/package-lock.json's. */
function staleBenchPackages() {
  const lock = JSON.parse(readFileSync(join(ROOT, "bench", "package-lock.json"), "utf8"));
  const wanted = Object.keys(lock.packages[""].dependencies ?? {});
  return wanted.filter((name) => {
    const file = join(ROOT, "bench", "node_modules", name, "package.json");
    const want = lock.packages[`node_modules/${name}`]?.version;
    return !existsSync(file) || JSON.parse(readFileSync(file, "utf8")).version !== want;
  });
}

/** dist/bench/node_modules -> bench/node_modules (a relative link), made or fixed. */
function linkCompiledBench() {
  const link = join(ROOT, "dist", "bench", "node_modules");
  const target = join("..", "..", "bench", "node_modules");
  mkdirSync(join(ROOT, "dist", "bench"), { recursive: true });
  let current;
  try {
    current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : "not a link";
  } catch {}
  if (current === target) return;
  if (current !== undefined) rmSync(link, { recursive: true, force: true });
  symlinkSync(target, link, "dir");
}

function provideBench() {
  const stale = staleBenchPackages();
  if (stale.length && !NO_INSTALL) {
    say(
      `installing the comparison suite's packages into bench/node_modules (npm ci --prefix bench: ${stale.join(", ")})...`,
    );
    const started = Date.now();
    const r = spawnSync("npm", ["ci", "--prefix", join(ROOT, "bench"), "--no-audit", "--no-fund"], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (r.status === 0) say(`installed bench/node_modules in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    else say(`npm ci --prefix bench failed (${r.error?.message ?? `exit ${r.status}`})`);
  }
  const still = staleBenchPackages();
  if (still.length)
    say(
      `MISSING bench packages ${still.join(", ")}${NO_INSTALL ? " (INCEPTION_WASM_NO_INSTALL=1)" : ""}: install them with ` +
        "`npm ci --prefix bench`. The comparison suite reports those engines as not installed, and its test fails.",
    );
  else {
    linkCompiledBench();
    say("bench: bench/node_modules (linked from dist/bench/node_modules)");
  }
}

const NAMES = ["chromium", "onnx-testdata", "bench"];
const asked = process.argv.slice(2);
for (const name of asked)
  if (!NAMES.includes(name)) throw new Error(`provision: expected one of ${NAMES.join(", ")}, found "${name}"`);
const names = asked.length ? asked : NAMES;
const system = names.filter((n) => n in SYSTEM);
if (system.length) provideSystem(system);
if (names.includes("bench")) provideBench();
