// `inception-wasm verify`: runs the golden set (src/model/network/golden.ts) with the baseline
// build on this machine and runtime and says whether it reproduces the reference bits, input by
// input. The outputs depend on the weights, so it first hashes the loaded weights and compares
// them with the BVLC reference weights' hash. The auto build runs too, for information only:
// the relaxed build's fused multiply-add may round differently on other CPUs and engines.

import { cpus } from "node:os";
import { runtimeLabel } from "../host/runtimeName.js";
import { expectedWeights } from "../host/ir/tensors.js";
import type { BuildName } from "../host/wasm/kernels.js";
import { GoogLeNet, topClasses, type LoadOptions } from "../node/index.js";
import { CLASSES, googlenetGraph } from "../model/network/googlenet.js";
import { GOLDEN, floatsSha256, goldenInput, weightsSha256, type GoldenOutput } from "../model/network/golden.js";
import { loadWeights } from "../node/weights.js";

/** The reference to verify against: GOLDEN, or (tests) a variant of it. */
export type Golden = Pick<typeof GOLDEN, "inputSize" | "weightsSha256" | "inputs" | "baseline">;

export interface VerifyOptions {
  /** MAT folder or .iwnet file (default: the configured data folder, see node/weights.ts). */
  weights?: string;
  /** Threads (default: the available cores); the outputs are the same bits at any count. */
  threads?: number;
  golden?: Golden;
}

/** One golden input's outputs under one build. */
export interface ComputedOutput {
  name: string;
  logitsSha256: string;
  probabilitiesSha256: string;
  top1: number;
}

export interface VerifyReport {
  runtime: string;
  cpu: string;
  threads: number;
  weights: { from: string; sha256: string; expectedSha256: string; reference: boolean };
  /** The baseline build's outputs, each with the reference and whether both hashes reproduce it. */
  baseline: (ComputedOutput & { expected: GoldenOutput; reproduced: boolean })[];
  /** The auto build (information only): which build, why, and its outputs. */
  auto: {
    build: BuildName | "reference";
    reason: string;
    outputs: (ComputedOutput & { sameBitsAsBaseline: boolean })[];
  };
  /** True when the weights are the reference weights and every input reproduces. */
  pass: boolean;
  verdict: string;
}

const PLACEHOLDER_LABELS = Array.from({ length: CLASSES }, (_, i) => `class ${i}`);

/** Loads the network with `build` and runs every golden input through it. */
async function runGolden(
  golden: Golden,
  load: LoadOptions,
  build: "baseline" | "auto",
): Promise<{ net: GoogLeNet; outputs: ComputedOutput[] }> {
  const net = await GoogLeNet.load({ ...load, build });
  try {
    const outputs: ComputedOutput[] = [];
    for (const input of golden.inputs) {
      const { logits, probabilities } = await net.run(goldenInput(input, golden.inputSize));
      outputs.push({
        name: input.name,
        logitsSha256: await floatsSha256(logits),
        probabilitiesSha256: await floatsSha256(probabilities),
        top1: topClasses(probabilities, 1, net.labels)[0].index,
      });
    }
    return { net, outputs };
  } finally {
    await net.dispose();
  }
}

/**
 * Runs the golden set with the baseline build, then with the auto build. Throws (WeightsError,
 * WasmLoadError, ...) only when the network cannot run at all; a mismatch is a report with
 * pass = false.
 */
export async function verify(options: VerifyOptions = {}): Promise<VerifyReport> {
  const golden = options.golden ?? GOLDEN;
  const expected = expectedWeights(googlenetGraph(), golden.inputSize, golden.inputSize);
  const loaded = await loadWeights({ source: options.weights, expected });
  const sha = await weightsSha256(loaded.tensors, expected);
  const load: LoadOptions = {
    weights: loaded.tensors,
    labels: PLACEHOLDER_LABELS,
    inputSize: golden.inputSize,
    threads: options.threads,
  };
  const base = await runGolden(golden, load, "baseline");
  const auto = await runGolden(golden, load, "auto");
  const baseline = base.outputs.map((o, i) => {
    const want = golden.baseline[i];
    const reproduced = o.logitsSha256 === want.logitsSha256 && o.probabilitiesSha256 === want.probabilitiesSha256;
    return { ...o, expected: want, reproduced };
  });
  const reference = sha === golden.weightsSha256;
  const failed = baseline.filter((o) => !o.reproduced).map((o) => o.name);
  const runtime = runtimeLabel();
  let verdict: string;
  if (!reference) {
    verdict =
      "FAIL: these are not the BVLC reference weights, " + "so the outputs cannot be compared with the reference bits";
  } else if (failed.length > 0) {
    verdict =
      "FAIL: the baseline build does not reproduce the reference bits for " +
      `${failed.length} of ${baseline.length} inputs (${failed.join(", ")}) on ${runtime}; please report this output`;
  } else {
    verdict = `PASS: the baseline build reproduces the reference bits for all ${baseline.length} inputs on ${runtime}`;
  }
  return {
    runtime,
    cpu: cpus()[0]?.model ?? "unknown CPU",
    threads: base.net.threads,
    weights: { from: loaded.from, sha256: sha, expectedSha256: golden.weightsSha256, reference },
    baseline,
    auto: {
      build: auto.net.build,
      reason: auto.net.buildReason,
      outputs: auto.outputs.map((o, i) => ({
        ...o,
        sameBitsAsBaseline:
          o.logitsSha256 === base.outputs[i].logitsSha256 &&
          o.probabilitiesSha256 === base.outputs[i].probabilitiesSha256,
      })),
    },
    pass: reference && failed.length === 0,
    verdict,
  };
}

/** The report as text: weights, one line per input and build, then the verdict as the last line. */
export function formatVerify(r: VerifyReport): string {
  /** The first 16 hex digits of both hashes, and the top-1 class. */
  const bits = (o: GoldenOutput | ComputedOutput): string =>
    `${o.logitsSha256.slice(0, 16)} ${o.probabilitiesSha256.slice(0, 16)} top-1 ${String(o.top1).padStart(3)}`;
  const weights = r.weights.reference
    ? "the BVLC reference weights"
    : `NOT the BVLC reference weights (${r.weights.expectedSha256})`;
  const lines = [
    `inception-wasm verify: ${r.runtime}, ${r.cpu}, ${r.threads} thread(s)`,
    `weights ${r.weights.from}`,
    `  sha256 ${r.weights.sha256}: ${weights}`,
    "baseline build (mul then add: the same bits on every machine), SHA-256 of the logits and probabilities:",
  ];
  for (const o of r.baseline) {
    const state = o.reproduced ? "reproduced" : `MISMATCH, expected ${bits(o.expected)}`;
    lines.push(`  ${o.name.padEnd(12)} ${bits(o)}  ${state}`);
  }
  lines.push(`auto build: ${r.auto.build} (${r.auto.reason}); for information, not compared with the reference:`);
  for (const o of r.auto.outputs) {
    const same = o.sameBitsAsBaseline
      ? "same bits as the baseline"
      : "other bits than the baseline (fused multiply-add)";
    lines.push(`  ${o.name.padEnd(12)} ${bits(o)}  ${same}`);
  }
  lines.push(r.verdict);
  return lines.join("\n");
}
