// What the worker's code reports, declared beside it so that it imports no telemetry: the spans it opens (Tracing)
// and what the model deployments count and show (ModelTelemetry, ModelGauges). telemetry/ implements these
// (spans.ts with OpenTelemetry, metrics.ts with Prometheus) and the wiring (consumer.ts) hands them in; a new
// tracing backend is one more implementation of Tracing, and nothing here or in the domain changes.
import type { ReceivedEventData } from "@azure/event-hubs";

export interface PartitionScope {
  fullyQualifiedNamespace: string;
  eventHubName: string;
  consumerGroup: string;
  partitionId: string;
}

/** What a dead letter's span says about it. */
export interface DeadLetterFacts {
  partitionId: string;
  sequenceNumber: number;
  messageId?: string;
  properties: Record<string, unknown>;
  error: { name: string; message: string; attempts: number };
}

/** The deployment a model request goes to, as its span names it. */
export interface ModelCallScope {
  /** gen_ai.system: az.ai.openai or openai. */
  system: string;
  model: string;
  /** The deployment's name in MODEL_DEPLOYMENTS. */
  deployment: string;
  serverAddress: string;
}

/** What a batch became, added to its span. */
export interface BatchCounts {
  processed: number;
  deadLettered: number;
  retries: number;
  transientRetries: number;
}

/**
 * The spans the worker opens. Each `trace...` runs `work` inside its span, which ends when the work settles; a
 * rejection marks it failed. Spans started inside a batch's work become the batch span's children.
 */
export interface Tracing {
  /** One span per batch, from receipt to its results being durable, linked to each event's producer. */
  traceBatch<T>(scope: PartitionScope, events: readonly ReceivedEventData[], work: () => Promise<T>): Promise<T>;
  /** Adds what became of the batch to its span (the one active now). */
  annotateBatch(outcome: BatchCounts): void;
  /** One attempt to write a batch's results to the sink. */
  traceSinkWrite<T>(records: number, work: () => Promise<T>): Promise<T>;
  /** One attempt to store a dead letter, with the reason. */
  traceDeadLetter<T>(hub: string, record: DeadLetterFacts, work: () => Promise<T>): Promise<T>;
  /** A checkpoint write, retries included. */
  traceCheckpoint<T>(scope: PartitionScope, sequenceNumber: number, work: () => Promise<T>): Promise<T>;
  /** One model request: its answer's model and token usage, or its throttling. */
  traceModelCall<T>(call: ModelCallScope, operation: "chat" | "embeddings", work: () => Promise<T>): Promise<T>;
}

/** Tracing off: every work runs directly, with no span and no allocation beyond the call. */
export const NO_TRACING: Tracing = {
  traceBatch: (_scope, _events, work) => work(),
  annotateBatch: () => undefined,
  traceSinkWrite: (_records, work) => work(),
  traceDeadLetter: (_hub, _record, work) => work(),
  traceCheckpoint: (_scope, _sequenceNumber, work) => work(),
  traceModelCall: (_call, _operation, work) => work(),
};

export type ModelRequestOutcome = "ok" | "throttled" | "rejected" | "failed";

/** What a model deployment counts; the worker's Prometheus metrics implement it. */
export interface ModelTelemetry {
  request(partitionId: string, deployment: string, outcome: ModelRequestOutcome): void;
  tokens(partitionId: string, deployment: string, prompt: number, completion: number): void;
}

/** What the metrics read from the model router at each scrape: each deployment's state, and the router's queue. */
export interface ModelGauges {
  readonly endpoints: ReadonlyArray<{
    readonly name: string;
    readonly quota: { requestsPerMinute?: number };
    snapshot(): {
      concurrencyLimit: number;
      inFlight: number;
      requestRate: number;
      tokenRate: number;
      share?: { requestsPerSecond: number };
      circuit: string;
    };
  }>;
  readonly waiting: number;
  readonly waitedMs: number;
}
