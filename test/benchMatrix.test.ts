// The comparison suite's runtime matrix: `bench --quick --json` over every runtime but the host
// Node (the pinned Nodes, Deno, Bun, Chromium) with inception-wasm (strict) and onnxruntime-node at
// 1 thread; each configuration is measured or reported with its reason (checks in
// test/benchSuite.ts), onnxruntime-node in Chromium as a native addon.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { runtimeIds } from "../bench/suite.js";
import { quickSuite } from "./benchSuite.js";

test("bench --quick over the other runtimes: each measured or reported", async () => {
  const report = await quickSuite(runtimeIds().slice(1), ["ort-node"], [1], [1], ["strict"]);
  const chromium = report.unavailable.find((u) => u.runtime === "chromium" && u.engine === "ort-node");
  assert.ok(chromium, "onnxruntime-node is reported as not run in Chromium");
  assert.match(chromium.reason, /native/);
});

test.run();
