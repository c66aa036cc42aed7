// The suite's SVG chart: single-image latency per runtime, engine (inception-wasm per precision)
// and thread count (bar: median, tick: min), and, given a kernel benchmark report, each GoogLeNet convolution's GFLOP/s
// against the best register tile's figure on L1-resident data measured in that run. Plain SVG text, no dependencies.

import type { SuiteReport } from "./report.js";
import { engineLabel } from "./table.js";

const WIDTH = 1000;
const LABEL = 300;
const PLOT = WIDTH - LABEL - 150;
const COLORS: Record<string, string> = {
  "inception-wasm": "#2b6cb0",
  "inception-wasm fast": "#63b3ed",
  "ort-web": "#dd6b20",
  "tfjs-wasm": "#38a169",
  "ort-node": "#718096",
  litert: "#d53f8c",
  baseline: "#90cdf4",
  relaxed: "#2b6cb0",
};

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const text = (x: number, y: number, s: string, attrs = ""): string =>
  `<text x="${x}" y="${y}" ${attrs}>${esc(s)}</text>`;

/** A round tick step (1, 2, 2.5 or 5 times a power of ten) giving at most 8 steps up to x, and the axis end. */
function axis(x: number): { max: number; step: number } {
  const p = 10 ** Math.floor(Math.log10(x));
  // x / p is in [1, 10): a step of 2p gives at most 5 steps, so one always fits.
  const step = [0.1, 0.2, 0.25, 0.5, 1, 2].map((m) => m * p).find((s) => x / s <= 8)!;
  return { max: Math.ceil(x / step) * step, step };
}

/** Vertical grid lines and their labels for [0, max], the plot starting at y0 with height h. */
function grid(max: number, step: number, y0: number, h: number, unit: string): string[] {
  const out: string[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) {
    const x = LABEL + (v / max) * PLOT;
    out.push(
      `<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + h}" stroke="#e2e8f0"/>`,
      text(x, y0 + h + 14, `${Number(v.toPrecision(3))}${unit}`, `text-anchor="middle" fill="#4a5568"`),
    );
  }
  return out;
}

