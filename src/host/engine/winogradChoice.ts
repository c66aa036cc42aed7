// Fast mode's per-layer choice: which Winograd candidates (plan/winogradLayers.ts: the 3x3 and 5x5
// stride-1 "same" convolutions) run Winograd and which stay GEMMs, by timing both kernels on each
// candidate's real shape (one image, one thread, zeros in the load's scratch instance: the kernels'
// time does not depend on the values) at load, and comparing their time per output pixel. Maps taller than
// SLICE_ROWS are timed on their first SLICE_ROWS output rows (rounded up to whole GEMM column
// panels and Winograd tile panels; both kernels' work is uniform over rows, and the slices still
// hold 8-56 tiles: the transformed filters are streamed once per 32 tiles either way); smaller
// maps (14x14, 7x7), where a call's fixed costs count most, whole. Made once per process for a build's code, GEMM tile and graph
// (later loads reuse it, so every network of the process plans the same layers and computes the
// same bits at any thread count and batch), and kept between processes in the probe table where
// the runtime supplies one (TileProbeStore, src/node/tileCache.ts). The choice changes fast mode's
// bits (never strict mode's): net.capabilities.winogradLayers says what runs.

import { hex, sha256 } from "../digest.js";
import type { ConvNode, Graph } from "../ir/graph.js";
import { inferShapes } from "../ir/shapes.js";
import { gemmConvCall } from "../plan/plan.js";
import { WINOGRAD_OUTPUT_TILES, winogradCall, winogradCandidates, winogradFilterSide } from "../plan/winogradLayers.js";
import { encodeCall, narrowCall, WINOGRAD_TILES, type KernelCall } from "../wasm/calls.js";
import { scratchKernels, warmUpKernels, type CompiledKernels } from "../wasm/kernels.js";
import { PROBE_VERSION, type TileInfo, type TileProbeKey, type TileProbeStore } from "../wasm/tiles.js";

/** The layers fast mode runs as Winograd, and why. */
export interface WinogradChoice {
  /** The candidates that run Winograd, in graph order. */
  layers: string[];
  /** How they were chosen: the timings (ms per layer, GEMM against Winograd), or the table entry. */
  reason: string;
}

/** Version of this measurement (its rounds and rule): part of the table key. Bump it when they change. */
const CHOICE_VERSION = 2;
/** Timed rounds: at least MIN_ROUNDS, more while the budget lasts, at most MAX_ROUNDS; each layer's fastest time counts. */
const MIN_ROUNDS = 2;
const MAX_ROUNDS = 5;
const BUDGET_MS = 100;
/**
 * Further rounds of only the candidates whose GEMM was faster, before they are kept as GEMMs: the
 * choice is kept in the probe table for every later process, and a Winograd step disturbed in
 * every round (another process on the core) would otherwise stay a GEMM for good, while a wrong
 * Winograd pick only happens at a near tie.
 */
const CONFIRM_ROUNDS = 3;
/** Output rows timed of a taller map (a multiple of both output tiles, 4 and 2). */
const SLICE_ROWS = 8;

/** Choices made in this process, by build code, tile and the candidates' shapes. */
const processChoices = new Map<string, WinogradChoice>();

/** A candidate with its shapes: "name C x H x W -> M, r x r". */
interface Candidate {
  node: ConvNode;
  C: number;
  H: number;
  W: number;
  M: number;
  r: number;
}

function describe(c: Candidate): string {
  return `${c.node.name} ${c.C}x${c.H}x${c.W}->${c.M} ${c.r}x${c.r}`;
}

/**
 * The Winograd layers of `graph` at `inputSize` for a build and GEMM tile: this process's earlier
 * choice for the same build code, tile and shapes; else the probe table's entry (`store`); else a
 * measurement (every candidate as the GEMM with `tile` and as Winograd, rounds alternating which
 * goes first, each one's fastest time, CONFIRM_ROUNDS more for the candidates whose GEMM was
 * faster; a candidate runs Winograd when that is faster), which the
 * table then keeps. A runtime whose clock does not advance while code runs gets every candidate.
 * `choices` (default: this process's) is a parameter for tests that stand for a new process.
 */
