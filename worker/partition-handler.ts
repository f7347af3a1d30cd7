// The subscription's event handlers. processEvents never throws on a processing failure: a throw would stop
// the partition until its ownership expires and then replay it, so every failure is handled here. Poison
// events are dead-lettered by the BatchPipeline; if the sink or dead-letter store stays down, the batch's
// writes that failed (only those: a part already durable is not written again) are retried with backoff
// (the partition pauses, nothing is checkpointed past the failure) until they succeed or the partition closes.
//
// Batches are pipelined: processEvents hands a batch to the processor and returns while fewer than
// BATCHES_IN_FLIGHT of the partition's batches are unfinished, so the SDK receives the next batch while this
// one is processed and the processor never waits for a round trip. Processing overlaps; committing does not:
// a batch is written and recorded for checkpointing only after the one before it, so results and
// checkpoints keep sequence order. If a batch is left unfinished (shutdown), the later ones are not
// committed either: they are replayed with it.
//
// The one deliberate throw is a fence: when this worker no longer owns a partition (another worker's claim
// seen in the ownership listing, our renewals failing past the expiration interval, or a hand-over) but the
// SDK still pumps it, a NotPartitionOwnerError makes the SDK stop that pump. Processing it anyway would
// duplicate the owner's work without ever checkpointing; skipping batches instead could lose events if the
// same pump is later owned again. A stopped pump is restarted from the checkpoint when the partition is
// claimed again.
//
// Stopping a partition costs no model call twice when it is planned: a drain (shutdown) or a hand-over stops
// sending new events, lets the events already sent finish (their retries too), commits and checkpoints where
// they end, and only then lets the partition go. A partition lost to another owner stops everything at once:
// its events still queued are dropped before they cost anything.
import {
  CloseReason,
  type PartitionContext,
  type ReceivedEventData,
  type SubscriptionEventHandlers,
} from "@azure/event-hubs";
import type { Logger } from "pino";
import type { BatchOutcome, ProcessedBatch, StopSignals } from "./batch-pipeline";
import { PartitionCheckpointer, type CheckpointSchedule } from "./checkpoint-policy";
import { NO_TRACING, type Tracing } from "./observability";
import type { OwnershipTracker } from "./ownership-tracker";
import { withRetry, type RetryPolicy } from "./retry";
import { errorFields } from "./telemetry/logger";
import type { WorkerMetrics } from "./telemetry/metrics";

/**
 * Per partition: one batch being processed while the SDK receives the next. That keeps the pool fed (in a
 * profiled drain the analysis thread's idle time fell from about 30% to under 5%); each extra batch is memory.
 */
const BATCHES_IN_FLIGHT = 2;

export interface BatchRunner {
  /** Processes the events; never rejects. */
  run(partitionId: string, events: ReceivedEventData[], stop: StopSignals): Promise<ProcessedBatch>;
  /** Makes a processed batch durable; rejects if it could not, and may be called again: it redoes only what failed. */
  commit(batch: ProcessedBatch): Promise<BatchOutcome>;
}

export class NotPartitionOwnerError extends Error {
  override readonly name = "NotPartitionOwnerError";
  constructor(readonly partitionId: string, why: string) {
    super(`partition ${partitionId} is not this worker's any more (${why}): stopping this worker's pump for it`);
  }
}

interface PartitionState {
  readonly checkpointer: PartitionCheckpointer;
  /** Aborted when the partition closes or is lost: ends everything, backoff waits and retries included. */
  readonly closed: AbortController;
  /** Aborted when the partition is handed over: events not yet sent are not sent. */
  readonly stopStarting: AbortController;
  /** Batches taken and not yet finished (committed or abandoned). */
  readonly inFlight: Set<Promise<void>>;
  /** Settles when the newest batch is finished: true if it was committed whole, so the next one may commit. */
  commitTail: Promise<boolean>;
  lastSequenceNumber: number | undefined;
  /** Stopped by the fence: it closes like a lost partition. */
  fenced: boolean;
  /** Being handed over to another worker: no new batch is taken. */
  handingOver: boolean;
  /** Handed over: its ownership was released, so closing it writes no checkpoint. */
  released: boolean;
}

