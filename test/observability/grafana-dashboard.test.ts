// The Grafana dashboard draws only metrics the worker exports: every PromQL expression's metric names are read
// from a real WorkerMetrics registry (histograms with their _bucket/_sum/_count series), so renaming a metric
// without the dashboard fails here.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { WorkerMetrics } from "../../worker/telemetry/metrics";

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown }> };
}

const dashboard = JSON.parse(readFileSync("observability/grafana-dashboard.json", "utf8")) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== "row");

/** Every series name the worker exposes on /metrics, with the model gauges and the queue gauge registered. */
async function exportedSeries(): Promise<Set<string>> {
  const metrics = new WorkerMetrics({ queueDepth: () => 0 });
  const snapshot = { name: "primary", priority: 0, concurrencyLimit: 1, inFlight: 0, requestRate: 0, tokenRate: 0, pausedForMs: 0, circuit: "closed" as const };
  metrics.observeModel({ endpoints: [{ snapshot: () => snapshot, name: "primary", quota: {} }] as never, waiting: 0, waitedMs: 0 });
  const series = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    series.add(metric.name);
    if (["histogram", "summary"].includes(String(metric.type))) for (const suffix of ["_bucket", "_sum", "_count"]) series.add(`${metric.name}${suffix}`);
  }
  return series;
}

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool", "inf", "nan"]);

/** The metric names a PromQL expression selects: identifiers that are not functions, keywords, labels or variables. */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // ranges
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ") // grouping labels
    .replace(/\$\{?\w+\}?/g, " "); // Grafana variables
  const names: string[] = [];
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = stripped.slice((match.index ?? 0) + match[0].length).trimStart();
    if (after.startsWith("(") || KEYWORDS.has(match[0].toLowerCase())) continue;
    names.push(match[0]);
  }
  return names;
}

describe("Grafana dashboard", () => {
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? "" })));

  it("finds the metric names in PromQL", () => {
    expect(metricNamesIn('histogram_quantile(0.95, sum by (le) (rate(a_bucket{job=~"$job",x="y"}[$__rate_interval])))')).toEqual(["a_bucket"]);
    expect(metricNamesIn("sum(rate(a_total[5m])) / sum without (partition) (b)")).toEqual(["a_total", "b"]);
  });

  it("names only metrics the worker exports, in every query", async () => {
    const series = await exportedSeries();
    expect(exprs.length).toBeGreaterThan(10);
    for (const { panel, expr } of exprs) {
      const names = metricNamesIn(expr);
      expect(names, `${panel}: ${expr}`).not.toHaveLength(0);
      for (const name of names) expect(series.has(name), `${panel}: "${name}" is not a metric the worker exports (${expr})`).toBe(true);
    }
    for (const variable of dashboard.templating.list.filter((v) => v.type === "query")) {
      const query = JSON.stringify(variable.query);
      const metric = /label_values\((\w+),/.exec(query)?.[1];
      expect(metric && series.has(metric), `variable ${variable.name}: ${query}`).toBe(true);
    }
  });

  it("draws what operators ask for: lag, throughput, latency, dead letters, model use, the fleet's quota use and ownership", () => {
    const drawn = new Set(exprs.flatMap(({ expr }) => metricNamesIn(expr)));
    for (const metric of [
      "worker_partition_lag_events",
      "worker_events_processed_total",
      "worker_end_to_end_latency_seconds_bucket",
      "worker_events_dead_lettered_total",
      "worker_model_requests_total",
      "worker_model_tokens_total",
      "worker_owned_partitions",
      "worker_model_share_requests_per_second",
      "worker_model_quota_requests_per_second",
      "worker_model_circuit_open",
    ]) {
      expect(drawn.has(metric), metric).toBe(true);
    }
    expect(exprs.some(({ expr }) => expr.includes('outcome="throttled"'))).toBe(true);
  });

  it("takes a deployment's fleet quota as the max over the replicas, never their sum", () => {
    // Every replica states the whole fleet's quota: summing N replicas would draw N quotas.
    const quotaExprs = exprs.filter(({ expr }) => expr.includes("worker_model_quota_requests_per_second"));
    expect(quotaExprs.length).toBeGreaterThan(0);
    for (const { panel, expr } of quotaExprs) {
      expect(expr, panel).toMatch(/\bmax(?:\s+by\s*\([^)]*\))?\s*\(\s*worker_model_quota_requests_per_second\b/);
    }
  });

  it("queries through the Prometheus datasource variable", () => {
    expect(dashboard.templating.list.find((v) => v.name === "datasource")).toMatchObject({ type: "datasource", query: "prometheus" });
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      for (const target of panel.targets ?? []) expect(target.datasource, panel.title).toEqual({ type: "prometheus", uid: "${datasource}" });
    }
  });
});
