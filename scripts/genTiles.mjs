// Generates assembly/tiles.ts: the GEMM micro-kernel family from one template.
//
// Every tile MR x NR of TILES gets one kernel per computed width W = 1..NR/4 f32x4 columns (the
// narrower ones serve a row panel's last, partly filled column panel), and at full width one per
// computed row count R = 1..MR-1 (the last, partly filled row panel of an M that is not a multiple
// of MR: no products of its zero rows, and C stored as vectors). All of them reduce each
// output element the same way: acc = 0, then acc = madd(a[k], b[k], acc) for k in the K block in
// order, then C = acc + bias (first K block) or C + acc, then ReLU. Tile shape, width and how the
// loop loads its operands (TILES: variants for engines that compile some loads badly) only
// change which elements one call computes together, never an element's operations, so every tile
// gives the same bits (test/tiles.test.ts holds them to it). Winograd's point products
// (assembly/winograd.ts) call microKernel too. assembly/tiles.ts is checked in (a kernel change
// shows in review); `npm run build:wasm` runs this with --check, which fails when the file
// differs from this output.
//
//   node scripts/genTiles.mjs           writes assembly/tiles.ts
//   node scripts/genTiles.mjs --check   exits 1 when assembly/tiles.ts is not what it would write

import { readFileSync, writeFileSync } from "node:fs";

/**
 * The family: [rows, columns, loads], columns a multiple of 4 and at most TMP_ROW_BYTES / 4.
 * Index = tile id. Loads: how the inner loop reads its operands, chiefly how a K step's A values
 * become the broadcast vectors the rows multiply:
 *   "splat"  one v128.load32_splat per row, at immediate offset 4 * r from the panel pointer;
 *   "lanes"  (rows a multiple of 4) one v128.load per 4 rows, each lane broadcast with
 *            i32x4.shuffle: a quarter of the A accesses, for an engine that bounds-checks every
 *            access (Deno: V8 without its trap handler);
 *   "addr"   as "splat", but every load of the loop (A splats and B vectors) at a computed
 *            address (a + 4 * r, b + 16 * j) with immediate offset 0: JavaScriptCore makes a
 *            broadcast load only of offset 0 (with an offset, a scalar load and a splat on the
 *            vector ports the multiply-adds need), and measured faster with B so too.
 * Each shape has a "splat" tile; a tile with other loads ("variant", named e.g. 4x8lanes) has only
 * its full kernel (all rows, full width: nearly all of a layer's products) and runs the splat tile's
 * kernels for its edges. Every A value reaches the multiply-add unchanged, so the bits are the same.
 */
// 8x8 (two 4x8 halves sharing the B loads) was measured and dropped: 16 accumulators + 2 B + 1 A
// exceed x86's 16 xmm registers, and it was the slowest tile on L1 data in Node 20-26 and Deno
// (bench:kernels, 2026-11-29). 3x16 and 4x12 stay for Bun (JavaScriptCore) and Deno. 4x12lanes,
// 3x16addr and 4x8addr were measured and dropped: none was the fastest on L1 data or over
// GoogLeNet's convolutions in Node 20, Deno or Bun (bench:kernels --clock cpu, AMD EPYC Zen 3,
// 2026-12-07); 6x8 with lane broadcasts loses everywhere (14 accumulator and B registers + 2 A).
const TILES = [
  [4, 8, "splat"],
  [6, 8, "splat"],
  [4, 12, "splat"],
  [3, 16, "splat"],
  [4, 8, "lanes"],
  [6, 8, "addr"],
];
/** The loads' codes tileLoadsOf returns (src/host/wasm/tiles.ts names the tiles by them). */
const LOADS = ["splat", "lanes", "addr"];
/** Bytes between rows of the accumulators an edge tile spills to `tmp` (16 floats: the widest tile). */
const TMP_ROW_BYTES = 64;

const name = (mr, nr, w, rows = mr) => `k${mr}x${nr}w${w}${rows < mr ? `r${rows}` : ""}`;
/** A variant's one kernel (full width, all rows). */
const variantName = (mr, nr, loads) => `k${mr}x${nr}${loads}`;
const range = (n) => Array.from({ length: n }, (_, i) => i);

const acc = (r, j) => `c${r}_${j}`;
const accumulators = (mr, w) => range(mr).flatMap((r) => range(w).map((j) => [r, j]));

/**
 * The inner loop, shared by every kernel generated here: accumulators c{r}_{j} (the first `rows`
 * of mr rows x w f32x4) = 0, then for k = 0..kc-1 in order: acc += a[k][r] * b[k][j] with the
 * build's madd, A panels of mr floats a step (read as `loads` says: TILES), B panels of nr floats
 * a step.
 */
