// The kernel module's exported functions and their parameter names, read from the AssemblyScript
// sources with the AssemblyScript compiler's own parser (the package that compiles them): the
// entry file's `export function`s and `export { ... } from "./file"` / `export * from` lists,
// followed into the files they name. What the host declares (wasm/calls.ts, wasm/kernels.ts) is
// compared with it by name (signatureMismatches), so a swapped pair of arguments is caught; so are
// parameters passed on by name inside the sources (forwardingMismatches: gemmConv to gemmDriver).

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  CommonFlags,
  DiagnosticCategory,
  NodeKind,
  Parser,
  type CallExpression,
  type ExportStatement,
  type FunctionDeclaration,
  type IdentifierExpression,
  type Node,
  type Source,
} from "assemblyscript";

/** One exported function: its parameter names in order and where it is declared. */
export interface AssemblyExport {
  params: string[];
  /** "assembly/gemm.ts:135". */
  at: string;
}

/** The exports of the module whose entry is `entry` (default: the repository's assembly/index.ts). */
export function assemblyExports(entry = "assembly/index.ts"): Map<string, AssemblyExport> {
  const out = new Map<string, AssemblyExport>();
  collect(entry, null, out, new Set());
  return out;
}

/** Parses one source file (its own parser: the compiler's parser resolves nothing). */
function parse(path: string): Source {
  const parser = new Parser();
  parser.parseFile(readFileSync(path, "utf8"), path.replace(/\.ts$/, ""), true);
  const errors = parser.diagnostics.filter((d) => d.category === DiagnosticCategory.Error);
  if (errors.length > 0) throw new Error(`${path}: ${errors.map((d) => d.message).join("; ")}`);
  return parser.sources[0];
}

/** Line (1-based) of a statement in its source. */
function lineOf(source: Source, node: Node): number {
  return source.text.slice(0, node.range.start).split("\n").length;
}

/**
 * Adds the exports of `path` to `out`: every one, or (`only`: local name -> exported name) those
 * listed. Throws on an export form it does not read (so nothing is skipped unseen).
 */
function collect(path: string, only: Map<string, string> | null, out: Map<string, AssemblyExport>, seen: Set<string>) {
  const source = parse(path);
  const found = new Set<string>();
  for (const statement of source.statements) {
    if (statement.kind === NodeKind.FunctionDeclaration) {
      const fn = statement as FunctionDeclaration;
      if (!(fn.flags & CommonFlags.Export)) continue;
      const local = fn.name.text;
      const exported = only === null ? local : only.get(local);
      if (exported === undefined) continue;
      found.add(local);
      out.set(exported, {
        params: fn.signature.parameters.map((p) => p.name.text),
        at: `${path}:${lineOf(source, statement)}`,
      });
    } else if (statement.kind === NodeKind.Export && only === null) {
      const ex = statement as ExportStatement;
      if (ex.path === null)
        throw new Error(`${path}:${lineOf(source, statement)}: an export list without "from" is not read`);
      const target = join(dirname(path), `${ex.path.value}.ts`);
      const key = `${target} ${ex.members?.map((m) => m.localName.text).join(",") ?? "*"}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const members =
        ex.members === null ? null : new Map(ex.members.map((m) => [m.localName.text, m.exportedName.text]));
      collect(target, members, out, seen);
    } else if (statement.kind === NodeKind.ExportDefault || statement.kind === NodeKind.ExportImport) {
      throw new Error(`${path}:${lineOf(source, statement)}: this form of export is not read`);
    }
  }
  for (const local of only?.keys() ?? []) {
    if (!found.has(local)) throw new Error(`${path}: exports no function ${local} (re-exported by name)`);
  }
}

/**
 * Where the host's declarations (export name -> parameter names in order) disagree with the
 * sources: a missing export, a different count, or a name out of place. Empty when they agree.
 */
export function signatureMismatches(
  declared: Iterable<readonly [string, readonly string[]]>,
  exports: ReadonlyMap<string, AssemblyExport>,
): string[] {
  const problems: string[] = [];
  for (const [name, params] of declared) {
    const ex = exports.get(name);
    if (ex === undefined) {
      problems.push(`${name}: declared by the host, not exported by the kernel module`);
      continue;
    }
    const differ = params.length !== ex.params.length || params.some((p, i) => p !== ex.params[i]);
    if (differ) {
      const at = params.flatMap((p, i) =>
        p !== ex.params[i] ? [`#${i + 1} ${p} vs ${ex.params[i] ?? "(none)"}`] : [],
      );
      const extra = ex.params.slice(params.length).map((p, i) => `#${params.length + i + 1} (none) vs ${p}`);
      problems.push(
        `${name}: the host names (${params.join(", ")}), ${ex.at} declares (${ex.params.join(", ")}): ` +
          [...at, ...extra].join(", "),
      );
    }
  }
  return problems;
}

/** Calls `visit` on every AST node under `node` (objects with a kind and a range; ranges not entered). */
function walk(node: unknown, visit: (n: Node) => void, seen = new Set<object>()): void {
  if (node === null || typeof node !== "object" || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const n of node) walk(n, visit, seen);
    return;
  }
  if (!("kind" in node && "range" in node)) return;
  visit(node as Node);
  for (const [key, value] of Object.entries(node)) if (key !== "range") walk(value, visit, seen);
}

/**
 * Parameters passed on by name inside the sources (every .ts file of `dir`): in a call of a function
 * declared in the same file, an argument that is a bare identifier named like one of the callee's
 * parameters must be at that parameter's position, or be passed there as well (gemmConv passing its
 * parameters on to gemmDriver, say; gemmDense passes N as N and as outW). Returns each place where
 * one is not ("file:line: callee() gets X as argument #i (the parameter there), not #j").
 */
export function forwardingMismatches(dir = "assembly"): string[] {
  const problems: string[] = [];
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .sort()) {
    const path = join(dir, name);
    const source = parse(path);
    const params = new Map<string, string[]>();
    for (const s of source.statements) {
      if (s.kind === NodeKind.FunctionDeclaration) {
        const fn = s as FunctionDeclaration;
        params.set(
          fn.name.text,
          fn.signature.parameters.map((p) => p.name.text),
        );
      }
    }
    walk(source.statements, (n) => {
      if (n.kind !== NodeKind.Call) return;
      const call = n as CallExpression;
      if (call.expression.kind !== NodeKind.Identifier) return;
      const callee = (call.expression as IdentifierExpression).text;
      const names = params.get(callee);
      if (names === undefined) return;
      call.args.forEach((arg, i) => {
        if (arg.kind !== NodeKind.Identifier) return;
        const text = (arg as IdentifierExpression).text;
        const want = names.indexOf(text);
        const atItsPlace =
          call.args[want]?.kind === NodeKind.Identifier && (call.args[want] as IdentifierExpression).text === text;
        if (want >= 0 && want !== i && !atItsPlace) {
          problems.push(
            `${path}:${lineOf(source, n)}: ${callee}() gets ${text} as argument #${i + 1} (${names[i] ?? "none"}), ` +
              `not #${want + 1}`,
          );
        }
      });
    });
  }
  return problems;
}
