import type { ReceivedEventData } from "@azure/event-hubs";
import type { Logger } from "pino";
import type { DeadLetterRecord } from "../common/dead-letter-record";
import { deadLetterBody } from "./dead-letter";
import { decodeEvent, messageIdOf, receivedInput, toIsoTime } from "./decode-event";
import { isPoisonEventError, isTransientFailure, retryAfterMsOf } from "./failures";
import { NO_TRACING, type Tracing } from "./observability";
import type { EventInput, EventSettlement, Processor } from "./processing/processor";
import { settle } from "./processing/settle";
import { RetryAbortedError, withRetry, type RetryPolicy } from "./retry";
import { plural } from "../common/plural";
import { PartialWriteError, type ResultRecord, type Sink } from "./sinks/sink";

export interface BatchOutcome {
  processed: number;
  deadLettered: number;
  /** Extra attempts spent on processing, sink writes and dead letters. */
  retries: number;
  /** Retries of events a dependency failed transiently (throttled, down): they wait, they never exhaust. */
  transientRetries: number;
  /** Per successful event, the processor's time for it. */
  processingMs: number[];
  /** Highest event whose result or dead letter is durable: safe to checkpoint. */
  lastEvent?: ReceivedEventData;
}

/** A batch after processing, before anything is written: what commit() makes durable. */
export interface ProcessedBatch {
  partitionId: string;
  records: ResultRecord[];
  deadLetters: DeadLetterRecord[];
  /** Extra processing attempts after ordinary failures. */
  retries: number;
  /** Extra processing attempts after transient failures. */
  transientRetries: number;
  processingMs: number[];
  /** The last event of the finished prefix (undefined when nothing finished). */
  lastEvent?: ReceivedEventData;
  /** Events after the finished prefix, left unfinished by an abort: they must be replayed. */
  interrupted: number;
  /** Kept by commit(): the parts already durable, which a later commit() of this batch does not write again. */
  written?: WrittenParts;
}

export interface WrittenParts {
  /** Sequence numbers of the results in the sink. */
  results: Set<number>;
  /** Sequence numbers of the dead letters in their store. */
  deadLetters: Set<number>;
}

export interface BatchPipelineDeps {
  processor: Processor;
  sink: Sink;
  deadLetters: { put(record: DeadLetterRecord): Promise<void> };
  retry: RetryPolicy;
  eventHubName: string;
  consumerGroup: string;
  /** Spans of the sink writes and dead letters (default: none). */
  tracing?: Tracing;
  logger?: Logger;
}

/** How a batch's processing stops early (see BatchPipeline). */
export interface StopSignals {
  /** Events not yet sent are not sent; events already sent finish, retries included. */
  stopStarting?: AbortSignal;
  /** Nothing more is tried. */
  abandon?: AbortSignal;
}

type EventOutcome =
  | { kind: "processed"; json: string; ms: number }
  | { kind: "failed"; error: unknown; attempts: number }
  | { kind: "interrupted" }; // stopped by the abort signal before it finished: neither written nor dead-lettered

/**
 * Processes one partition's batch so that one bad event never stalls the partition and nothing is lost, in
 * two steps: run() processes, commit() makes the outcome durable (process() does both).
 *
 * run(): the batch is handed to the processor at once: as received, in one processReceived call, when the
 * processor decodes bodies itself (the pool: its threads decode them, each taking a share of the batch per
 * message); else decoded here, in one processMany call when the processor has one (embeddings pack the batch
 * into few requests), else event by event (the model's rate governor bounds real concurrency). Failed events
 * are retried together in rounds (see settleAll); a body that cannot be decoded is poison. Events that fail
 * for good become dead letters with the error; transient failures never do. run() never rejects.
 *
 * commit(): the results go to the sink in sequence order, in one write, and the dead letters to their store.
 * Both are retried with the same policy; if one still fails, commit() rejects and nothing of this batch may
 * be checkpointed. Calling it again retries only what failed: a part that succeeded is kept on the batch
 * (ProcessedBatch.written) and never written again, so a dead-letter store outage does not append the same
 * results to the sink on every round, nor a sink outage rewrite the dead letters.
 *
 * Stopping (shutdown, a hand-over, a lost partition) comes in two steps, so that a model call already paid for
 * is not thrown away: `stopStarting` ends the waits of events not yet sent (for room in the processor: a pool
 * slot, a model deployment), while events already sent once run to completion, their retries included;
 * `abandon` ends everything, retries and their backoff too. An event stopped either way is interrupted. The
 * batch then keeps its prefix up to the first interrupted event: results and dead letters of that prefix are
 * committed, and lastEvent is the prefix's last event, so the checkpoint never passes an event that was not
 * finished; the rest is replayed by the next owner (at least once). Events are sent in order, so the events
 * sent form a prefix too: after `stopStarting` alone, nothing sent is replayed.
 */
