// Seeded fuzzing in the suite (test/support/fuzz.ts, fuzzRunner.ts): a few hundred mutated files per
// format: PNG, JPEG, MAT, IWPACK (1 MiB payload) and the full-size weight files (IWNET, caffemodel,
// ONNX: 28-54 MB each, about 0.1-0.2 s a case) within the suite's time budget. Fails on any crash, hang, untyped
// error or wrong success; `npm run fuzz -- --cases N --seed S` runs as many as wanted.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { FAILURES } from "./support/fuzz.js";
import { formatReport, runFuzz } from "./support/fuzzRunner.js";
import { announceSeed } from "./support/rng.js";

const seed = announceSeed("fuzz");

for (const [formats, cases] of [
  [["png", "jpeg", "mat", "iwpack"], 300],
  [["iwnet", "caffemodel", "onnx"], 200],
] as const) {
  test(`fuzz ${formats.join(", ")}: ${cases} cases each, no crash, hang, untyped error or wrong success`, async () => {
    const report = await runFuzz({ formats, cases, seed, timeoutMs: 10_000, heapMb: 1024, parallel: 2 });
    console.log(formatReport(report, formats));
    for (const f of formats) {
      const t = report.table.get(f)!;
      assert.is(
        FAILURES.reduce((n, o) => n + t[o], 0),
        0,
        `${f}: ${JSON.stringify(t)}`,
      );
      assert.ok(t.typed > 0, `${f}: some mutations are rejected`);
    }
  });
}

test.run();
