// The README's Layout table holds: its rows are the folders there are (every folder of src/ with
// files is a row), every import of every TypeScript file of src/, bench/ and test/ goes from a
// row to a row its `imports` column names (or within the row), the rows' imports have no cycle,
// no two files import each other even through others, and no module outside src/node/,
// src/cli/, bench/ and test/ imports a `node:` module. The wasm sizes the README quotes are the
// builds' (build/*.wasm), so none of it can drift.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { importsOf } from "./support/imports.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** A row of the Layout table: its path (a folder ending in "/", `src/host/*.ts`, or a file) and what it may import. */
interface Row {
  path: string;
  imports: string[];
}

/** The Layout table's rows, from the README's "## Layout" section. */
function layoutRows(): Row[] {
  const section = README.split(/^## Layout$/m)[1]?.split(/^## /m)[0];
  assert.ok(section, "the README has a Layout section");
  const rows = section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const cells = line.split(" | ");
      const path = /^\| `([^`]+)`/.exec(line)![1];
      const imports = [...cells[cells.length - 1].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      return { path, imports };
    });
  assert.ok(rows.length >= 10, `the Layout table has its rows (found ${rows.length})`);
  return rows;
}

const ROWS = layoutRows();

/** Whether `unit` (a row path) is what the `allowed` entry names: itself, or any row under a folder entry. */
function allows(allowed: string, unit: string): boolean {
  return allowed === unit || (allowed.endsWith("/") && unit.startsWith(allowed));
}

/** The row a file (path relative to the root, "/" separators) belongs to: the most specific row that holds it. */
function rowOf(file: string): string | undefined {
  let best: string | undefined;
  for (const { path } of ROWS) {
    const holds = path.endsWith("/*.ts")
      ? dirname(file) === path.slice(0, -5) && file.endsWith(".ts")
      : path.endsWith("/")
        ? file.startsWith(path)
        : file === path;
    if (holds && (best === undefined || path.length > best.length)) best = path;
  }
  return best;
}

/** Every .ts file under a folder of the root, relative to the root. */
function tsFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = `${dir}/${name}`;
      if (name === "node_modules") continue; // bench/node_modules: the comparison suite's packages
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(path);
    }
  };
  walk(folder);
  return out;
}

const FILES = ["src", "bench", "test"].flatMap(tsFiles);

/** Each file's relative imports, resolved to files relative to the root, and its `node:` imports. */
const GRAPH = new Map(
  FILES.map((file) => {
    const refs = importsOf(readFileSync(join(ROOT, file), "utf8"));
    const local = refs
      .filter((r) => r.specifier.startsWith("."))
      .map((r) => ({ ...r, target: normalize(join(dirname(file), r.specifier)).replace(/\.js$/, ".ts") }));
    return [file, { local, node: refs.filter((r) => r.specifier.startsWith("node:")) }];
  }),
);

test("the import reader finds the imports it must and none inside strings, templates or comments", () => {
  const refs = importsOf(
    [
      'import { a } from "./a.js";',
      "import type {",
      "  B,",
      '} from "../b.js";',
      'import "./side.js";',
      'export { c } from "./c.js";',
      'const d = await import("./d.js");',
      '// import { no } from "./comment.js";',
      '/* export * from "./block.js"; */',
      'const s = `import { no } from "./template.js";`;',
      "const q = 'import \"./string.js\"';",
      'const r = /["\']from "x"/;',
      'export class E { f = Array.from("xyz"); }',
    ].join("\n"),
  );
  assert.equal(
    refs.map((r) => `${r.line} ${r.specifier}`),
    ["1 ./a.js", "4 ../b.js", "5 ./side.js", "6 ./c.js", "7 ./d.js"],
  );
});

test("the Layout table's rows are the folders: every src folder with files is a row, every row exists", () => {
  for (const { path } of ROWS) {
    const on = path.endsWith("/*.ts") ? path.slice(0, -5) : path;
    assert.ok(existsSync(join(ROOT, on)), `the row ${path} names something that exists`);
  }
  const folders = new Set(FILES.filter((f) => f.startsWith("src/")).map((f) => `${dirname(f)}/`));
  folders.delete("src/"); // its files, the entries, are rows of their own
  for (const folder of folders) {
    assert.ok(
      ROWS.some((r) => r.path === folder || r.path === `${folder}*.ts`),
      `the Layout table has a row for ${folder}`,
    );
  }
  for (const file of FILES.filter((f) => dirname(f) === "src")) {
    assert.ok(
      ROWS.some((r) => r.path === file),
      `the Layout table has a row for the entry ${file}`,
    );
  }
  for (const { path } of ROWS.filter((r) => r.path.startsWith("src/") && r.path.endsWith("/"))) {
    assert.ok(folders.has(path), `the row ${path} holds TypeScript files`);
  }
  for (const file of FILES) assert.ok(rowOf(file), `${file} belongs to a row of the Layout table`);
});

test("every import goes from a row to one its imports column names; the rows' imports have no cycle", () => {
  const names = new Set(ROWS.map((r) => r.path));
  for (const row of ROWS) {
    for (const allowed of row.imports) {
      assert.ok(
        names.has(allowed) || ROWS.some((r) => allows(allowed, r.path)),
        `${row.path}: the imports column names ${allowed}, which is no row`,
      );
    }
  }
  const bad: string[] = [];
  for (const [file, { local }] of GRAPH) {
    const from = rowOf(file)!;
    const row = ROWS.find((r) => r.path === from)!;
    for (const { target, line, specifier } of local) {
      const to = rowOf(target);
      if (to === undefined) bad.push(`${file}:${line} imports ${specifier}, outside every row`);
      else if (to !== from && !row.imports.some((a) => allows(a, to))) {
        bad.push(`${file}:${line} (${from}) imports ${target} (${to}), which its row does not name`);
      }
    }
  }
  assert.equal(bad, [], bad.join("\n"));
  // The table's own direction: a row never allows, through others, a row that allows it back.
  const reach = (from: string, seen = new Set<string>()): Set<string> => {
    for (const allowed of ROWS.find((r) => r.path === from)!.imports) {
      for (const r of ROWS.filter((r) => allows(allowed, r.path) && r.path !== from && !seen.has(r.path))) {
        seen.add(r.path);
        reach(r.path, seen);
      }
    }
    return seen;
  };
  for (const { path } of ROWS)
    assert.not.ok(reach(path).has(path), `the Layout table lets ${path} import itself through others`);
});

test("no import cycle among files (type-only imports included)", () => {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]): void => {
    state.set(file, "open");
    for (const { target } of GRAPH.get(file)?.local ?? []) {
      if (state.get(target) === "open") cycles.push([...path.slice(path.indexOf(target)), target].join(" -> "));
      else if (!state.has(target) && GRAPH.has(target)) visit(target, [...path, target]);
    }
    state.set(file, "done");
  };
  for (const file of GRAPH.keys()) if (!state.has(file)) visit(file, [file]);
  assert.equal(cycles, [], cycles.join("\n"));
});

test("no `node:` module outside src/node/, src/cli/, bench/ and test/", () => {
  const bad = [...GRAPH]
    .filter(([file]) => file.startsWith("src/") && !/^src\/(node|cli)\//.test(file))
    .flatMap(([file, { node }]) => node.map((r) => `${file}:${r.line} imports ${r.specifier}`));
  assert.equal(bad, [], bad.join("\n"));
});

test("the wasm sizes the README quotes are the builds' (build/*.wasm, KB = 1000 bytes)", () => {
  const sizes = ["kernels.wasm", "kernels-relaxed.wasm"].map((f) => statSync(join(ROOT, "build", f)).size);
  const quoted = (pattern: RegExp): number => {
    const m = pattern.exec(README);
    assert.ok(m, `the README quotes ${pattern}`);
    return Number(m[1]);
  };
  // "N KB" or "N-M KB" (the two builds round to different figures): each build's size within it.
  const quotedRange = (pattern: RegExp): [number, number] => {
    const m = pattern.exec(README);
    assert.ok(m, `the README quotes ${pattern}`);
    return [Number(m[1]), Number(m[2] ?? m[1])];
  };
  const each = [
    quotedRange(/compiled to\s+(\d+)(?:-(\d+))? KB of wasm/),
    quotedRange(/prints the sizes \(about\s+(\d+)(?:-(\d+))? KB each/),
  ];
  for (const [lo, hi] of each) {
    for (const bytes of sizes) {
      const kb = Math.round(bytes / 1000);
      assert.ok(kb >= lo && kb <= hi, `${bytes} bytes is about ${kb} KB, the README quotes ${lo}-${hi} KB`);
    }
  }
  const base64 = sizes.reduce((sum, bytes) => sum + 4 * Math.ceil(bytes / 3), 0);
  assert.is(
    quoted(/embeds both builds \(base64, about\s+(\d+) KB\)/),
    Math.round(base64 / 1000),
    `${base64} characters of base64`,
  );
  console.log(`  builds ${sizes.join(" and ")} bytes; base64 of both ${base64} characters`);
});

test("one file-name case: every source file's name is camelCase (no '-' or '_'), as the README says", () => {
  const sources = ["src", "bench", "test", "assembly", "scripts", "examples/web/src"].flatMap((folder) => {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(join(ROOT, dir))) {
        const path = `${dir}/${name}`;
        if (name === "node_modules" || name === "results") continue;
        if (statSync(join(ROOT, path)).isDirectory()) walk(path);
        else if (/\.(ts|mjs|js)$/.test(name)) out.push(path);
      }
    };
    walk(folder);
    return out;
  });
  assert.ok(sources.length > 100, `${sources.length} source files found`);
  const bad = sources.filter((path) => /[-_]/.test(path.split("/").at(-1)!.split(".")[0]));
  assert.equal(bad, []);
});

test.run();