export interface PartitionHandlerDeps {
  batches: BatchRunner;
  ownership: OwnershipTracker;
  schedule: CheckpointSchedule;
  /** Checkpoint writes and the stored-checkpoint read. */
  storageRetry: RetryPolicy;
  /** Backoff between re-runs of a batch that could not be made durable; never gives up. */
  batchRetry: RetryPolicy;
  metrics: WorkerMetrics;
  /** Spans of the batches and checkpoints (default: none). */
  tracing?: Tracing;
  logger: Logger;
}

export class PartitionHandler {
  private readonly partitions = new Map<string, PartitionState>();
  /** Set by drain(): new batches are not taken, and events not yet sent are not sent. */
  private readonly draining = new AbortController();
  /** Set when drain()'s deadline passes: everything still running is abandoned. */
  private readonly abandonAll = new AbortController();

  private readonly tracing: Tracing;

  constructor(private readonly deps: PartitionHandlerDeps) {
    this.tracing = deps.tracing ?? NO_TRACING;
  }

  readonly handlers: SubscriptionEventHandlers = {
    processInitialize: (context) => this.initialize(context),
    processEvents: (events, context) => this.processEvents(events, context),
    processError: async (error, context) => this.reportError(error, context),
    processClose: (reason, context) => this.close(reason, context),
  };

  /**
   * Stop taking batches and sending events, let the events already sent finish, and checkpoint what is durable.
   * After `deadlineMs` whatever still runs (retries of an event the model keeps refusing) is abandoned. Each
   * partition flushes as soon as its own batches are done, so one stuck partition does not keep the others'
   * checkpoints from being written before the shutdown deadline. Never throws.
   */
  async drain(deadlineMs?: number): Promise<void> {
    this.draining.abort();
    const deadline = deadlineMs === undefined ? undefined : setTimeout(() => this.abandonAll.abort(), deadlineMs);
    try {
      await Promise.all(
        [...this.partitions.values()].map(async (state) => {
          await settled(state.inFlight);
          if (!state.released) await state.checkpointer.flush();
        }),
      );
    } finally {
      clearTimeout(deadline);
    }
  }

  /**
   * Hands a partition over to the worker that asked for it: no new event is sent, the events already sent finish
   * (abandoned after `deadlineMs`), their results are committed and checkpointed, then ownership is released for
   * the other worker to claim, which starts exactly where this one stopped. Resolves whether it was released.
   */
  async handOver(partitionId: string, deadlineMs: number): Promise<boolean> {
    const state = this.partitions.get(partitionId);
    if (!state || state.handingOver || state.closed.signal.aborted || this.draining.signal.aborted) return false;
    const { ownership, logger } = this.deps;
    state.handingOver = true;
    state.stopStarting.abort(new Error(`partition ${partitionId} is being handed over`));
    const deadline = setTimeout(() => state.closed.abort(), deadlineMs);
    await settled(state.inFlight);
    clearTimeout(deadline);
    const checkpoint = await state.checkpointer.flush();
    const released = await ownership.release(partitionId).catch((error: unknown) => {
      logger.warn({ partitionId, err: errorFields(error) }, "could not release the partition; the other worker takes it when this ownership expires");
      return false;
    });
    state.released = true;
    state.closed.abort(); // lets the held pump stop
    logger.info({ partitionId, checkpoint, released }, "partition handed over: the events already sent were finished and checkpointed");
    return released;
  }

  /** Another worker owns the partition now: stop its work at once, so its queued events cost nothing. */
  lost(partitionId: string): void {
    const state = this.partitions.get(partitionId);
    if (!state || state.handingOver) return;
    state.closed.abort();
  }

  /** Partitions being handed over right now. */
  handingOver(): string[] {
    return [...this.partitions].filter(([, state]) => state.handingOver && !state.released).map(([partition]) => partition);
  }

  /** Partitions with a running handler (for progress displays and tests). */
  activePartitions(): string[] {
    return [...this.partitions.keys()];
  }

  private async initialize(context: PartitionContext): Promise<void> {
    const state = this.stateOf(context);
    try {
      const stored = await state.checkpointer.loadStoredCheckpoint();
      this.deps.logger.info(
        { partitionId: context.partitionId, checkpoint: stored?.sequenceNumber ?? null },
        "partition started",
      );
    } catch (error) {
      // Our own writes still never go backwards; only a concurrent stale owner is not guarded against.
      this.deps.logger.warn({ partitionId: context.partitionId, err: errorFields(error) }, "could not read the stored checkpoint");
    }
  }

