// `npm run bench:table [-- FILE] [--check]`: writes the README's benchmark table from a suite report
// (bench/results/*.json written by `npm run bench`), between the README's markers
// `<!-- bench:table FILE -->` and `<!-- /bench:table -->`. FILE defaults to the newest full (not
// --quick) report in bench/results. --check writes nothing and exits 1 when the README's table is
// not what its marker's FILE gives (test/benchSuite.test.ts runs it).

import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../src/node/weights.js";
import type { SuiteReport } from "./report.js";
import { asSchema2, readmeTable } from "./table.js";

const ROOT = projectRoot();
const README = join(ROOT, "README.md");
const RESULTS = join(ROOT, "bench", "results");
const BEGIN = /<!-- bench:table (\S+) -->\n[\s\S]*?<!-- \/bench:table -->/;

/**
 * A suite report (schema 1 or 2, with its results) from its JSON file, or undefined for other JSON
 * (kernels, runtimes, profiles: `kind` "profiles" has a schema of its own, core sharing).
 */
async function readReport(file: string): Promise<SuiteReport | undefined> {
  const json = JSON.parse(await readFile(resolve(ROOT, file), "utf8")) as {
    schema?: number;
    kind?: string;
    results?: unknown;
  };
  const suite = (json.schema === 1 || json.schema === 2) && json.kind === undefined && Array.isArray(json.results);
  return suite ? asSchema2(json as Parameters<typeof asSchema2>[0]) : undefined;
}

/** The newest full report in bench/results, by its date. */
async function newestReport(): Promise<string> {
  const files = (await readdir(RESULTS))
    .filter((f) => f.endsWith(".json"))
    .map((f) => relative(ROOT, join(RESULTS, f)));
  let best: { file: string; date: string } | undefined;
  for (const file of files) {
    const r = await readReport(file);
    if (r && !r.quick && (!best || r.date > best.date)) best = { file, date: r.date };
  }
  if (!best) throw new Error(`bench:table: no full suite report in ${RESULTS}; run npm run bench`);
  return best.file;
}

const { values, positionals } = parseArgs({
  options: { check: { type: "boolean", default: false } },
  allowPositionals: true,
});
const readme = await readFile(README, "utf8");
const marked = BEGIN.exec(readme);
if (!marked)
  throw new Error(`bench:table: ${README} has no <!-- bench:table FILE --> ... <!-- /bench:table --> section`);
const file = values.check
  ? marked[1]
  : positionals[0]
    ? relative(ROOT, resolve(process.cwd(), positionals[0]))
    : await newestReport();
const report = await readReport(file);
if (!report) throw new Error(`bench:table: ${file} is not a suite report (schema 1 or 2)`);
const section = `<!-- bench:table ${file} -->\n${readmeTable(report, file)}\n<!-- /bench:table -->`;
if (values.check) {
  const same = marked[0] === section;
  console.log(
    same ? `README's table is ${file}'s` : `README's table differs from ${file}'s: run npm run bench:table -- ${file}`,
  );
  process.exitCode = same ? 0 : 1;
} else {
  await writeFile(
    README,
    readme.replace(BEGIN, () => section),
  );
  console.log(`README: table from ${file}\n\n${section}`);
}
