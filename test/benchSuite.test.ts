// The comparison suite as CI runs it on the host Node: `bench --quick --json` with every engine,
// both precisions, 1 and 2 threads, batch 1 and 8 (checks in test/benchSuite.ts); and the
// README's benchmark table is the one `npm run bench:table` writes from its JSON.
// test/benchMatrix.test.ts runs the other runtimes.

import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PRECISIONS } from "../bench/childCore.js";
import { runtimeIds } from "../bench/suite.js";
import { BENCH, quickSuite, run } from "./benchSuite.js";

test("bench --quick --json on the host Node: every engine, both precisions, 1 and 2 threads", async () => {
  const host = runtimeIds()[0];
  const report = await quickSuite(
    [host],
    ["ort-web", "tfjs-wasm", "ort-node", "litert"],
    [1, 2],
    [1, 8],
    [...PRECISIONS],
  );
  assert.is(report.runtimes[0].version, process.versions.node, "the children run this Node");
});

test("the README's benchmark table is what bench:table writes from its JSON", async () => {
  const { stdout } = await run(process.execPath, [join(BENCH, "benchTable.js"), "--check"]).catch(
    (e: { stdout: string }) => ({ stdout: e.stdout }),
  );
  assert.match(stdout, /^README's table is /, stdout);
});

test.run();
