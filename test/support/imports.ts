// The module specifiers a TypeScript file imports: static `import`/`export ... from` declarations
// (type-only ones included: they are part of the design's dependencies, if erased at run time),
// side-effect imports and dynamic `import("...")` with a literal. A small lexer first replaces
// every comment, string, template and regular-expression literal, so that code inside them (a
// script a test writes, a message naming an import) is never read as an import. Hand-written: the
// TypeScript in node_modules (7, the native compiler) has no JavaScript API, and a parser
// dependency for this one test is more than it needs.

/** What an import names: the specifier and the line it is on (1-based), for messages. */
export interface ImportRef {
  specifier: string;
  line: number;
}

/** Keywords after which a `/` starts a regular expression, not a division. */
const BEFORE_REGEX = new Set([
  "return",
  "typeof",
  "case",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "else",
  "do",
  "yield",
  "await",
]);

/**
 * `source` with every literal's and comment's text replaced (newlines kept, so lines still count):
 * a string literal becomes `"#N"` with its text at strings[N]; comments, templates and regular
 * expressions become spaces.
 */
function mask(source: string): { code: string; strings: string[] } {
  const out: string[] = [];
  const strings: string[] = [];
  const blank = (text: string): string => text.replace(/[^\n]/g, " ");
  let i = 0;
  let lastSignificant = "";
  let lastWord = "";
  /** Reads a template literal from its opening backtick; returns the index after its closing one. */
  const template = (start: number): number => {
    let j = start + 1;
    while (j < source.length && source[j] !== "`") {
      if (source[j] === "\\") j += 2;
      else if (source[j] === "$" && source[j + 1] === "{") {
        // An expression inside: skip to its matching brace, minding nested templates and strings.
        let depth = 1;
        j += 2;
        while (j < source.length && depth > 0) {
          const c = source[j];
          if (c === "`") j = template(j);
          else if (c === '"' || c === "'") j = quoted(j);
          else {
            if (c === "{") depth++;
            else if (c === "}") depth--;
            j++;
          }
        }
      } else j++;
    }
    return j + 1;
  };
  /** Reads a quoted string from its opening quote; returns the index after its closing one. */
  const quoted = (start: number): number => {
    const q = source[start];
    let j = start + 1;
    while (j < source.length && source[j] !== q && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
    return j + 1;
  };
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      const stop = end < 0 ? source.length : end;
      out.push(blank(source.slice(i, stop)));
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out.push(blank(source.slice(i, stop)));
      i = stop;
    } else if (c === '"' || c === "'") {
      const stop = quoted(i);
      strings.push(source.slice(i + 1, stop - 1));
      out.push(`"#${strings.length - 1}"`);
      i = stop;
      lastSignificant = '"';
    } else if (c === "`") {
      const stop = template(i);
      out.push(blank(source.slice(i, stop)));
      i = stop;
      lastSignificant = "`";
    } else if (
      c === "/" &&
      (lastSignificant === "" || "(,=:[!&|?{};+-*%<>~^".includes(lastSignificant) || BEFORE_REGEX.has(lastWord))
    ) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && source[j] !== "\n") {
        if (source[j] === "\\") j++;
        else if (source[j] === "[") inClass = true;
        else if (source[j] === "]") inClass = false;
        else if (source[j] === "/" && !inClass) break;
        j++;
      }
      j++;
      while (j < source.length && /[a-z]/.test(source[j])) j++;
      out.push(blank(source.slice(i, j)));
      i = j;
      lastSignificant = "/";
    } else {
      out.push(c);
      if (/\S/.test(c)) {
        lastSignificant = c;
        if (/[A-Za-z_$]/.test(c)) {
          const word = /^[A-Za-z_$][\w$]*/.exec(source.slice(i))![0];
          out.push(word.slice(1));
          i += word.length;
          lastWord = word;
          lastSignificant = "a";
          continue;
        }
        lastWord = "";
      }
      i++;
    }
  }
  return { code: out.join(""), strings };
}

/** Every module specifier `source` imports or re-exports (see the header), in order. */
export function importsOf(source: string): ImportRef[] {
  const { code, strings } = mask(source);
  const found: ImportRef[] = [];
  const patterns = [
    /(?:^|[;}\n])\s*(?:import|export)\b[^;"]*?\bfrom\s*"#(\d+)"/g,
    /(?:^|[;}\n])\s*import\s*"#(\d+)"/g,
    /\bimport\s*\(\s*"#(\d+)"\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const m of code.matchAll(pattern)) {
      const at = m.index + m[0].length;
      found.push({ specifier: strings[Number(m[1])], line: code.slice(0, at).split("\n").length });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}
