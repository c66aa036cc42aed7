// Where the weights are when the caller does not say, for server runtimes (Node, Deno, Bun).
// In order:
//   1. the `weights` option / --weights (a weight file or a MAT folder), used as given;
//   2. $INCEPTION_WASM_WEIGHTS, or its older name $INCEPTION_WASM_DATA (must exist when set);
//   3. the user cache (userCache.ts): the newest complete entry of `inception-wasm weights fetch`;
//   4. ../shared/googlenet beside the package root, only when that root is a git checkout
//      (the developers' data folder; never for a package installed under node_modules).

import { existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { WeightsError } from "../host/errors.js";
import { newestUsableEntry, userCacheDir } from "./userCache.js";

/** The command that puts weights where the lookup finds them. */
export const FETCH_COMMAND = "npx inception-wasm weights fetch";

/** Where the weights were found. */
export interface WeightsLocation {
  /** A weight file or a MAT folder. */
  path: string;
  /** "option", "INCEPTION_WASM_WEIGHTS", "INCEPTION_WASM_DATA", "cache" or "checkout". */
  place: string;
}

export interface LookupOptions {
  /** The `weights` option / --weights. */
  option?: string;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The user cache folder (default userCacheDir(env)). */
  cacheDir?: string;
  /** The package root (projectRoot() in weights.ts): step 4 applies when it holds .git. */
  root: string;
}

/**
 * Finds the weights (order in the header). An option is returned as given (loading it names
 * it when it is missing). Throws WeightsError when an environment variable names a path that
 * does not exist, or when no place has weights: the message then lists every place with why it
 * did not qualify, and FETCH_COMMAND.
 */
export async function locateWeights(options: LookupOptions): Promise<WeightsLocation> {
  const env = options.env ?? process.env;
  const tried: string[] = [];
  if (options.option !== undefined) return { path: resolve(options.option), place: "option" };
  tried.push("the weights option / --weights: not given");

  for (const variable of ["INCEPTION_WASM_WEIGHTS", "INCEPTION_WASM_DATA"]) {
    const value = env[variable];
    if (!value) continue;
    const path = resolve(value);
    if (!existsSync(path)) {
      throw new WeightsError(
        path,
        undefined,
        `$${variable} names this path, which does not exist: expected a ` +
          `weight file or a MAT folder. Correct or unset $${variable} (then the user cache is used; fill it with ` +
          `\`${FETCH_COMMAND}\`).`,
      );
    }
    return { path, place: variable };
  }
  tried.push("$INCEPTION_WASM_WEIGHTS (or its older name $INCEPTION_WASM_DATA): not set");

  const cacheDir = options.cacheDir ?? userCacheDir(env);
  const cached = await newestUsableEntry(cacheDir);
  if ("file" in cached) return { path: cached.file, place: "cache" };
  tried.push(`the user cache ${cacheDir}: ${cached.why}`);

  const checkout = resolve(options.root, "..", "shared", "googlenet");
  const why = await checkoutProblem(options.root, checkout);
  if (why === undefined) return { path: checkout, place: "checkout" };
  tried.push(`a repository checkout's ../shared/googlenet (${checkout}): ${why}`);

  throw new WeightsError(
    "GoogLeNet weights",
    undefined,
    `none found. Looked in, in order:\n` +
      `${tried.map((t, i) => `  ${i + 1}. ${t}`).join("\n")}\n` +
      `Fix: run \`${FETCH_COMMAND}\` (downloads the BVLC weights once into the user cache).`,
  );
}

/** Why `dataDir` is not the developers' data folder of a checkout at `root`, or undefined when it is. */
async function checkoutProblem(root: string, dataDir: string): Promise<string | undefined> {
  if (!existsSync(join(root, ".git"))) return `not used: the package root ${root} is not a git checkout (no .git)`;
  if (!(await stat(dataDir).catch(() => undefined))?.isDirectory()) return "no such folder";
  const params = join(dataDir, "bvlc-params");
  const dir = (await stat(params).catch(() => undefined))?.isDirectory() ? params : dataDir;
  const mats = (await readdir(dir)).filter((n) => /_w\.mat$/.test(n));
  return mats.length > 0 ? undefined : `no per-layer MAT weights (<layer>_w.mat) in ${dir}`;
}