function productLoop(mr, nr, w, rows = mr, loads = "splat") {
  const lines = [];
  for (const [r, j] of accumulators(rows, w)) lines.push(`  let ${acc(r, j)} = f32x4.splat(0);`);
  // "addr": a do-while to A's end (JavaScriptCore then keeps one compare-and-branch per step, not
  // a counter, a header test and a jump); the same steps in the same order.
  if (loads === "addr") lines.push(`  const aEnd = a + <usize>kc * ${mr * 4};`, `  if (kc > 0) do {`);
  else lines.push(`  for (let k = 0; k < kc; k++) {`);
  const at = (p, bytes) => (loads !== "addr" ? `${p}, ${bytes}` : bytes === 0 ? p : `${p} + ${bytes}`);
  for (const j of range(w)) lines.push(`    const b${j} = v128.load(${at("b", 16 * j)});`);
  if (loads === "lanes") for (const q of range(rows / 4)) lines.push(`    const a${q} = v128.load(a, ${16 * q});`);
  lines.push(`    let av: v128;`);
  for (const r of range(rows)) {
    const [q, l] = [r >> 2, r & 3];
    const broadcast =
      loads === "lanes"
        ? `i32x4.shuffle(a${q}, a${q}, ${l}, ${l}, ${l}, ${l})`
        : `v128.load32_splat(${at("a", 4 * r)})`;
    lines.push(`    av = ${broadcast};`);
    for (const j of range(w)) lines.push(`    ${acc(r, j)} = madd(av, b${j}, ${acc(r, j)});`);
  }
  lines.push(`    a += ${mr * 4};`);
  lines.push(`    b += ${nr * 4};`);
  lines.push(loads === "addr" ? `  } while (a != aEnd);` : `  }`);
  return lines;
}

/**
 * The template: an mr x nr tile computing w f32x4 columns and the first `computed` rows of it
 * (C stored as vectors when exactly those are valid, else through tmp and edgeEpilogue), its A
 * read as `loads` says (a variant: only at full width and all rows).
 */
function kernel(mr, nr, w, computed = mr, loads = "splat") {
  const all = accumulators(computed, w);
  const lines = [];
  const what = loads === "splat" ? "" : ` with "${loads}" A loads`;
  lines.push(
    `/** ${mr}x${nr} tile${what}, ${w * 4} of its columns (${w} f32x4 per row) and ${computed === mr ? "all" : `the first ${computed}`} of its rows computed. */`,
  );
  const fn = loads === "splat" ? name(mr, nr, w, computed) : variantName(mr, nr, loads);
  lines.push(
    `function ${fn}(kc: i32, a: usize, b: usize, c: usize, ldc: usize, rows: i32, cols: i32, bias: usize, first: bool, relu: bool, tmp: usize): void {`,
  );
  lines.push(...productLoop(mr, nr, w, computed, loads));
  lines.push(`  if (rows == ${computed} && cols == ${w * 4}) {`);
  lines.push(`    if (first) {`);
  lines.push(`      if (bias != 0) {`);
  for (const r of range(computed)) {
    lines.push(`        ${r === 0 ? "let " : ""}bv = v128.load32_splat(bias, ${4 * r});`);
    for (const j of range(w)) lines.push(`        ${acc(r, j)} = f32x4.add(${acc(r, j)}, bv);`);
  }
  lines.push(`      }`);
  lines.push(`    } else {`);
  for (const [r, j] of all)
    lines.push(`      ${acc(r, j)} = f32x4.add(${acc(r, j)}, v128.load(c + ${r} * ldc, ${16 * j}));`);
  lines.push(`    }`);
  lines.push(`    if (relu) {`);
  lines.push(`      const z = f32x4.splat(0);`);
  for (const [r, j] of all) lines.push(`      ${acc(r, j)} = f32x4.pmax(z, ${acc(r, j)});`);
  lines.push(`    }`);
  for (const [r, j] of all) lines.push(`    v128.store(c + ${r} * ldc, ${acc(r, j)}, ${16 * j});`);
  lines.push(`    return;`);
  lines.push(`  }`);
  for (const [r, j] of all) lines.push(`  v128.store(tmp, ${acc(r, j)}, ${r * TMP_ROW_BYTES + 16 * j});`);
  lines.push(`  edgeEpilogue(tmp, ${TMP_ROW_BYTES / 4}, c, ldc, rows, cols, bias, first, relu);`);
  lines.push(`}`);
  return lines.join("\n");
}

