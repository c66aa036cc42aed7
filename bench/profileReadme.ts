// `npm run bench:profile:table [-- FILE...] [--check]`: writes the README's profile tables
// (bench/profileSummary.ts) between each pair of markers `<!-- bench:profile FILE... -->` and
// `<!-- /bench:profile -->`, from the files its marker names; the first section takes FILE... (default:
// the newest combined JSON in bench/results), the others keep theirs. A FILE is the combined JSON of
// `npm run bench:profile` or a single bench/profile.ts report (several side by side, in the order
// given); a marker with no file holds a placeholder. --check writes nothing and exits 1 when a
// section is not what its marker's files give.

import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../src/node/weights.js";
import type { ProfileReport } from "./profileCore.js";
import { profileSection, type ProfileRuns, type SectionInput } from "./profileSummary.js";

const ROOT = projectRoot();
const README = join(ROOT, "README.md");
const RESULTS = join(ROOT, "bench", "results");
const SECTION = /<!-- bench:profile((?: \S+)*) -->\n[\s\S]*?<!-- \/bench:profile -->/g;
const EMPTY = "Not profiled yet: run `npm run bench:profile`, then `npm run bench:profile:table`.";

/** The section's input from its files: a combined JSON's runs, or each single report as a run. */
async function sectionInput(files: string[]): Promise<SectionInput> {
  const inputs: SectionInput[] = [];
  for (const file of files) {
    const json = JSON.parse(await readFile(resolve(ROOT, file), "utf8")) as ProfileRuns | ProfileReport;
    if ("kind" in json && json.kind === "profiles") inputs.push(json);
    else if ("rows" in json) {
      const r = json as ProfileReport;
      const command = `bench/profile.ts --rounds ${r.rounds} --threads ${r.threads} --clock ${r.clock}${r.precision === "fast" ? " --fast" : ""}`;
      inputs.push({
        cpu: r.cpu,
        date: r.date,
        command,
        runs: [{ runtime: r.runtime, precision: r.precision, report: r }],
        skipped: [],
      });
    } else
      throw new Error(`bench:profile:table: ${file} is neither a bench:profile combined JSON nor a profile report`);
  }
  const commands = [...new Set(inputs.map((i) => i.command))];
  return {
    cpu: [...new Set(inputs.map((i) => i.cpu))].join(", "),
    date: inputs.map((i) => i.date).sort()[0],
    command: commands.join("`; `"),
    runs: inputs.flatMap((i) => i.runs),
    skipped: inputs.flatMap((i) => i.skipped),
  };
}

/** The newest combined JSON in bench/results, by its date. */
async function newestRuns(): Promise<string> {
  let best: { file: string; date: string } | undefined;
  for (const name of (await readdir(RESULTS)).filter((f) => f.endsWith("-profiles.json"))) {
    const file = relative(ROOT, join(RESULTS, name));
    const { date } = JSON.parse(await readFile(join(ROOT, file), "utf8")) as ProfileRuns;
    if (!best || date > best.date) best = { file, date };
  }
  if (!best) throw new Error(`bench:profile:table: no *-profiles.json in ${RESULTS}; run npm run bench:profile`);
  return best.file;
}

/** A section with its marker, from `files` (none: a placeholder naming the commands). */
async function render(files: string[]): Promise<string> {
  const body = files.length > 0 ? profileSection(await sectionInput(files)) : EMPTY;
  return `<!-- bench:profile${files.map((f) => ` ${f}`).join("")} -->\n${body}\n<!-- /bench:profile -->`;
}

const { values, positionals } = parseArgs({
  options: { check: { type: "boolean", default: false } },
  allowPositionals: true,
});
const readme = await readFile(README, "utf8");
const sections = [...readme.matchAll(SECTION)];
if (sections.length === 0)
  throw new Error(
    `bench:profile:table: ${README} has no <!-- bench:profile FILE... --> ... <!-- /bench:profile --> section`,
  );
const given = values.check
  ? undefined
  : positionals.length > 0
    ? positionals.map((f) => relative(ROOT, resolve(process.cwd(), f)))
    : [await newestRuns()];
const rendered = await Promise.all(
  sections.map((m, i) => render(i === 0 && given ? given : m[1].trim().split(" ").filter(Boolean))),
);
if (values.check) {
  const stale = sections.filter((m, i) => m[0] !== rendered[i]).map((m) => m[1].trim() || "(no files)");
  console.log(
    stale.length === 0
      ? "README's profile tables are their files'"
      : `README's profile tables differ from their files' (${stale.join("; ")}): run npm run bench:profile:table`,
  );
  process.exitCode = stale.length === 0 ? 0 : 1;
} else {
  let i = 0;
  await writeFile(
    README,
    readme.replace(SECTION, () => rendered[i++]),
  );
  console.log(`README: profile tables from ${given!.join(" ")}\n\n${rendered[0]}`);
}