  private stateOf(context: PartitionContext): PartitionState {
    const existing = this.partitions.get(context.partitionId);
    if (existing && !existing.closed.signal.aborted) return existing;
    const { ownership, schedule, storageRetry, metrics, logger } = this.deps;
    const state: PartitionState = {
      checkpointer: new PartitionCheckpointer({
        scope: {
          fullyQualifiedNamespace: context.fullyQualifiedNamespace,
          eventHubName: context.eventHubName,
          consumerGroup: context.consumerGroup,
          partitionId: context.partitionId,
        },
        store: ownership,
        schedule,
        retry: storageRetry,
        isOwner: () => ownership.isOwner(context.partitionId),
        metrics,
        tracing: this.tracing,
        logger,
      }),
      closed: new AbortController(),
      stopStarting: new AbortController(),
      inFlight: new Set(),
      commitTail: Promise.resolve(true),
      lastSequenceNumber: undefined,
      fenced: false,
      handingOver: false,
      released: false,
    };
    this.partitions.set(context.partitionId, state);
    return state;
  }

  private async processEvents(events: ReceivedEventData[], context: PartitionContext): Promise<void> {
    const state = this.stateOf(context);
    if (state.handingOver) {
      // Held until the hand-over has released the partition, then the pump stops.
      await waitForAbort(state.closed.signal);
      throw new NotPartitionOwnerError(context.partitionId, "handed over to another worker");
    }
    if (this.draining.signal.aborted || state.closed.signal.aborted) {
      // Shutting down: leave these events for the next owner; hold the pump until the subscription closes.
      await waitForAbort(state.closed.signal);
      return;
    }
    if (!this.deps.ownership.isOwner(context.partitionId)) {
      state.fenced = true;
      throw new NotPartitionOwnerError(context.partitionId, this.deps.ownership.whyNotOwner(context.partitionId));
    }
    this.updateLag(state, events, context);
    if (events.length === 0) {
      // Empty batches arrive every MAX_WAIT_MS, so the time-based schedule is honoured on idle partitions too.
      await state.checkpointer.checkpointIfDue();
      return;
    }
    this.deps.logger.debug({ partitionId: context.partitionId, events: events.length, first: events[0]?.sequenceNumber }, "batch received");
    const batch = this.tracing.traceBatch(context, events, () => this.startBatch(state, events, context.partitionId));
    state.inFlight.add(batch);
    void batch.finally(() => state.inFlight.delete(batch));
    // Backpressure: the SDK gets control back (and receives the next batch) only below the pipeline depth.
    while (state.inFlight.size >= BATCHES_IN_FLIGHT) await Promise.race(state.inFlight);
  }

  /** Starts processing now; commits after the partition's previous batch. Settles when finished; never rejects. */
  private startBatch(state: PartitionState, events: ReceivedEventData[], partition: string): Promise<void> {
    // Draining or handing over: events already sent finish, events not yet sent are left for the next owner,
    // and the finished prefix is committed and checkpointed. Closed or lost: everything stops.
    const stop = {
      stopStarting: AbortSignal.any([state.stopStarting.signal, this.draining.signal]),
      abandon: AbortSignal.any([state.closed.signal, this.abandonAll.signal]),
    };
    const processed = this.deps.batches.run(partition, events, stop);
    const previous = state.commitTail;
    const committed = (async () => {
      const previousWhole = await previous;
      const batch = await processed;
      // An earlier batch was left unfinished: its events are replayed, and these with them.
      if (!previousWhole) return false;
      const outcome = await this.commitUntilDurable(batch, stop.abandon);
      if (!outcome) return false; // the partition closed before the batch became durable: nothing to checkpoint
      this.recordOutcome(events, outcome, partition);
      this.tracing.annotateBatch(outcome);
      if (outcome.lastEvent) {
        const { sequenceNumber, offset } = outcome.lastEvent;
        state.checkpointer.recordDurable({ sequenceNumber, offset }, outcome.processed + outcome.deadLettered);
      }
      // Not awaited: the next batch's commit does not wait for a checkpoint write (drain and close flush).
      void state.checkpointer.checkpointIfDue();
      return batch.interrupted === 0;
    })().catch((error: unknown) => {
      this.deps.logger.error({ partitionId: partition, err: errorFields(error) }, "unexpected failure in batch handling");
      return false;
    });
    state.commitTail = committed;
    return committed.then(() => undefined);
  }