export class BatchPipeline {
  private readonly tracing: Tracing;

  constructor(private readonly deps: BatchPipelineDeps) {
    this.tracing = deps.tracing ?? NO_TRACING;
  }

  async process(partitionId: string, events: ReceivedEventData[], stop: StopSignals = {}): Promise<BatchOutcome> {
    return this.commit(await this.run(partitionId, events, stop));
  }

  async run(partitionId: string, events: ReceivedEventData[], stop: StopSignals = {}): Promise<ProcessedBatch> {
    const ordered = [...events].sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    const batch: ProcessedBatch = { partitionId, records: [], deadLetters: [], retries: 0, transientRetries: 0, processingMs: [], interrupted: 0 };
    // A processor that decodes bodies itself (the pool, on its threads) gets them as received.
    const decoded = ordered.map((event) => (this.deps.processor.processReceived ? receivedInput(partitionId, event) : decodeOrPoison(partitionId, event)));
    const outcomes = await this.settleAll(partitionId, ordered, decoded, batch, stop);

    const firstInterrupted = outcomes.findIndex((o) => o.kind === "interrupted");
    const settledCount = firstInterrupted === -1 ? ordered.length : firstInterrupted;
    const processedAt = new Date().toISOString();
    for (let i = 0; i < settledCount; i++) {
      const event = ordered[i] as ReceivedEventData;
      const result = outcomes[i] as EventOutcome;
      if (result.kind === "processed") {
        batch.records.push(this.resultRecord(decoded[i] as EventInput, result.json, processedAt));
        batch.processingMs.push(result.ms);
      } else if (result.kind === "failed") {
        batch.deadLetters.push(this.deadLetterRecord(partitionId, event, result.error, result.attempts));
      }
    }
    if (settledCount > 0) batch.lastEvent = ordered[settledCount - 1];
    batch.interrupted = ordered.length - settledCount;
    if (batch.interrupted > 0) {
      this.deps.logger?.info(
        { partitionId, finished: settledCount, interrupted: batch.interrupted },
        "batch stopped early (shutdown, hand-over or lost partition); the events not finished are left for the next owner",
      );
    }
    return batch;
  }

