// Order statistics of timing samples, shared by the benchmarks.

/** The median of `xs`: the middle value, or the mean of the two middle values for an even count; NaN for none. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The sample at fraction `f` (0..1) of the sorted `xs`, nearest rank (quartiles: 0.25, 0.75). */
export function quantile(xs: readonly number[], f: number): number {
  return [...xs].sort((a, b) => a - b)[Math.round(f * (xs.length - 1))];
}
