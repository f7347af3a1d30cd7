// The worker's spans (the Tracing of observability.ts) with OpenTelemetry, named and attributed after its semantic
// conventions (messaging, gen_ai). Attribute names are written out: the messaging and gen_ai conventions are only
// in the semantic-conventions package's unstable entry point.
import { SpanKind, SpanStatusCode, trace, type Attributes, type Link, type Span, type SpanOptions, type Tracer } from "@opentelemetry/api";
import type { ReceivedEventData } from "@azure/event-hubs";
import type { BatchCounts, DeadLetterFacts, ModelCallScope, PartitionScope, Tracing } from "../observability";

/** The producer context properties the Azure SDK (Diagnostic-Id) and W3C carriers (traceparent) stamp on events. */
const TRACE_PROPERTIES = ["Diagnostic-Id", "traceparent"] as const;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A link to the span that produced the event, if it carries a valid traceparent. */
function producerLink(properties: Record<string, unknown> | undefined, attributes: Attributes): Link | undefined {
  for (const name of TRACE_PROPERTIES) {
    const value = properties?.[name];
    const match = typeof value === "string" ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
    if (!match || match[1] === "ff" || /^0+$/.test(match[2] as string) || /^0+$/.test(match[3] as string)) continue;
    return { context: { traceId: match[2] as string, spanId: match[3] as string, traceFlags: Number.parseInt(match[4] as string, 16) & 1, isRemote: true }, attributes };
  }
  return undefined;
}

function recordFailure(span: Span, error: unknown): void {
  span.setAttribute("error.type", error instanceof Error ? error.name : "Error");
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** Runs `work` inside a span that ends when it settles; a rejection marks the span failed. */
function inSpan<T>(tracer: Tracer, name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

const messagingAttributes = (scope: PartitionScope, operation: string): Attributes => ({
  "messaging.system": "eventhubs",
  "messaging.operation.type": operation === "settle" ? "settle" : "process",
  "messaging.operation.name": operation,
  "messaging.destination.name": scope.eventHubName,
  "messaging.destination.partition.id": scope.partitionId,
  "messaging.consumer.group.name": scope.consumerGroup,
  "server.address": scope.fullyQualifiedNamespace,
});

/** What the model answered, read from chat completions and embeddings responses alike. */
interface ModelAnswer {
  model?: string;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  choices?: Array<{ finish_reason?: string | null }>;
}

/** Tracing with an OpenTelemetry tracer, from startTracing (tracing.ts). */
export class OpenTelemetryTracing implements Tracing {
  constructor(private readonly tracer: Tracer) {}

  /**
   * One consumer span per batch, from receipt to its results being durable, linked to each event's producer
   * span. Model calls, sink writes, dead letters and checkpoints started inside `work` become its children.
   */
  traceBatch<T>(scope: PartitionScope, events: readonly ReceivedEventData[], work: () => Promise<T>): Promise<T> {
    const links: Link[] = [];
    for (const event of events) {
      const link = producerLink(event.properties, { "messaging.eventhubs.message.sequence_number": event.sequenceNumber });
      if (link) links.push(link);
    }
    const attributes: Attributes = { ...messagingAttributes(scope, "process"), "messaging.batch.message_count": events.length };
    return inSpan(this.tracer, `process ${scope.eventHubName}`, { kind: SpanKind.CONSUMER, attributes, links }, () => work());
  }

  /** Adds what became of the batch to its span (the active one). */
  annotateBatch(outcome: BatchCounts): void {
    trace.getActiveSpan()?.setAttributes({
      "worker.batch.processed": outcome.processed,
      "worker.batch.dead_lettered": outcome.deadLettered,
      "worker.batch.retries": outcome.retries,
      "worker.batch.transient_retries": outcome.transientRetries,
    });
  }

  /** One attempt to write a batch's results to the sink. */
  traceSinkWrite<T>(records: number, work: () => Promise<T>): Promise<T> {
    return inSpan(this.tracer, "sink write", { kind: SpanKind.CLIENT, attributes: { "worker.sink.records": records } }, () => work());
  }

  /** One attempt to store a dead letter, with the reason; linked to the event's producer span. */
  traceDeadLetter<T>(hub: string, record: DeadLetterFacts, work: () => Promise<T>): Promise<T> {
    const attributes: Attributes = {
      "messaging.destination.name": hub,
      "messaging.destination.partition.id": record.partitionId,
      "messaging.eventhubs.message.sequence_number": record.sequenceNumber,
      "worker.dead_letter.reason": record.error.message,
      "worker.dead_letter.error_type": record.error.name,
      "worker.dead_letter.attempts": record.error.attempts,
    };
    if (record.messageId !== undefined) attributes["messaging.message.id"] = record.messageId;
    const link = producerLink(record.properties, {});
    return inSpan(this.tracer, "dead letter", { kind: SpanKind.INTERNAL, attributes, links: link ? [link] : [] }, () => work());
  }

  /** A checkpoint write (retries included), a settle operation in the messaging conventions. */
  traceCheckpoint<T>(scope: PartitionScope, sequenceNumber: number, work: () => Promise<T>): Promise<T> {
    const attributes: Attributes = { ...messagingAttributes(scope, "checkpoint"), "messaging.eventhubs.message.sequence_number": sequenceNumber };
    return inSpan(this.tracer, `checkpoint ${scope.eventHubName}`, { kind: SpanKind.CLIENT, attributes }, () => work());
  }

  /**
   * A generative-AI client span per model request: model, token usage, finish reasons; a 429 is recorded as an
   * event with the wait the service asked for, and the span fails with error.type 429.
   */
  traceModelCall<T>(call: ModelCallScope, operation: "chat" | "embeddings", work: () => Promise<T>): Promise<T> {
    const attributes: Attributes = {
      "gen_ai.operation.name": operation,
      "gen_ai.system": call.system,
      "gen_ai.request.model": call.model,
      "server.address": call.serverAddress,
      "worker.model.deployment": call.deployment,
    };
    return inSpan(this.tracer, `${operation} ${call.model}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        const answer = await work();
        annotateAnswer(span, answer as ModelAnswer);
        return answer;
      } catch (error) {
        if (error instanceof Error && error.name === "ThrottledError") {
          const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
          span.addEvent("gen_ai.throttled", { "http.response.status_code": 429, ...(retryAfterMs !== undefined ? { "worker.retry_after_ms": retryAfterMs } : {}) });
          span.setAttribute("http.response.status_code", 429);
        }
        throw error;
      }
    });
  }
}

function annotateAnswer(span: Span, answer: ModelAnswer): void {
  if (answer.model) span.setAttribute("gen_ai.response.model", answer.model);
  const usage = answer.usage;
  if (typeof usage?.prompt_tokens === "number") span.setAttribute("gen_ai.usage.input_tokens", usage.prompt_tokens);
  if (typeof usage?.completion_tokens === "number") span.setAttribute("gen_ai.usage.output_tokens", usage.completion_tokens);
  const reasons = (answer.choices ?? []).map((c) => c.finish_reason).filter((r): r is string => typeof r === "string");
  if (reasons.length > 0) span.setAttribute("gen_ai.response.finish_reasons", reasons);
}
