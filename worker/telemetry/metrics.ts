// Prometheus metrics of one worker process, in a registry of its own (tests create several).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ModelGauges, ModelTelemetry } from "../observability";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class WorkerMetrics {
  readonly registry = new Registry();

  readonly eventsProcessed = new Counter({
    name: "worker_events_processed_total",
    help: "Events whose results reached the sink",
    labelNames: ["partition"] as const,
    registers: [this.registry],
  });
  readonly eventsFailed = new Counter({
    name: "worker_events_failed_total",
    help: "Event failures: reason=attempt (a processor attempt failed and will be retried), reason=transient (a dependency was throttling or down; the event waits, never dead-lettered), reason=batch (a batch could not be made durable and will be re-run)",
    labelNames: ["partition", "reason"] as const,
    registers: [this.registry],
  });
  readonly eventsDeadLettered = new Counter({
    name: "worker_events_dead_lettered_total",
    help: "Events written to the dead-letter container",
    labelNames: ["partition"] as const,
    registers: [this.registry],
  });
  readonly partitionLag = new Gauge({
    name: "worker_partition_lag_events",
    help: "Last enqueued sequence number minus last processed sequence number, per owned partition",
    labelNames: ["partition"] as const,
    registers: [this.registry],
  });
  readonly processingSeconds = new Histogram({
    name: "worker_processing_duration_seconds",
    help: "Processor time per successfully processed event",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly endToEndSeconds = new Histogram({
    name: "worker_end_to_end_latency_seconds",
    help: "From the event's enqueued time to its result being durable",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly checkpointSeconds = new Histogram({
    name: "worker_checkpoint_duration_seconds",
    help: "Checkpoint write latency, retries included",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly checkpoints = new Counter({
    name: "worker_checkpoints_total",
    help: "Checkpoint decisions: written, skipped_backwards, skipped_not_owner, failed",
    labelNames: ["partition", "result"] as const,
    registers: [this.registry],
  });
  readonly ownedPartitions = new Gauge({
    name: "worker_owned_partitions",
    help: "Partitions this worker currently owns",
    registers: [this.registry],
  });
  readonly processingErrors = new Counter({
    name: "worker_subscription_errors_total",
    help: "Errors reported by the Event Hubs subscription (processError)",
    labelNames: ["partition"] as const,
    registers: [this.registry],
  });

  readonly modelRequests = new Counter({
    name: "worker_model_requests_total",
    help: "Model requests by deployment and outcome: ok, throttled (429), rejected (4xx for one event), failed (5xx, timeout, connection, 401/403/404)",
    labelNames: ["partition", "deployment", "outcome"] as const,
    registers: [this.registry],
  });
  readonly modelTokens = new Counter({
    name: "worker_model_tokens_total",
    help: "Tokens the model reported, by deployment, kind=prompt|completion",
    labelNames: ["partition", "deployment", "kind"] as const,
    registers: [this.registry],
  });

  /** The ModelTelemetry the model deployments report to. */
  readonly modelTelemetry: ModelTelemetry = {
    request: (partition, deployment, outcome) => this.modelRequests.inc({ partition, deployment, outcome }),
    tokens: (partition, deployment, prompt, completion) => {
      this.modelTokens.inc({ partition, deployment, kind: "prompt" }, prompt);
      if (completion > 0) this.modelTokens.inc({ partition, deployment, kind: "completion" }, completion);
    },
  };

  /** Gauges read from the router, and from each deployment's governor and circuit breaker, at each scrape. */
  observeModel(router: ModelGauges): void {
    type Deployment = ModelGauges["endpoints"][number];
    const perDeployment = (name: string, help: string, read: (s: ReturnType<Deployment["snapshot"]>, quota: Deployment["quota"]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["deployment"] as const,
        registers: [this.registry],
        collect() {
          for (const endpoint of router.endpoints) this.set({ deployment: endpoint.name }, read(endpoint.snapshot(), endpoint.quota));
        },
      });
    perDeployment("worker_model_concurrency_limit", "Requests the deployment's governor lets be in flight now (adaptive)", (s) => s.concurrencyLimit);
    perDeployment("worker_model_requests_in_flight", "Model requests in flight, per deployment", (s) => s.inFlight);
    perDeployment("worker_model_request_rate_limit", "Requests per second this process paces the deployment to (learned, its fleet share, or set); 0 = none", (s) => s.requestRate);
    perDeployment("worker_model_token_rate_limit", "Tokens per second this process paces the deployment to (learned, its fleet share, or set); 0 = none", (s) => s.tokenRate);
    perDeployment("worker_model_share_requests_per_second", "This process's share of the deployment's request quota, set by the fleet; 0 = not coordinated", (s) => s.share?.requestsPerSecond ?? 0);
    perDeployment("worker_model_quota_requests_per_second", "The deployment's request quota for the whole fleet (requestsPerMinute / 60); 0 = not configured", (_s, quota) => (quota.requestsPerMinute ?? 0) / 60);
    perDeployment("worker_model_circuit_open", "1 while the deployment's circuit is open or half-open (its requests held after repeated outage failures)", (s) => (s.circuit === "closed" ? 0 : 1));
    this.scrapedGauge("worker_model_requests_waiting", "Model requests waiting for a deployment", () => router.waiting);
    this.scrapedGauge("worker_model_quota_wait_seconds_total", "Time requests spent waiting for a deployment, summed", () => router.waitedMs / 1000);
  }

  constructor(options: { queueDepth?: () => number | undefined; processingThreads?: () => number | undefined } = {}) {
    // Default metrics include event-loop delay (nodejs_eventloop_lag_* from monitorEventLoopDelay).
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    const { queueDepth, processingThreads } = options;
    if (queueDepth) this.scrapedGauge("worker_processor_queue_depth", "Tasks waiting in the processor's bounded queue", queueDepth);
    if (processingThreads) this.scrapedGauge("worker_processing_threads", "Processing threads running (the pool starts them under load and stops idle ones)", processingThreads);
  }

  /** A gauge read when scraped, left as it was while `read` has no value. */
  private scrapedGauge(name: string, help: string, read: () => number | undefined): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        const value = read();
        if (value !== undefined) this.set(value);
      },
    });
  }
}
