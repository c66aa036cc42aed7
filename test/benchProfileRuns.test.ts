// `npm run bench:profile`'s runtime list (bench/profileTargets.ts): the suite's runtimes plus
// workerd, parsed in the order given; every (runtime, precision) runs as a process, in Chromium's
// page, or is skipped with its reason (workerd always; a missing binary or Chromium; Chromium with
// --kernels). The machine is faked, so the reasons are checked whatever is installed here.

import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  parseProfilePrecisions,
  parseProfileRuntimes,
  profileRuntimeIds,
  profileTargets,
  UNPROFILABLE,
  type TargetProbe,
} from "../bench/profileTargets.js";
import { runtimeIds } from "../bench/suite.js";

const HOST = `node${process.versions.node.split(".")[0]}`;

/** A machine with every runtime but Bun, and Chromium as `chromium` says. */
const machine = (chromium?: string): TargetProbe => ({
  command: (id) => (id === "bun" ? { error: "no working bun binary" } : { argv: [`/bin/${id}`, "--flag"] }),
  chromiumMissing: () => chromium,
});

test("the runtime ids: the suite's, host Node first, then workerd", () => {
  const ids = profileRuntimeIds();
  assert.equal(ids, [...runtimeIds(), "workerd"]);
  assert.is(ids[0], HOST);
  for (const id of ["node22", "node24", "node26", "deno", "bun", "chromium"]) assert.ok(ids.includes(id), id);
});

test("--runtimes keeps the order given, drops repeats, takes workerd and rejects unknown ids", () => {
  assert.equal(parseProfileRuntimes(`bun, workerd,${HOST},bun`), ["bun", "workerd", HOST]);
  assert.equal(parseProfileRuntimes("workerd"), ["workerd"]);
  assert.throws(() => parseProfileRuntimes("deno,safari"), /safari/);
  assert.equal(parseProfilePrecisions("fast,strict,fast"), ["fast", "strict"]);
  assert.throws(() => parseProfilePrecisions("strict,exact"), /exact/);
});

test("every runtime and precision, runtime by runtime: how each runs or why it cannot", () => {
  const targets = profileTargets([HOST, "bun", "chromium", "workerd"], ["strict", "fast"], machine());
  assert.equal(
    targets.map((t) => `${t.runtime} ${t.precision} ${t.how}`),
    [
      `${HOST} strict process`,
      `${HOST} fast process`,
      "bun strict skip",
      "bun fast skip",
      "chromium strict chromium",
      "chromium fast chromium",
      "workerd strict skip",
      "workerd fast skip",
    ],
  );
  const host = targets[0];
  assert.ok(host.how === "process" && host.argv.join(" ") === `/bin/${HOST} --flag`, "the runtime's command");
  const reason = (i: number) => (targets[i].how === "skip" ? (targets[i] as { reason: string }).reason : "");
  assert.is(reason(2), "no working bun binary");
  assert.is(reason(6), UNPROFILABLE.workerd);
  assert.match(reason(6), /clock stands still/);
});

test("Chromium is skipped without a browser, or with --kernels (its page embeds build/'s builds)", () => {
  const missing = profileTargets(["chromium"], ["strict"], machine("no Chromium at /usr/bin/chromium"));
  assert.equal(missing, [
    { runtime: "chromium", precision: "strict", how: "skip", reason: "no Chromium at /usr/bin/chromium" },
  ]);
  const [kernels] = profileTargets(["chromium", "deno"], ["fast"], machine(), { kernels: "/tmp/k" });
  assert.is(kernels.how, "skip");
  assert.match((kernels as { reason: string }).reason, /--kernels \/tmp\/k/);
  const [, deno] = profileTargets(["chromium", "deno"], ["fast"], machine(), { kernels: "/tmp/k" });
  assert.is(deno.how, "process", "the processes load the folder's builds");
});

test.run();
