// The one formatter (Biome, biome.json: 2-space indent, 120 columns): the tree must be formatted.
// `npm run format` rewrites it.

import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("biome format: every source file is formatted", async () => {
  const biome = join(root, "node_modules", "@biomejs", "biome", "bin", "biome");
  const r = await promisify(execFile)(biome, ["format", "--colors=off", "."], { cwd: root, maxBuffer: 1 << 24 })
    .then(() => ({ ok: true, out: "" }))
    .catch((e: { stdout: string; stderr: string }) => ({ ok: false, out: `${e.stdout}\n${e.stderr}` }));
  assert.ok(r.ok, `unformatted files (run \`npm run format\`):\n${r.out.slice(0, 4000)}`);
});

test.run();