export async function chooseWinogradLayers(
  compiled: CompiledKernels,
  graph: Graph,
  inputSize: number,
  tile: TileInfo,
  store: TileProbeStore | undefined,
  choices: Map<string, WinogradChoice> = processChoices,
): Promise<WinogradChoice> {
  const shapes = inferShapes(graph, inputSize, inputSize);
  const candidates: Candidate[] = winogradCandidates(graph).map((node) => {
    const x = shapes.get(node.input)!;
    return { node, C: x.c, H: x.h, W: x.w, M: node.outChannels, r: winogradFilterSide(node)! };
  });
  if (candidates.length === 0) return { layers: [], reason: "no 3x3 or 5x5 stride-1 same-size convolution" };
  const what = `winograd-choice ${CHOICE_VERSION}, tile ${tile.name}: ${candidates.map(describe).join("; ")}`;
  const code = compiled.code === undefined ? undefined : hex(await sha256(compiled.code));
  const memo = `${compiled.build} ${code ?? "unknown code"} ${what}`;
  const earlier = choices.get(memo);
  if (earlier !== undefined && code !== undefined) return earlier;
  const key: TileProbeKey = { probe: PROBE_VERSION, build: compiled.build, code: code ?? "", what };
  let tableNote = "";
  if (store !== undefined && code !== undefined) {
    const stored = await store.read(key);
    const names = candidates.map((c) => c.node.name);
    if (typeof stored === "string") tableNote = `; probe table: ${stored}`;
    else if (stored.layers === undefined || stored.layers.some((l) => !names.includes(l)))
      tableNote = "; the probe table's entry lists no layers of this graph: measured again";
    else {
      const chosen = {
        layers: names.filter((n) => stored.layers!.includes(n)),
        reason: `from the probe table (measured ${stored.measured}): ${stored.reason}`,
      };
      choices.set(memo, chosen);
      return chosen;
    }
  }
  const measured = await measure(compiled, candidates, tile);
  if (store !== undefined && code !== undefined && measured.timed) {
    await store.write(key, {
      tile: tile.name,
      layers: measured.layers,
      reason: measured.reason,
      measured: new Date().toISOString(),
    });
    tableNote += ", stored in the table";
  }
  const chosen = { layers: measured.layers, reason: `${measured.reason}${tableNote}` };
  if (code !== undefined) choices.set(memo, { layers: measured.layers, reason: measured.reason });
  return chosen;
}

