// The browser-safe entry (src/index.ts) must reach no `node:` module on any import path a bundler
// follows (static imports, re-exports and dynamic imports with a literal specifier).

import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";

const dist = fileURLToPath(new URL("../src/", import.meta.url));
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;

/** Every module reachable from `entry` (relative imports followed), with the bare specifiers each imports. */
function reachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    const bare: string[] = [];
    seen.set(file, bare);
    for (const [, spec] of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
      if (spec.startsWith(".")) visit(join(dirname(file), spec));
      else bare.push(spec);
    }
  };
  visit(entry);
  return seen;
}

test("src/index.ts reaches no node: module", () => {
  const modules = reachable(join(dist, "index.js"));
  const offenders = [...modules].flatMap(([file, bare]) =>
    bare.filter((s) => s.startsWith("node:")).map((s) => `${relative(dist, file)} imports ${s}`),
  );
  assert.equal(offenders, []);
  assert.ok(modules.size > 20, `followed ${modules.size} modules`);
});

test("the check can fail: the Node entry does reach node: modules", () => {
  const modules = reachable(join(dist, "node", "index.js"));
  assert.ok([...modules.values()].some((bare) => bare.some((s) => s.startsWith("node:"))));
});

test.run();
