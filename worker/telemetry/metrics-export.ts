// The worker's Prometheus metrics, also sent through OpenTelemetry where nothing scrapes /metrics (Container Apps
// without ingress): with Azure Monitor on, every worker_* counter and gauge, and each histogram's _sum and _count,
// is read from the registry at each export, under its Prometheus name and labels. Off, nothing is registered.
import type { Meter, Observable } from "@opentelemetry/api";
import type { Registry } from "prom-client";

/** Observes the registry's worker metrics through the meter (startTracing's) from now on; call once every metric is registered. */
export function exportPrometheusMetrics(registry: Registry, meter: Meter): void {
  const instruments = new Map<string, Observable>();
  for (const { name, help, type: typed } of registry.getMetricsAsArray()) {
    if (!name.startsWith("worker_")) continue;
    const type = String(typed); // "counter", "gauge", "histogram" at run time, whatever the typings say
    if (type === "counter") instruments.set(name, meter.createObservableCounter(name, { description: help }));
    else if (type === "gauge") instruments.set(name, meter.createObservableGauge(name, { description: help }));
    else if (type === "histogram") {
      instruments.set(`${name}_sum`, meter.createObservableCounter(`${name}_sum`, { description: help }));
      instruments.set(`${name}_count`, meter.createObservableCounter(`${name}_count`, { description: help }));
    }
  }
  meter.addBatchObservableCallback(async (result) => {
    for (const metric of await registry.getMetricsAsJSON()) {
      // Histogram values carry their series name (x_bucket, x_sum, x_count).
      for (const value of metric.values as Array<{ value: number; labels: Record<string, string | number | undefined>; metricName?: string }>) {
        const instrument = instruments.get(value.metricName ?? metric.name);
        if (instrument) result.observe(instrument, value.value, value.labels as Record<string, string | number>);
      }
    }
  }, [...instruments.values()]);
}
