// The paper's Table 1 for the loaded network: one row per stage (an Inception module is
// one row), with output size, depth, branch widths, parameters and multiply-adds.

import type { ConvNode, Graph, GraphNode } from "../../host/ir/graph.js";
import { convWindow, poolWindow } from "../../host/ir/window.js";
import { inferShapes, multiplyAdds, parameterCount } from "../../host/ir/shapes.js";
import { googlenetGraph, INCEPTION_MODULES } from "./googlenet.js";
import {
  winogradFilterSide,
  winogradLayers,
  winogradMultiplyAdds,
  type Precision,
} from "../../host/plan/winogradLayers.js";

/** One row of Table 1. Branch widths are present on Inception rows (and conv2's reduce/3x3). */
export interface SummaryRow {
  name: string;
  type: string;
  /** "7x7/2"; empty for rows without a window. */
  patch: string;
  output: string;
  depth: number;
  n1x1?: number;
  n3x3reduce?: number;
  n3x3?: number;
  n5x5reduce?: number;
  n5x5?: number;
  poolProj?: number;
  params: number;
  ops: number;
}

export interface Summary {
  inputSize: number;
  /** Whether the graph is GoogLeNet's (paper rows), else an imported graph (a row per node). */
  googlenet: boolean;
  rows: SummaryRow[];
  totalParams: number;
  totalOps: number;
  /**
   * Fast mode (summarize(size, "fast", layers)): the convolutions that run Winograd (F(4x4, 3x3)
   * or F(2x2, 5x5); default every candidate: a load measures which do, net.capabilities.winogradLayers).
   */
  fast?: {
    layers: { name: string; output: string; filter: number; ops: number; winogradOps: number }[];
    /** Multiply-adds of the whole network with those layers' transformed-domain products instead. */
    totalOps: number;
  };
}

const TYPE: Record<GraphNode["op"], string> = {
  conv: "convolution",
  maxPool: "max pool",
  avgPool: "avg pool",
  lrn: "local response norm",
  concat: "concat",
  fc: "linear",
  softmax: "softmax",
};

/**
 * Table 1 for an input of inputSize x inputSize; in fast mode also the Winograd layers (`winograd`,
 * default every candidate). For GoogLeNet's graph (default) the paper's rows (an Inception module
 * per row, with its widths); for another graph (an imported ONNX one) one row per node.
 */
