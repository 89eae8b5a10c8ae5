/** Small numeric and formatting helpers for benchmarks. */

/** Percentile by linear interpolation between closest ranks; p in [0, 100]. NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (n - 1); 0 for a single value, NaN for none. */
export function std(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  if (values.length === 1) return 0;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) ** 2;
  return Math.sqrt(ss / (values.length - 1));
}

export interface Summary {
  n: number;
  mean: number;
  std: number;
  min: number;
  p50: number;
  p95: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    mean: mean(values),
    std: std(values),
    min: values.length ? Math.min(...values) : NaN,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    max: values.length ? Math.max(...values) : NaN,
  };
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** A stopwatch: `lap()` returns ms since the previous lap (or start) and records it. */
export class Timer {
  private readonly start = nowMs();
  private last = this.start;
  readonly laps: number[] = [];

  lap(): number {
    const t = nowMs();
    const d = t - this.last;
    this.last = t;
    this.laps.push(d);
    return d;
  }

  /** ms since the timer was created. */
  elapsed(): number {
    return nowMs() - this.start;
  }
}

/** Runs fn and returns its result with the elapsed milliseconds. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const t = nowMs();
  const value = await fn();
  return { value, ms: nowMs() - t };
}

/** Fixed decimals; '-' for NaN or infinities. */
export function fmt(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

/** Plain-text table: first column left-aligned, the rest right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export interface RatioRow {
  name: string;
  /** Higher is better (e.g. faces per second). */
  value: number;
}

/**
 * Table of rows against a baseline: value and how many times the baseline's value it is.
 * The baseline row must be among `rows` (matched by name).
 */
export function formatRatioTable(rows: readonly RatioRow[], baseline: string, unit = 'faces/s', digits = 1): string {
  const base = rows.find((r) => r.name === baseline);
  if (!base) throw new Error(`baseline row "${baseline}" not in the table`);
  return formatTable(
    ['', unit, `x ${baseline}`],
    rows.map((r) => [r.name, fmt(r.value, digits), base.value > 0 ? `${fmt(r.value / base.value, 2)}x` : '-']),
  );
}