const out = [];
out.push(`// GENERATED by scripts/genTiles.mjs (its one template): edit the generator, not this file.
//
// The GEMM micro-kernel family. Tile t is tileRowsOf(t) x tileColsOf(t): A panels of that many
// rows (packWeights with those rows), B panels of that many columns. microKernel(t, ...) runs
// acc = A panel (kc x rows) * B panel (kc x cols); then C (row stride ldc bytes) = acc + bias when
// \`first\` (C is not read), else C + acc; then max(., 0) when \`relu\`; only rows x cols of the tile
// are stored (partial tiles spill the accumulators to \`tmp\`, TILE_TMP_BYTES bytes). Tiles of one
// shape may differ in how they load A and B (tileLoadsOf: scripts/genTiles.mjs's TILES). Every tile
// gives each element the same operations in the same order, hence the same bits. Winograd's point
// products (assembly/winograd.ts) call microKernel too.

import { madd } from "./simd";
import { edgeEpilogue } from "./epilogue";
`);
out.push(`/** Tiles in the family (ids 0 .. TILE_COUNT - 1; 0 is ${TILES[0].join("x")}). */`);
out.push(`export const TILE_COUNT: i32 = ${TILES.length};`);
out.push(`/** Most rows of any tile. */`);
out.push(`export const MAX_TILE_ROWS: i32 = ${Math.max(...TILES.map((t) => t[0]))};`);
out.push(`/** Most columns of any tile. */`);
out.push(`export const MAX_TILE_COLS: i32 = ${Math.max(...TILES.map((t) => t[1]))};`);
out.push(`/** Bytes of the \`tmp\` area a partial tile spills its accumulators to. */`);
out.push(`export const TILE_TMP_BYTES: i32 = ${Math.max(...TILES.map((t) => t[0])) * TMP_ROW_BYTES};\n`);
/** A switch over the tile ids returning pick(tile), 0 for an unknown id, documented by `doc`. */
const sw = (fn, doc, pick) =>
  [
    `/** ${doc} (0 for an unknown id). */`,
    `export function ${fn}(t: i32): i32 {`,
    `  switch (t) {`,
    ...TILES.map((tile, i) => `    case ${i}: return ${pick(tile)};`),
    `    default: return 0;`,
    `  }`,
    `}\n`,
  ].join("\n");
out.push(sw("tileRowsOf", "Rows of tile t", (t) => t[0]));
out.push(sw("tileColsOf", "Columns of tile t", (t) => t[1]));
const loadCodes = LOADS.map((l, i) => `${i} ${l}`).join(", ");
out.push(
  sw("tileLoadsOf", `How tile t reads A: ${loadCodes} (scripts/genTiles.mjs's TILES)`, (t) => LOADS.indexOf(t[2])),
);
out.push(
  `/** Runs tile t's kernel for the \`cols\` valid columns of its panel (the narrowest width covering them) and its \`rows\` valid rows (at full width). */`,
);
out.push(
  `export function microKernel(t: i32, kc: i32, a: usize, b: usize, c: usize, ldc: usize, rows: i32, cols: i32, bias: usize, first: bool, relu: bool, tmp: usize): void {`,
);
out.push(`  const w = (cols + 3) >> 2;`);
out.push(`  switch (t) {`);
TILES.forEach(([mr, nr, loads], i) => {
  out.push(`    case ${i}:`);
  if (loads !== "splat") {
    const call = `${variantName(mr, nr, loads)}(kc, a, b, c, ldc, rows, cols, bias, first, relu, tmp);`;
    out.push(`      if (rows == ${mr} && w == ${nr / 4}) { ${call} return; }`);
  }
  out.push(`      if (rows < ${mr} && w == ${nr / 4}) {`);
  for (const r of range(mr - 1).map((x) => x + 1))
    out.push(
      `        if (rows == ${r}) { ${name(mr, nr, nr / 4, r)}(kc, a, b, c, ldc, rows, cols, bias, first, relu, tmp); return; }`,
    );
  out.push(`      }`);
  for (const w of range(nr / 4).map((x) => x + 1)) {
    const call = `${name(mr, nr, w)}(kc, a, b, c, ldc, rows, cols, bias, first, relu, tmp);`;
    out.push(w === nr / 4 ? `      ${call}` : `      if (w == ${w}) { ${call} return; }`);
  }
  out.push(`      return;`);
});
out.push(`  }`);
out.push(`}\n`);
for (const [mr, nr, loads] of TILES) {
  if (loads !== "splat") {
    if (!TILES.some((t) => t[0] === mr && t[1] === nr && t[2] === "splat"))
      throw new Error(`gen-tiles: variant ${mr}x${nr}${loads} has no splat tile of its shape for its edges`);
    if (loads === "lanes" && mr % 4 !== 0) throw new Error(`gen-tiles: "lanes" needs rows a multiple of 4, not ${mr}`);
    out.push(kernel(mr, nr, nr / 4, mr, loads) + "\n");
    continue;
  }
  for (const w of range(nr / 4)) out.push(kernel(mr, nr, w + 1) + "\n");
  for (const r of range(mr - 1)) out.push(kernel(mr, nr, nr / 4, r + 1) + "\n");
}

const file = new URL("../assembly/tiles.ts", import.meta.url);
const text = out.join("\n");
if (!process.argv.includes("--check")) writeFileSync(file, text);
else {
  let checkedIn;
  try {
    checkedIn = readFileSync(file, "utf8");
  } catch {
    checkedIn = undefined;
  }
  if (checkedIn !== text) {
    const lines = checkedIn?.split("\n") ?? [];
    const at = text.split("\n").findIndex((line, i) => line !== lines[i]);
    console.error(
      checkedIn === undefined
        ? "gen-tiles: assembly/tiles.ts is missing"
        : `gen-tiles: assembly/tiles.ts differs from scripts/genTiles.mjs's output (first at line ${at < 0 ? lines.length : at + 1})`,
    );
    console.error("gen-tiles: run `node scripts/genTiles.mjs` and commit assembly/tiles.ts with the generator");
    process.exit(1);
  }
  console.log("gen-tiles: assembly/tiles.ts is the generator's output");
}
