// The explorer reads a worker's Prometheus text as prom-client writes it: the worker's own metrics registry.
import { describe, expect, it } from "vitest";
import { parsePrometheus, summarise } from "../../explorer/worker-metrics";
import { WorkerMetrics } from "../../worker/telemetry/metrics";

describe("worker metrics as the explorer reads them", () => {
  it("sums per-partition counters and gauges and summarises the end-to-end latency histogram", async () => {
    const metrics = new WorkerMetrics();
    metrics.eventsProcessed.inc({ partition: "0" }, 7);
    metrics.eventsProcessed.inc({ partition: "3" }, 2);
    metrics.eventsDeadLettered.inc({ partition: "3" });
    metrics.partitionLag.set({ partition: "0" }, 12);
    metrics.ownedPartitions.set(2);
    for (const seconds of [0.02, 0.02, 0.03, 0.04, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 3]) {
      metrics.endToEndSeconds.observe(seconds);
    }
    const view = summarise("http://worker/metrics", parsePrometheus(await metrics.registry.metrics()));
    expect(view).toMatchObject({
      ownedPartitions: 2,
      processed: { "0": 7, "3": 2 },
      deadLettered: { "3": 1 },
      lag: { "0": 12 },
      latency: { count: 20, p95Seconds: 0.25 },
    });
    expect(view.latency?.meanSeconds).toBeCloseTo(6.11 / 20, 5);
  });
});
