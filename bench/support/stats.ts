// Small numeric and formatting helpers for the benchmark report.

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1];
}

/** The middle value (the mean of the two middle values for an even count); NaN when empty. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

export interface Dist {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}
export function dist(values: number[]): Dist {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : NaN,
    mean: mean(values),
  };
}

export const fmtMs = (v: number) => (Number.isNaN(v) ? '—' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);
export const fmtDist = (d: Dist) => `p50 ${fmtMs(d.p50)}  p95 ${fmtMs(d.p95)}  p99 ${fmtMs(d.p99)}  max ${fmtMs(d.max)}  (n=${d.n})`;
export const fmtNum = (v: number, digits = 1) => (Number.isNaN(v) ? '—' : v.toFixed(digits));
export const fmtMB = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MB`;
export const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