  /**
   * Writes the batch's results and dead letters that are not durable yet. Not tied to any abort signal: this
   * is what makes finished work checkpointable.
   */
  async commit(batch: ProcessedBatch): Promise<BatchOutcome> {
    const { partitionId, records, deadLetters } = batch;
    const written = (batch.written ??= { results: new Set(), deadLetters: new Set() });
    const unwrittenResults = () => records.filter((record) => !written.results.has(record.sequenceNumber));
    const outcome: BatchOutcome = {
      processed: records.length,
      deadLettered: deadLetters.length,
      retries: batch.retries,
      transientRetries: batch.transientRetries,
      processingMs: batch.processingMs,
    };
    const unwrittenLetters = deadLetters.filter((record) => !written.deadLetters.has(record.sequenceNumber));
    const writes = await Promise.allSettled([
      unwrittenResults().length === 0
        ? Promise.resolve()
        : this.durably("sink write", partitionId, outcome, async () => {
            // Each try writes only what no earlier try made durable, even part of one write.
            const pending = unwrittenResults();
            const markWritten = (done: readonly ResultRecord[]) => done.forEach((record) => written.results.add(record.sequenceNumber));
            try {
              await this.tracing.traceSinkWrite(pending.length, () => this.deps.sink.write(pending));
            } catch (error) {
              if (error instanceof PartialWriteError) markWritten(error.durable);
              throw error;
            }
            markWritten(pending);
          }),
      ...unwrittenLetters.map((record) =>
        this.durably(`dead letter of sequence ${record.sequenceNumber}`, partitionId, outcome, () =>
          this.tracing.traceDeadLetter(this.deps.eventHubName, record, () => this.deps.deadLetters.put(record)),
        ).then(() => {
          written.deadLetters.add(record.sequenceNumber);
        }),
      ),
    ]);
    const failedWrite = writes.find((w): w is PromiseRejectedResult => w.status === "rejected");
    if (failedWrite) throw failedWrite.reason;
    if (batch.lastEvent) outcome.lastEvent = batch.lastEvent;
    return outcome;
  }

  /**
   * Rounds of attempts: every unsettled event is tried together (one processMany call, or one process call
   * each), then the failures wait one backoff (at least as long as any of them was asked to wait) and go again.
   * A poison failure settles at once; an ordinary one after RETRY_MAX_ATTEMPTS; a transient one never: the
   * batch, and with it the partition, waits for the dependency. The first round's waits for room end with
   * `stopStarting` (those events were never sent); later rounds only retry events already sent, so only
   * `abandon` ends them. Never rejects.
   */
  private async settleAll(
    partitionId: string,
    ordered: ReceivedEventData[],
    decoded: Array<EventInput | Error>,
    batch: ProcessedBatch,
    stop: StopSignals,
  ): Promise<EventOutcome[]> {
    const outcomes: EventOutcome[] = new Array(ordered.length);
    const attempts: number[] = new Array(ordered.length).fill(0);
    let pending: number[] = [];
    decoded.forEach((input, i) => {
      if (input instanceof Error) outcomes[i] = this.failed(partitionId, ordered[i] as ReceivedEventData, input, 1);
      else pending.push(i);
    });
    if (pending.length === 0) return outcomes;
    const { abandon } = stop;
    const firstRound = stop.stopStarting && abandon ? AbortSignal.any([stop.stopStarting, abandon]) : (stop.stopStarting ?? abandon);
    const round = async (number: number) => {
      const signal = number === 1 ? firstRound : abandon;
      const inputs = pending.map((i) => (number === 1 ? (decoded[i] as EventInput) : { ...(decoded[i] as EventInput), attempt: number }));
      const settlements = await this.attempt(inputs, signal);
      const failures: Array<{ index: number; error: unknown }> = [];
      pending.forEach((index, k) => {
        const settlement = settlements[k] as EventSettlement;
        const event = ordered[index] as ReceivedEventData;
        if (settlement.ok) {
          outcomes[index] = { kind: "processed", json: settlement.json, ms: settlement.ms };
          return;
        }
        const { error } = settlement;
        // Stopped while waiting for room (never sent), or abandoned: left for the next owner.
        if (!isPoisonEventError(error) && ((signal?.aborted && error === signal.reason) || abandon?.aborted)) {
          outcomes[index] = { kind: "interrupted" };
          return;
        }
        const transient = isTransientFailure(error);
        if (!transient) attempts[index] = (attempts[index] as number) + 1;
        if (isPoisonEventError(error) || (attempts[index] as number) >= this.deps.retry.maxAttempts) {
          outcomes[index] = this.failed(partitionId, event, error, Math.max(1, attempts[index] as number));
          return;
        }
        failures.push({ index, error });
        if (transient) batch.transientRetries++;
        else batch.retries++;
        const log = transient ? this.deps.logger?.debug : this.deps.logger?.warn;
        log?.call(
          this.deps.logger,
          { partitionId, sequenceNumber: event.sequenceNumber, attempt: attempts[index], transient, err: error },
          transient ? "dependency unavailable; the event waits and is retried" : "event processing failed; retrying",
        );
      });
      pending = failures.map((f) => f.index);
      if (failures.length > 0) throw new EventsToRetry(failures.map((f) => f.error));
    };
    try {
      // Rounds go on until every event has settled: the limit is on each event's own attempts, counted above.
      await withRetry(round, this.deps.retry, {
        attempts: Infinity,
        signal: abandon,
        isRetryable: (error) => error instanceof EventsToRetry,
        requestedDelayMs: retryAfterMsOf,
        onlyRequestedDelay: (error) => error instanceof EventsToRetry && error.throttledOnly,
      });
    } catch (error) {
      if (!(error instanceof RetryAbortedError)) throw error;
      for (const index of pending) outcomes[index] = { kind: "interrupted" };
    }
    return outcomes;
  }

