// The package as a web or Workers developer installs it: packed (npm pack), installed into an empty
// app folder with production dependencies only. Bundlers and workerd then run from this project's
// devDependencies with the app folder as their root, so "inception-wasm" resolves to the installed copy.

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** An app folder with the packed package installed; remove() deletes it. */
export interface App {
  dir: string;
  remove(): Promise<void>;
}

/** Packs the checkout (already built) and installs the tarball into a fresh app folder. */
export async function installPackedApp(prefix: string): Promise<App> {
  const tmp = await mkdtemp(join(tmpdir(), `inception-wasm-${prefix}-`));
  const dir = join(tmp, "app");
  const { stdout } = await run("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", tmp], {
    cwd: ROOT,
  });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  await run(
    "npm",
    [
      "install",
      "--omit=dev",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      join(tmp, stdout.trim().split("\n").pop()!),
    ],
    { cwd: dir, maxBuffer: 1 << 24 },
  );
  return { dir, remove: () => rm(tmp, { recursive: true, force: true }) };
}