/** Times every candidate both ways (see chooseWinogradLayers); `timed` is false when the clock stood still. */
async function measure(
  compiled: CompiledKernels,
  candidates: Candidate[],
  tile: TileInfo,
): Promise<WinogradChoice & { timed: boolean }> {
  // The load's scratch instance (the tile probe's and the warm-up's): no instance or memory of its
  // own. Warm-up first: it lays out its own areas over the same memory.
  await warmUpKernels(compiled, tile.id);
  const { k, memory, arena: newArena } = scratchKernels(compiled);
  const arena = newArena();
  // [input][output][packed A][Winograd U][bias][scratch], sized for the largest candidate, zeroed
  // (the earlier users' values could be subnormal, which would slow the kernels).
  const largest = (bytes: (c: Candidate) => number): number => Math.max(...candidates.map(bytes));
  const zeroed = (bytes: number): number => {
    const ptr = arena.alloc(bytes);
    new Uint8Array(memory.buffer, ptr, bytes).fill(0);
    return ptr;
  };
  const src = zeroed(largest((c) => c.C * c.H * c.W * 4));
  const dst = zeroed(largest((c) => c.M * c.H * c.W * 4));
  const packed = zeroed(largest((c) => k.packedWeightsBytes(c.M, c.C * c.r * c.r, tile.id)));
  const u = zeroed(largest((c) => k.winogradFilterBytes(c.M, c.C)));
  const bias = zeroed(largest((c) => c.M * 4));
  const scratch = zeroed(largest((c) => Math.max(k.gemmScratchBytes(), k.winogradScratchBytes(c.C))));
  const calls = candidates.map((c) => {
    const x = { ptr: src, shape: { c: c.C, h: c.H, w: c.W } };
    const y = { ptr: dst, shape: { c: c.M, h: c.H, w: c.W } };
    const gemm = sliced(gemmConvCall(c.node, x, y, { w: packed, b: bias }, 1, tile.id), c, tile.cols, scratch);
    const winograd = sliced(winogradCall(c.node, x, y, { w: u, b: bias }, 1, tile.id), c, WINOGRAD_TILES, scratch);
    return [gemm, winograd].map(({ call, pixels }) => ({ fn: k[call.kernel], args: encodeCall(call), pixels }));
  });
  const best = candidates.map(() => [Infinity, Infinity]);
  const started = performance.now();
  let rounds = 0;
  const round = (i: number): void => {
    const pair = calls[i];
    for (let j = 0; j < 2; j++) {
      const which = (j + rounds) % 2; // alternate which kernel goes first
      const t0 = performance.now();
      pair[which].fn(...pair[which].args);
      best[i][which] = Math.min(best[i][which], (performance.now() - t0) / pair[which].pixels);
    }
  };
  while (rounds < MIN_ROUNDS || (rounds < MAX_ROUNDS && performance.now() - started < BUDGET_MS)) {
    calls.forEach((_, i) => round(i));
    rounds++;
  }
  const retimed = candidates.flatMap((_, i) => (best[i][0] > 0 && best[i][1] >= best[i][0] ? [i] : []));
  for (let r = 0; r < CONFIRM_ROUNDS && retimed.length > 0; r++, rounds++) retimed.forEach(round);
  const ms = (performance.now() - started).toFixed(0);
  if (best.some((b) => !(b[0] > 0 && b[1] > 0))) {
    return {
      layers: candidates.map((c) => c.node.name),
      reason: `the clock did not advance during the timed calls (${ms} ms in all): every candidate runs Winograd`,
      timed: false,
    };
  }
  const layers = candidates.filter((_, i) => best[i][1] < best[i][0]).map((c) => c.node.name);
  const table = candidates
    .map((c, i) => {
      const layerMs = (t: number): string => (t * c.H * c.W).toFixed(2);
      return `${c.node.name} ${layerMs(best[i][0])}/${layerMs(best[i][1])}`;
    })
    .join(", ");
  return {
    layers,
    reason:
      `measured (${rounds} rounds, ${ms} ms, tile ${tile.name}; ${retimed.length} GEMM win(s) timed ${CONFIRM_ROUNDS} rounds more; ` +
      `fastest, as ms for the whole layer, GEMM/Winograd): ${table}`,
    timed: true,
  };
}

/**
 * The call narrowed to the candidate's first SLICE_ROWS output rows (a map of 14 rows or fewer:
 * whole), its column range rounded up to a multiple of `align` (GEMM columns are pixels, Winograd's
 * tiles), with `scratch`; and the output pixels it computes.
 */
function sliced(call: KernelCall, c: Candidate, align: number, scratch: number): { call: KernelCall; pixels: number } {
  const whole = c.H <= 2 * SLICE_ROWS - 2; // 14x14 and smaller
  if (call.kernel === "winogradConv") {
    const m = WINOGRAD_OUTPUT_TILES[c.r];
    const tilesX = Math.ceil(c.W / m),
      total = call.args.t1;
    const t1 = whole ? total : Math.min(total, Math.ceil(((SLICE_ROWS / m) * tilesX) / align) * align);
    let pixels = 0;
    for (let t = 0; t < t1; t++) {
      const ty = Math.floor(t / tilesX),
        tx = t % tilesX;
      pixels += Math.min(m, c.H - ty * m) * Math.min(m, c.W - tx * m);
    }
    return { call: narrowCall(call, { r0: 0, r1: c.M, c0: 0, c1: t1 }, scratch), pixels };
  }
  const N = c.H * c.W;
  const n1 = whole ? N : Math.min(N, Math.ceil((SLICE_ROWS * c.W) / align) * align);
  return { call: narrowCall(call, { r0: 0, r1: c.M, c0: 0, c1: n1 }, scratch), pixels: n1 };
}