  /** One attempt for each input: one processReceived or processMany call, or one process call per event. Never rejects. */
  private async attempt(inputs: EventInput[], signal: AbortSignal | undefined): Promise<EventSettlement[]> {
    const { processor } = this.deps;
    let settlements: EventSettlement[];
    if (signal?.aborted) settlements = inputs.map(() => ({ ok: false, error: signal.reason }));
    else if (processor.processReceived) {
      settlements = await processor.processReceived(inputs, signal).catch((error: unknown) => inputs.map((): EventSettlement => ({ ok: false, error })));
    } else if (processor.processMany) {
      settlements = await processor.processMany(inputs, signal).catch((error: unknown) => inputs.map((): EventSettlement => ({ ok: false, error })));
    } else {
      settlements = await Promise.all(inputs.map((input) => settle(() => processor.process(input, signal))));
    }
    return inputs.map((_, i) => settlements[i] ?? { ok: false, error: new Error("the processor returned no outcome for the event") });
  }

  private failed(partitionId: string, event: ReceivedEventData, error: unknown, attempts: number): EventOutcome {
    this.deps.logger?.warn(
      { partitionId, sequenceNumber: event.sequenceNumber, attempts, err: error },
      isPoisonEventError(error) ? "poison event; dead-lettering" : "event failed after all attempts; dead-lettering",
    );
    return { kind: "failed", error, attempts };
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

  /** From the event's decoded input, whose position fields are already in their written form. */
  private resultRecord(input: EventInput, resultJson: string, processedAt: string): ResultRecord {
    const { partitionId, sequenceNumber, offset, enqueuedTimeUtc, messageId } = input;
    const record: ResultRecord = { partitionId, sequenceNumber, offset, enqueuedTimeUtc, processor: this.deps.processor.name, processedAt, resultJson };
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
    if (event.partitionKey) record.partitionKey = event.partitionKey;
    return record;
  }
}

/** The processor's input for the event, or the PoisonEventError that says why its body cannot be one. */
function decodeOrPoison(partitionId: string, event: ReceivedEventData): EventInput | Error {
  try {
    return decodeEvent(partitionId, event);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Events of one processing round that go again together, after one backoff at least as long as any of them asked. */
class EventsToRetry extends Error {
  override readonly name = "EventsToRetry";
  /** The longest wait a failure asked for (a 429's Retry-After), if any did. */
  readonly retryAfterMs: number | undefined;
  /**
   * Throttled only: the service said how long to wait, and no longer (a model's router paces the retries itself);
   * growing the backoff round after round would leave the quota unused.
   */
  readonly throttledOnly: boolean;
  constructor(errors: unknown[]) {
    super(`${plural(errors.length, "event")} to retry`);
    const requested = Math.max(0, ...errors.map((error) => retryAfterMsOf(error) ?? 0));
    this.retryAfterMs = requested || undefined;
    this.throttledOnly = errors.every((error) => error instanceof Error && error.name === "ThrottledError");
  }
}
