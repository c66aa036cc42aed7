// Type-checks and compiles the TypeScript (src, test, bench) with tsconfig.json, or, while the
// comparison suite's packages are not installed (no bench/node_modules: scripts/provision.mjs
// bench installs it), with tsconfig.no-bench.json, which types them as `any`.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const config = existsSync(join(root, "bench", "node_modules")) ? "tsconfig.json" : "tsconfig.no-bench.json";
if (config !== "tsconfig.json") console.error("tsc: bench/node_modules is not installed: its packages are typed `any`");
const r = spawnSync(join(root, "node_modules", ".bin", "tsc"), ["-p", join(root, config)], { stdio: "inherit" });
process.exitCode = r.status ?? 1;
