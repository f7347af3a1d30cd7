import type { ReceivedEventData } from "@azure/event-hubs";
import type { Logger } from "pino";
import { deadLetterBody, type DeadLetterRecord } from "./dead-letter";
import { decodeEvent, messageIdOf, toIsoTime } from "./decode-event";
import { isPoisonEventError, retryAfterMsOf, type Processor } from "./processing/processor";
import { withRetry, type RetryPolicy } from "./retry";
import type { ResultRecord, Sink } from "./sinks/sink";

export interface BatchOutcome {
  processed: number;
  deadLettered: number;
  /** Extra attempts spent on processing, sink writes and dead letters. */
  retries: number;
  /** Per successful event, from its first attempt to its result. */
  processingMs: number[];
  /** Highest event whose result or dead letter is durable: safe to checkpoint. */
  lastEvent?: ReceivedEventData;
}

export interface BatchProcessorDeps {
  processor: Processor;
  sink: Sink;
  deadLetters: { put(record: DeadLetterRecord): Promise<void> };
  retry: RetryPolicy;
  eventHubName: string;
  consumerGroup: string;
  logger?: Logger;
}

type EventOutcome =
  | { kind: "processed"; result: unknown; ms: number }
  | { kind: "failed"; error: unknown; attempts: number }
  | { kind: "interrupted" }; // stopped by the abort signal before it finished: neither written nor dead-lettered

/**
 * Processes one partition's batch so that one bad event never stalls the partition and nothing is lost.
 *
 * Every event is decoded and handed to the processor at once (the pool or the HTTP semaphore bounds real
 * concurrency); each is retried on its own with withRetry, except PoisonEventError. Events that fail for
 * good go to the dead-letter store with the error; the results go to the sink in sequence order, in one
 * write. Sink and dead-letter writes are retried with the same policy; if they still fail, process() rejects
 * and nothing of this batch may be checkpointed.
 *
 * Abort (shutdown): work already started finishes, nothing new starts. An event still waiting for room in
 * the processor, or waiting to retry, is interrupted. The batch then keeps its prefix up to the first
 * interrupted event: results and dead letters of that prefix are written, and lastEvent is the prefix's
 * last event, so the checkpoint never passes an event that was not finished; the rest is replayed by the
 * next owner (at least once).
 */
export class BatchProcessor {
  constructor(private readonly deps: BatchProcessorDeps) {}

  async process(partitionId: string, events: ReceivedEventData[], signal?: AbortSignal): Promise<BatchOutcome> {
    const ordered = [...events].sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    const outcome: BatchOutcome = { processed: 0, deadLettered: 0, retries: 0, processingMs: [] };
    const eventOutcomes = await Promise.all(ordered.map((event) => this.processEvent(partitionId, event, outcome, signal)));

    const firstInterrupted = eventOutcomes.findIndex((o) => o.kind === "interrupted");
    const settledCount = firstInterrupted === -1 ? ordered.length : firstInterrupted;
    const records: ResultRecord[] = [];
    const deadLetters: DeadLetterRecord[] = [];
    for (let i = 0; i < settledCount; i++) {
      const event = ordered[i] as ReceivedEventData;
      const result = eventOutcomes[i] as EventOutcome;
      if (result.kind === "processed") {
        records.push(this.resultRecord(partitionId, event, result.result));
        outcome.processingMs.push(result.ms);
      }
      else if (result.kind === "failed") deadLetters.push(this.deadLetterRecord(partitionId, event, result.error, result.attempts));
    }

    // Durable writes are not tied to the abort signal: they are what makes the finished work checkpointable.
    const writes = await Promise.allSettled([
      records.length > 0 ? this.durably("sink write", partitionId, outcome, () => this.deps.sink.write(records)) : Promise.resolve(),
      ...deadLetters.map((record) =>
        this.durably(`dead letter of sequence ${record.sequenceNumber}`, partitionId, outcome, () => this.deps.deadLetters.put(record)),
      ),
    ]);
    const failedWrite = writes.find((w): w is PromiseRejectedResult => w.status === "rejected");
    if (failedWrite) throw failedWrite.reason;

    outcome.processed = records.length;
    outcome.deadLettered = deadLetters.length;
    if (settledCount > 0) outcome.lastEvent = ordered[settledCount - 1];
    if (firstInterrupted !== -1) {
      this.deps.logger?.info(
        { partitionId, finished: settledCount, interrupted: ordered.length - settledCount },
        "batch interrupted by shutdown; unfinished events will be replayed",
      );
    }
    return outcome;
  }

