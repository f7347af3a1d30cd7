// The workers' own view, from their Prometheus /metrics endpoints (worker/telemetry/metrics.ts): what each has
// processed and dead-lettered per partition, its lag gauge, owned partitions and end-to-end latency.

export interface WorkerMetricsView {
  url: string;
  error?: string;
  ownedPartitions?: number;
  processed?: Record<string, number>;
  deadLettered?: Record<string, number>;
  lag?: Record<string, number>;
  /** From the worker_end_to_end_latency_seconds histogram: mean, and the bucket bound that holds the 95th percentile. */
  latency?: { count: number; meanSeconds: number | null; p95Seconds: number | null };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || line.startsWith("#")) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[3] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[label[1] ?? ""] = label[2] ?? "";
    samples.push({ name: match[1] ?? "", labels, value: Number(match[4]) });
  }
  return samples;
}

function byPartition(samples: Sample[], name: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const s of samples) if (s.name === name && s.labels.partition !== undefined) result[s.labels.partition] = (result[s.labels.partition] ?? 0) + s.value;
  return result;
}

export function summarise(url: string, samples: Sample[]): WorkerMetricsView {
  const value = (name: string) => samples.find((s) => s.name === name)?.value;
  const count = value("worker_end_to_end_latency_seconds_count") ?? 0;
  const sum = value("worker_end_to_end_latency_seconds_sum") ?? 0;
  const buckets = samples
    .filter((s) => s.name === "worker_end_to_end_latency_seconds_bucket")
    .map((s) => ({ le: s.labels.le === "+Inf" ? Infinity : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
  const p95 = count > 0 ? buckets.find((b) => b.count >= 0.95 * count)?.le : undefined;
  return {
    url,
    ownedPartitions: value("worker_owned_partitions") ?? 0,
    processed: byPartition(samples, "worker_events_processed_total"),
    deadLettered: byPartition(samples, "worker_events_dead_lettered_total"),
    lag: byPartition(samples, "worker_partition_lag_events"),
    latency: { count, meanSeconds: count > 0 ? sum / count : null, p95Seconds: p95 === undefined || p95 === Infinity ? null : p95 },
  };
}

export async function readWorkerMetrics(urls: string[]): Promise<WorkerMetricsView[]> {
  return Promise.all(
    urls.map(async (url) => {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
        if (!response.ok) return { url, error: `HTTP ${response.status}` };
        return summarise(url, parsePrometheus(await response.text()));
      } catch (error) {
        return { url, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}
