// `inception-wasm verify`: passes with the reference weights, and fails (exit 1) when it must:
// weights that differ by one bit in one value, or outputs that differ from the reference.

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { verify } from "../src/cli/verify.js";
import { expectedWeights } from "../src/host/ir/tensors.js";
import { encodeWeightFile } from "../src/model/formats/iwnet.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { GOLDEN } from "../src/model/network/golden.js";
import { loadWeights } from "../src/node/weights.js";

const cli = join(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "cli", "main.js");
const run = promisify(execFile);

/** Runs the CLI; resolves with its exit code and output whether it succeeds or not. */
async function verifyCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [cli, "verify", ...args])
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({ ...e }));
}

test("verify with the reference weights: every input reproduced, PASS, exit 0", async () => {
  const r = await verifyCli(["--threads", "1"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, `sha256 ${GOLDEN.weightsSha256}: the BVLC reference weights`);
  for (const input of GOLDEN.inputs) {
    assert.match(r.stdout, new RegExp(`\\n  ${input.name} +[0-9a-f]{16} [0-9a-f]{16} top-1 +\\d+  reproduced\\n`));
  }
  const verdict = r.stdout.trim().split("\n").at(-1)!;
  assert.match(verdict, /^PASS: the baseline build reproduces the reference bits for all 3 inputs on node /);
});

test("verify with one weight one ulp off: says the weights differ, every input mismatches, FAIL, exit 1", async () => {
  const expected = expectedWeights(googlenetGraph(), GOLDEN.inputSize, GOLDEN.inputSize);
  const { tensors } = await loadWeights({ expected });
  const bias = tensors.get("loss3_classifier.bias")!;
  const bits = new Uint32Array(bias.data.buffer, bias.data.byteOffset, bias.data.length);
  bits[0] ^= 1; // the last mantissa bit of class 0's bias: changes logit 0 of every input
  const dir = await mkdtemp(join(tmpdir(), "inception-verify-"));
  try {
    const file = join(dir, "perturbed.iwnet");
    await writeFile(file, await encodeWeightFile(tensors));
    const r = await verifyCli(["--threads", "1", "--weights", file]);
    assert.is(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, `NOT the BVLC reference weights (${GOLDEN.weightsSha256})`);
    assert.is(r.stdout.match(/  MISMATCH, expected /g)?.length, GOLDEN.inputs.length, r.stdout);
    assert.match(r.stdout.trim().split("\n").at(-1)!, /^FAIL: these are not the BVLC reference weights/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("verify against a reference with one wrong output hash: that input mismatches, the rest reproduce", async () => {
  const baseline = GOLDEN.baseline.map((o, i) => (i === 1 ? { ...o, probabilitiesSha256: "0".repeat(64) } : o));
  const report = await verify({ threads: 2, golden: { ...GOLDEN, baseline } });
  assert.ok(report.weights.reference, "the reference weights");
  assert.equal(
    report.baseline.map((o) => o.reproduced),
    [true, false, true],
  );
  assert.not.ok(report.pass);
  assert.is(
    report.verdict,
    "FAIL: the baseline build does not reproduce the reference bits for 1 of 3 inputs " +
      `(${GOLDEN.inputs[1].name}) on ${report.runtime}; please report this output`,
  );
});

test.run();