  private async processEvent(
    partitionId: string,
    event: ReceivedEventData,
    outcome: BatchOutcome,
    signal: AbortSignal | undefined,
  ): Promise<EventOutcome> {
    const started = performance.now();
    let attempts = 0;
    try {
      const input = decodeEvent(partitionId, event);
      const result = await withRetry(
        (attempt) => {
          attempts = attempt;
          return this.deps.processor.process(input, signal);
        },
        this.deps.retry,
        {
          ...(signal ? { signal } : {}),
          retryAfterMs: retryAfterMsOf,
          onRetry: (error, attempt, delayMs) => {
            outcome.retries++;
            this.deps.logger?.warn(
              { partitionId, sequenceNumber: event.sequenceNumber, attempt, delayMs, err: error },
              "event processing failed; retrying",
            );
          },
        },
      );
      return { kind: "processed", result, ms: performance.now() - started };
    } catch (error) {
      if (signal?.aborted && !isPoisonEventError(error)) return { kind: "interrupted" };
      this.deps.logger?.warn(
        { partitionId, sequenceNumber: event.sequenceNumber, attempts, err: error },
        isPoisonEventError(error) ? "poison event; dead-lettering" : "event failed after all attempts; dead-lettering",
      );
      return { kind: "failed", error, attempts: Math.max(1, attempts) };
    }
  }

  private durably(what: string, partitionId: string, outcome: BatchOutcome, write: () => Promise<void>): Promise<void> {
    return withRetry(() => write(), this.deps.retry, {
      isRetryable: () => true,
      onRetry: (error, attempt, delayMs) => {
        outcome.retries++;
        this.deps.logger?.warn({ partitionId, attempt, delayMs, err: error }, `${what} failed; retrying`);
      },
    });
  }

  private resultRecord(partitionId: string, event: ReceivedEventData, result: unknown): ResultRecord {
    const record: ResultRecord = {
      partitionId,
      sequenceNumber: event.sequenceNumber,
      offset: String(event.offset),
      enqueuedTimeUtc: toIsoTime(event.enqueuedTimeUtc),
      processor: this.deps.processor.name,
      processedAt: new Date().toISOString(),
      result,
    };
    const messageId = messageIdOf(event);
    if (messageId !== undefined) record.messageId = messageId;
    return record;
  }

  private deadLetterRecord(partitionId: string, event: ReceivedEventData, error: unknown, attempts: number): DeadLetterRecord {
    const record: DeadLetterRecord = {
      eventHubName: this.deps.eventHubName,
      consumerGroup: this.deps.consumerGroup,
      partitionId,
      sequenceNumber: event.sequenceNumber,
      offset: String(event.offset),
      enqueuedTimeUtc: toIsoTime(event.enqueuedTimeUtc),
      properties: { ...event.properties },
      body: deadLetterBody(event.body, event.contentType),
      error: {
        name: error instanceof Error ? error.name : "Error",
        message: error instanceof Error ? error.message : String(error),
        attempts,
      },
      deadLetteredAt: new Date().toISOString(),
    };
    const messageId = messageIdOf(event);
    if (messageId !== undefined) record.messageId = messageId;
    if (event.contentType !== undefined) record.contentType = event.contentType;
    return record;
  }
}
