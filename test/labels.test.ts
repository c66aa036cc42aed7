import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ArgumentError } from "../src/host/errors.js";
import { ILSVRC2012_CLASSES } from "../src/model/network/classes.js";
import { LABEL_COUNT, parseLabels, shortLabel } from "../src/model/network/labels.js";
import { readLabelsFile } from "../src/node/labels.js";

const dataDir =
  process.env.INCEPTION_WASM_DATA ?? fileURLToPath(new URL("../../../shared/googlenet/", import.meta.url));
const labelsPath = join(dataDir, "labels.txt");
const realText = readFileSync(labelsPath, "utf8");

/** Asserts fn throws ArgumentError for the labels file `file` whose message matches pattern. */
function rejects(fn: () => unknown, file: string, pattern: RegExp): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof ArgumentError && e.op === "labels" && e.argument === file && pattern.test(e.message),
  );
}

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `class ${i}, alias ${i}`);

test("the real labels.txt has 1000 ILSVRC2012 classes in Caffe order", () => {
  const labels = parseLabels(realText, labelsPath);
  assert.is(LABEL_COUNT, 1000);
  assert.is(labels.length, 1000);
  assert.is(labels[0], "tench, Tinca tinca");
  assert.is(labels[281], "tabby, tabby cat");
  assert.is(labels[285], "Egyptian cat");
  assert.is(labels[967], "espresso");
  assert.is(shortLabel(labels[0]), "tench");
  assert.is(shortLabel(labels[281]), "tabby");
});

test("readLabelsFile (Node-only) reads and parses the file", async () => {
  assert.equal(await readLabelsFile(labelsPath), parseLabels(realText, labelsPath));
});

test("the class names shipped with the package are the data folder's labels.txt", () => {
  assert.equal([...ILSVRC2012_CLASSES], parseLabels(realText, labelsPath));
});

test("CRLF, a missing trailing newline and a BOM are tolerated", () => {
  const lines = names(1000);
  const expected = parseLabels(lines.join("\n") + "\n", "lf");
  assert.equal(expected, lines);
  assert.equal(parseLabels(lines.join("\r\n") + "\r\n", "crlf"), lines);
  assert.equal(parseLabels(lines.join("\n"), "no-final-newline"), lines);
  assert.equal(parseLabels("\uFEFF" + lines.join("\n"), "bom"), lines);
});

test("wrong line counts are rejected with expected vs found", () => {
  rejects(
    () => parseLabels(names(999).join("\n") + "\n", "short.txt"),
    "short.txt",
    /expected 1000 class names, one per line, found 999 lines/,
  );
  rejects(() => parseLabels(names(1001).join("\n"), "long.txt"), "long.txt", /found 1001 lines/);
  rejects(() => parseLabels("", "empty.txt"), "empty.txt", /found 0 lines/);
  rejects(() => parseLabels(names(1000).join("\n") + "\n\n", "blank-end.txt"), "blank-end.txt", /found 1001 lines/);
});

test("empty or blank lines are rejected with their line number", () => {
  const lines = names(1000);
  lines[41] = "   ";
  rejects(() => parseLabels(lines.join("\n"), "blank.txt"), "blank.txt", /found an empty line 42/);
});

test("shortLabel is the name before the first comma", () => {
  assert.is(shortLabel("tabby, tabby cat"), "tabby");
  assert.is(shortLabel("toilet tissue, toilet paper, bathroom tissue"), "toilet tissue");
  assert.is(shortLabel("espresso"), "espresso");
});

test.run();