/** The chart as an SVG document. */
export function renderChart(report: SuiteReport): string {
  const kernels = report.kernels;
  const parts: string[] = [];
  let y = 30;
  parts.push(
    text(
      10,
      y,
      `GoogLeNet ${report.model.inputSize}x${report.model.inputSize}, single-image latency (bar: median, tick: min; lower is better)`,
      `font-weight="bold" font-size="15"`,
    ),
  );
  y += 18;
  parts.push(
    text(
      10,
      y,
      `${report.machine.cpu}, ${report.machine.cores} cores, ${report.date.slice(0, 10)}` +
        `${report.quick ? " (quick run)" : ""}; (x.xx) = median / inception-wasm (strict)'s in the same runtime at the same thread count`,
      `fill="#4a5568"`,
    ),
  );
  y += 16;
  // The runtimes, four to a line (seven fit no line of the chart's width).
  const names = report.runtimes.map((r) => (r.unavailable ? `${r.id}: not run` : `${r.id} = ${r.name} ${r.version}`));
  for (let i = 0; i < names.length; i += 4) {
    parts.push(text(10, y, names.slice(i, i + 4).join("; "), `fill="#4a5568"`));
    y += 16;
  }
  const rows = report.results.filter((r) => r.figures.batches["1"]);
  const { max, step } = axis(Math.max(...rows.map((r) => r.figures.batches["1"].medianMs)));
  const rowH = 24;
  parts.push(...grid(max, step, y, rows.length * rowH, " ms"));
  for (const r of rows) {
    const t = r.figures.batches["1"];
    const w = (t.medianMs / max) * PLOT,
      xm = LABEL + (t.minMs / max) * PLOT;
    parts.push(
      text(
        LABEL - 8,
        y + 16,
        `${r.runtime}: ${engineLabel(r)}, ${r.threads} thread${r.threads > 1 ? "s" : ""}${r.disturbed ? " *" : ""}`,
        `text-anchor="end"`,
      ),
      `<rect x="${LABEL}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${COLORS[engineLabel(r)]}"/>`,
      `<line x1="${xm.toFixed(1)}" y1="${y + 1}" x2="${xm.toFixed(1)}" y2="${y + rowH - 1}" stroke="#1a202c" stroke-width="2"/>`,
      text(LABEL + w + 6, y + 16, `${t.medianMs.toFixed(1)} ms (${r.ratios.batches["1"].medianMs.toFixed(2)})`),
    );
    y += rowH;
  }
  y += 24;
  if (rows.some((r) => r.disturbed)) {
    parts.push(
      text(
        10,
        y,
        `* disturbed: other processes used more than ${report.settings.disturbedCores} core(s) while it was timed`,
        `fill="#c53030"`,
      ),
    );
    y += 18;
  }

  if (kernels) {
    y += 20;
    const layers = [...new Set(kernels.shapes.map((s) => s.layer))];
    const builds = kernels.builds.map((b) => b.build);
    parts.push(
      text(
        10,
        y,
        "Kernel GFLOP/s per GoogLeNet convolution (the probe's tile), 1 thread, against the best tile on L1 data in the same run",
        `font-weight="bold" font-size="15"`,
      ),
    );
    y += 18;
    parts.push(
      text(
        10,
        y,
        `${kernels.runtime}; ` +
          builds
            .map((b) => {
              const s = kernels.builds.find((x) => x.build === b)!;
              return `${b}: flop-weighted ${s.weightedGflops.toFixed(1)} GFLOP/s = ${(s.weightedFraction * 100).toFixed(0)} % of its best tile on L1 data ${s.peakGflops.toFixed(1)}`;
            })
            .join("; "),
        `fill="#4a5568"`,
      ),
    );
    y += 16;
    const register = kernels.registerPeak ?? { mulAdd: 0, relaxed: 0 };
    const a = axis(
      Math.max(
        kernels.peak.mulAdd,
        kernels.peak.relaxed,
        register.mulAdd,
        register.relaxed,
        ...kernels.shapes.map((s) => s.gflops),
      ),
    );
    const barH = 5,
      rowK = barH * builds.length + 4;
    const h = layers.length * rowK;
    const peaks = (
      [
        ["mul+add best tile (L1)", kernels.peak.mulAdd],
        ["relaxed_madd best tile (L1)", kernels.peak.relaxed],
        ["mul+add register-only peak", register.mulAdd],
        ["relaxed_madd register-only peak", register.relaxed],
      ] as const
    ).filter(([, peak]) => peak > 0);
    peaks.forEach(([name, peak], i) => {
      const x = LABEL + (peak / a.max) * PLOT;
      parts.push(
        `<line x1="${x.toFixed(1)}" y1="${y + 2 + i * 14}" x2="${x.toFixed(1)}" y2="${y + 4 + 14 * peaks.length + h}" stroke="#c53030" stroke-dasharray="4 3"/>`,
        text(x - 4, y + 12 + i * 14, `${name} ${peak.toFixed(1)}`, `fill="#c53030" text-anchor="end"`),
      );
    });
    y += 4 + 14 * peaks.length;
    parts.push(...grid(a.max, a.step, y, h, ""));
    for (const layer of layers) {
      parts.push(text(LABEL - 8, y + rowK - 3, layer, `text-anchor="end" font-size="9"`));
      builds.forEach((b, i) => {
        const s = kernels.shapes.find((x) => x.layer === layer && x.build === b);
        if (s)
          parts.push(
            `<rect x="${LABEL}" y="${y + 2 + i * barH}" width="${((s.gflops / a.max) * PLOT).toFixed(1)}" height="${barH}" fill="${COLORS[b] ?? "#a0aec0"}"/>`,
          );
      });
      y += rowK;
    }
    y += 22;
    builds.forEach((b, i) => {
      parts.push(
        `<rect x="${LABEL + i * 120}" y="${y}" width="12" height="12" fill="${COLORS[b] ?? "#a0aec0"}"/>`,
        text(LABEL + i * 120 + 18, y + 11, `${b} build`),
      );
    });
    y += 20;
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y + 10}" viewBox="0 0 ${WIDTH} ${y + 10}" ` +
    `font-family="system-ui, sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join("\n")}\n</svg>\n`
  );
}