  /**
   * Commits until durable, pausing with backoff between tries; undefined if the partition stops first. Each
   * try writes only the parts still not durable; the checkpoint is recorded only once every part is.
   */
  private async commitUntilDurable(batch: ProcessedBatch, stopping: AbortSignal): Promise<BatchOutcome | undefined> {
    const { batches, batchRetry, metrics, logger } = this.deps;
    const partition = batch.partitionId;
    const events = batch.records.length + batch.deadLetters.length;
    try {
      // Backoff grows to the cap and stays there: the partition pauses instead of stalling or losing events.
      return await withRetry(() => batches.commit(batch), batchRetry, {
        attempts: Infinity,
        signal: stopping,
        isRetryable: () => true,
        minDelayMs: batchRetry.baseDelayMs,
        onRetry: (error, attempt, delayMs) => {
          metrics.eventsFailed.inc({ partition, reason: "batch" }, events);
          logger.warn(
            { partitionId: partition, attempt, delayMs, events, err: errorFields(error) },
            "batch could not be made durable (sink or dead-letter store failing); pausing the partition, then retrying the writes that failed",
          );
        },
      });
    } catch {
      return undefined; // retried until it succeeds, so only a stop (RetryAbortedError) ends up here
    }
  }

  private recordOutcome(events: ReceivedEventData[], outcome: BatchOutcome, partition: string): void {
    const { metrics } = this.deps;
    metrics.eventsProcessed.inc({ partition }, outcome.processed);
    if (outcome.deadLettered > 0) metrics.eventsDeadLettered.inc({ partition }, outcome.deadLettered);
    if (outcome.retries > 0) metrics.eventsFailed.inc({ partition, reason: "attempt" }, outcome.retries);
    if (outcome.transientRetries > 0) metrics.eventsFailed.inc({ partition, reason: "transient" }, outcome.transientRetries);
    for (const ms of outcome.processingMs) metrics.processingSeconds.observe(ms / 1000);
    const durableAt = Date.now();
    const lastDurable = outcome.lastEvent?.sequenceNumber ?? -1;
    for (const event of events) {
      if (event.sequenceNumber <= lastDurable) metrics.endToEndSeconds.observe((durableAt - event.enqueuedTimeUtc.getTime()) / 1000);
    }
  }

  private updateLag(state: PartitionState, events: ReceivedEventData[], context: PartitionContext): void {
    const last = events.at(-1);
    if (last) state.lastSequenceNumber = last.sequenceNumber;
    const lastEnqueued = context.lastEnqueuedEventProperties?.sequenceNumber;
    if (lastEnqueued === undefined) return;
    const lag = lastEnqueued - (state.lastSequenceNumber ?? (state.checkpointer.highestCheckpointed() ?? -1));
    this.deps.metrics.partitionLag.set({ partition: context.partitionId }, Math.max(0, lag));
  }

  private reportError(error: Error, context: PartitionContext): void {
    if (error instanceof NotPartitionOwnerError) {
      this.deps.logger.info({ partitionId: context.partitionId }, error.message);
      return;
    }
    const partition = context.partitionId || "none";
    this.deps.metrics.processingErrors.inc({ partition });
    this.deps.logger.warn({ partitionId: context.partitionId || undefined, err: errorFields(error) }, "event hubs subscription error");
  }

  private async close(reason: CloseReason, context: PartitionContext): Promise<void> {
    if (reason === CloseReason.OwnershipLost) this.deps.ownership.lost(context.partitionId);
    const state = this.partitions.get(context.partitionId);
    if (!state) return;
    state.closed.abort();
    this.partitions.delete(context.partitionId);
    this.deps.metrics.partitionLag.remove({ partition: context.partitionId });
    await settled(state.inFlight); // their finished prefix is committed, so the flush below covers it
    // Flush durable progress only if still the owner (a lost partition belongs to someone else now).
    const lost = reason === CloseReason.OwnershipLost || state.fenced || state.released;
    const result = state.released ? "skipped: handed over" : lost ? "skipped: ownership lost" : await state.checkpointer.flush();
    this.deps.logger.info({ partitionId: context.partitionId, reason, checkpoint: result }, "partition stopped");
  }
}

function settled(batches: Set<Promise<void>>): Promise<unknown> {
  return Promise.all([...batches]);
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
