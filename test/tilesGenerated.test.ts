// assembly/tiles.ts is checked in and must be what scripts/genTiles.mjs writes: the generator's
// --check mode (also run by `npm run build:wasm`, so CI's install fails on drift) exits 0.

import { spawnSync } from "node:child_process";
import { test } from "uvu";
import * as assert from "uvu/assert";

test("assembly/tiles.ts is scripts/genTiles.mjs's output", () => {
  const run = spawnSync(process.execPath, ["scripts/genTiles.mjs", "--check"], { encoding: "utf8" });
  assert.is(run.status, 0, `${run.stdout}${run.stderr}`);
  assert.match(run.stdout, /is the generator's output/);
});

test.run();
