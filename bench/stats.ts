// Summaries of repeated measurements (median with min-max) and of latency samples (percentiles).

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Every run's value, in run order. */
  values: number[];
}

export function spread(values: number[]): Spread {
  if (values.length === 0) throw new RangeError("spread() needs at least one value");
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentileOfSorted(sorted, 50), min: sorted[0]!, max: sorted.at(-1)!, values };
}

/** Linear interpolation between closest ranks; `p` in [0, 100]. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError("percentile of an empty list");
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Counts per bucket: `le` is the bucket's upper bound in ms (the last one is Infinity, shown as null in JSON). */
  histogram: Array<{ le: number | null; count: number }>;
}

export const LATENCY_BUCKETS_MS = [5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 250, 500, 1000] as const;

export function summarizeLatency(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const histogram = [...LATENCY_BUCKETS_MS, Number.POSITIVE_INFINITY].map((le) => ({ le, count: 0 }));
  for (const value of sorted) histogram.find((bucket) => value <= bucket.le)!.count++;
  const at = (p: number) => (sorted.length === 0 ? Number.NaN : percentileOfSorted(sorted, p));
  return {
    samples: sorted.length,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: sorted.at(-1) ?? Number.NaN,
    histogram: histogram.map(({ le, count }) => ({ le: Number.isFinite(le) ? le : null, count })),
  };
}