export function summarize(
  inputSize: number,
  precision: Precision = "strict",
  network?: Graph,
  winograd?: readonly string[],
): Summary {
  const googlenet = network === undefined || JSON.stringify(network) === JSON.stringify(googlenetGraph());
  const graph = network ?? googlenetGraph();
  const shapes = inferShapes(graph, inputSize, inputSize);
  const modules = new Map(googlenet ? INCEPTION_MODULES.map((m) => [m.name, m]) : []);
  const rows: SummaryRow[] = [];
  const stageOf = (node: GraphNode): string => node.name.split("/")[0];
  for (const node of graph.nodes) {
    const stage = stageOf(node);
    const params = parameterCount(node, shapes);
    const ops = multiplyAdds(node, shapes);
    const out = shapes.get(node.output)!;
    const m = modules.get(stage);
    if (m) {
      let row = rows.find((r) => r.name === stage);
      if (!row) {
        row = {
          name: stage,
          type: "inception",
          patch: "",
          output: "",
          depth: 2,
          n1x1: m.n1x1,
          n3x3reduce: m.n3x3reduce,
          n3x3: m.n3x3,
          n5x5reduce: m.n5x5reduce,
          n5x5: m.n5x5,
          poolProj: m.poolProj,
          params: 0,
          ops: 0,
        };
        rows.push(row);
      }
      row.params += params;
      row.ops += ops;
      if (node.op === "concat") row.output = `${out.h}x${out.w}x${out.c}`;
      continue;
    }
    if (googlenet && node.name === "conv2/3x3_reduce") {
      rows.push({
        name: "conv2",
        type: "convolution",
        patch: "3x3/1",
        output: "",
        depth: 2,
        n3x3reduce: out.c,
        params,
        ops,
      });
      continue;
    }
    if (googlenet && node.name === "conv2/3x3") {
      const row = rows[rows.length - 1];
      row.n3x3 = out.c;
      row.output = `${out.h}x${out.w}x${out.c}`;
      row.params += params;
      row.ops += ops;
      continue;
    }
    const window =
      node.op === "conv"
        ? convWindow(node)
        : node.op === "maxPool" || node.op === "avgPool"
          ? poolWindow(node, shapes.get(node.input)!)
          : undefined;
    const [kh, kw] = window?.kernel ?? [0, 0];
    const patch = window ? `${kh}x${kw}/${window.stride[0]}` : "";
    const depth = node.op === "conv" || node.op === "fc" ? 1 : 0;
    rows.push({
      name: node.name,
      type: TYPE[node.op],
      patch,
      output: `${out.h}x${out.w}x${out.c}`,
      depth,
      params,
      ops,
    });
    if (googlenet && node.op === "avgPool") {
      rows.push({
        name: "dropout",
        type: "dropout (identity)",
        patch: "",
        output: `${out.h}x${out.w}x${out.c}`,
        depth: 0,
        params: 0,
        ops: 0,
      });
    }
  }
  const totalOps = rows.reduce((s, r) => s + r.ops, 0);
  const summary: Summary = {
    inputSize,
    googlenet,
    rows,
    totalParams: rows.reduce((s, r) => s + r.params, 0),
    totalOps,
  };
  if (precision === "fast") {
    const chosen = winogradLayers(graph, precision, winograd);
    const layers = graph.nodes
      .filter((n): n is ConvNode => chosen.includes(n.name))
      .map((n) => {
        const out = shapes.get(n.output)!;
        const winogradOps = winogradMultiplyAdds(n, shapes.get(n.input)!, out);
        const filter = winogradFilterSide(n)!;
        return {
          name: n.name,
          output: `${out.h}x${out.w}x${out.c}`,
          filter,
          ops: multiplyAdds(n, shapes),
          winogradOps,
        };
      });
    const saved = layers.reduce((s, l) => s + l.ops - l.winogradOps, 0);
    summary.fast = { layers, totalOps: totalOps - saved };
  }
  return summary;
}

/** Table 1 as aligned text. */
export function formatSummary(summary: Summary): string {
  const head = [
    "layer",
    "type",
    "patch/stride",
    "output",
    "depth",
    "#1x1",
    "#3x3 red",
    "#3x3",
    "#5x5 red",
    "#5x5",
    "pool proj",
    "params",
    "ops",
  ];
  const num = (n: number | undefined): string => (n === undefined ? "" : String(n));
  const big = (n: number): string =>
    n === 0 ? "" : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${(n / 1e3).toFixed(0)}K`;
  const lines = summary.rows.map((r) => [
    r.name,
    r.type,
    r.patch,
    r.output,
    num(r.depth),
    num(r.n1x1),
    num(r.n3x3reduce),
    num(r.n3x3),
    num(r.n5x5reduce),
    num(r.n5x5),
    num(r.poolProj),
    big(r.params),
    big(r.ops),
  ]);
  lines.push([
    "total",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    summary.totalParams.toLocaleString("en-US"),
    summary.totalOps.toLocaleString("en-US"),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]): string =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const title = summary.googlenet ? "GoogLeNet" : "Imported graph";
  const table = summary.googlenet ? " (paper Table 1)" : "";
  const text = [`${title} at ${summary.inputSize}x${summary.inputSize}${table}`, fmt(head), ...lines.map(fmt)];
  if (summary.fast) {
    const { layers, totalOps } = summary.fast;
    text.push(
      "",
      `fast mode: ${layers.length} convolutions as Winograd F(4x4, 3x3) or F(2x2, 5x5) (multiply-adds direct -> transformed domain;`,
      "  a load measures which of them run Winograd: net.capabilities.winogradLayers)",
    );
    for (const l of layers) {
      const f = l.filter === 3 ? "F(4x4, 3x3)" : "F(2x2, 5x5)";
      text.push(`  ${l.name.padEnd(24)} ${l.output.padStart(10)}  ${f}  ${big(l.ops)} -> ${big(l.winogradOps)}`);
    }
    text.push(`  total ${summary.totalOps.toLocaleString("en-US")} -> ${totalOps.toLocaleString("en-US")}`);
  }
  return text.join("\n");
}
