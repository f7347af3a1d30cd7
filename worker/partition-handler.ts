// The subscription's event handlers. processEvents never throws on a processing failure: a throw would stop
// the partition until its ownership expires and then replay it, so every failure is handled here. Poison
// events are dead-lettered by the BatchProcessor; if the sink or dead-letter store stays down, the batch is
// re-run with backoff (the partition pauses, nothing is checkpointed past the failure) until it succeeds or
// the partition closes.
//
// The one deliberate throw is a fence: when this worker no longer owns a partition (another worker's claim
// seen in the ownership listing, or our renewals failing past the expiration interval) but the SDK still
// pumps it, a NotPartitionOwnerError makes the SDK stop that pump. Processing it anyway would duplicate the
// owner's work without ever checkpointing; skipping batches instead could lose events if the same pump is
// later owned again. A stopped pump is restarted from the checkpoint when the partition is claimed again.
import { setTimeout as sleep } from "node:timers/promises";
import {
  CloseReason,
  type PartitionContext,
  type ReceivedEventData,
  type SubscriptionEventHandlers,
} from "@azure/event-hubs";
import type { Logger } from "pino";
import type { BatchOutcome } from "./batch-processor";
import { PartitionCheckpointer, type CheckpointSchedule } from "./checkpoint-policy";
import type { OwnershipTracker } from "./ownership-tracker";
import { backoffDelayMs, type RetryPolicy } from "./retry";
import { errorFields } from "./telemetry/logger";
import type { WorkerMetrics } from "./telemetry/metrics";

export interface BatchRunner {
  process(partitionId: string, events: ReceivedEventData[], signal?: AbortSignal): Promise<BatchOutcome>;
}

export class NotPartitionOwnerError extends Error {
  override readonly name = "NotPartitionOwnerError";
  constructor(readonly partitionId: string) {
    super(`partition ${partitionId} is owned by another worker now: stopping this worker's pump for it`);
  }
}

interface PartitionState {
  readonly checkpointer: PartitionCheckpointer;
  /** Aborted when the partition closes: ends backoff waits and in-flight processing. */
  readonly closed: AbortController;
  inFlight: Promise<void> | undefined;
  lastSequenceNumber: number | undefined;
  /** Stopped by the fence: it closes like a lost partition. */
  fenced: boolean;
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
  logger: Logger;
}

export class PartitionHandler {
  private readonly partitions = new Map<string, PartitionState>();
  /** Set by drain(): new batches are not taken any more. */
  private readonly draining = new AbortController();

  constructor(private readonly deps: PartitionHandlerDeps) {}

  readonly handlers: SubscriptionEventHandlers = {
    processInitialize: (context) => this.initialize(context),
    processEvents: (events, context) => this.processEvents(events, context),
    processError: async (error, context) => this.reportError(error, context),
    processClose: (reason, context) => this.close(reason, context),
  };

  /** Stop taking batches, wait for in-flight ones, and checkpoint what is durable. Never throws. */
  async drain(): Promise<void> {
    this.draining.abort();
    await Promise.all([...this.partitions.values()].map((state) => state.inFlight));
    await Promise.all([...this.partitions.values()].map((state) => state.checkpointer.flush()));
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
        logger,
      }),
      closed: new AbortController(),
      inFlight: undefined,
      lastSequenceNumber: undefined,
      fenced: false,
    };
    this.partitions.set(context.partitionId, state);
    return state;
  }

  private async processEvents(events: ReceivedEventData[], context: PartitionContext): Promise<void> {
    const state = this.stateOf(context);
    if (this.draining.signal.aborted || state.closed.signal.aborted) {
      // Shutting down: leave these events for the next owner; hold the pump until the subscription closes.
      await waitForAbort(state.closed.signal);
      return;
    }
    if (!this.deps.ownership.isOwner(context.partitionId)) {
      state.fenced = true;
      throw new NotPartitionOwnerError(context.partitionId);
    }
    const run = this.runBatch(state, events, context).catch((error: unknown) => {
      this.deps.logger.error({ partitionId: context.partitionId, err: errorFields(error) }, "unexpected failure in batch handling");
    });
    state.inFlight = run;
    try {
      await run;
    } finally {
      if (state.inFlight === run) state.inFlight = undefined;
    }
  }

  private async runBatch(state: PartitionState, events: ReceivedEventData[], context: PartitionContext): Promise<void> {
    const partition = context.partitionId;
    this.updateLag(state, events, context);
    if (events.length > 0) {
      const outcome = await this.processUntilDurable(state, events, partition);
      if (!outcome) return; // the partition closed before the batch became durable: nothing to checkpoint
      this.recordOutcome(events, outcome, partition);
      if (outcome.lastEvent) {
        const { sequenceNumber, offset } = outcome.lastEvent;
        state.checkpointer.recordDurable({ sequenceNumber, offset }, outcome.processed + outcome.deadLettered);
      }
    }
    // Empty batches arrive every MAX_WAIT_MS, so the time-based schedule is honoured on idle partitions too.
    await state.checkpointer.checkpointIfDue();
  }

  private async processUntilDurable(
    state: PartitionState,
    events: ReceivedEventData[],
    partition: string,
  ): Promise<BatchOutcome | undefined> {
    const { batches, batchRetry, metrics, logger } = this.deps;
    // Closing or draining: events already on a thread finish, events still waiting for room or for a retry
    // are left for the next owner, and the finished prefix is checkpointed.
    const stopping = AbortSignal.any([state.closed.signal, this.draining.signal]);
    for (let attempt = 1; !stopping.aborted; attempt++) {
      try {
        return await batches.process(partition, events, stopping);
      } catch (error) {
        if (stopping.aborted) return undefined;
        metrics.eventsFailed.inc({ partition, reason: "batch" }, events.length);
        // Backoff grows to the cap and stays there: the partition pauses instead of stalling or losing events.
        const delayMs = backoffDelayMs(batchRetry, Math.min(attempt, 30), Math.random);
        logger.warn(
          { partitionId: partition, attempt, delayMs, events: events.length, err: errorFields(error) },
          "batch could not be made durable (sink or dead-letter store failing); pausing the partition, then re-running it",
        );
        await sleep(Math.max(delayMs, batchRetry.baseDelayMs), undefined, { signal: stopping }).catch(() => undefined);
      }
    }
    return undefined;
  }

  private recordOutcome(events: ReceivedEventData[], outcome: BatchOutcome, partition: string): void {
    const { metrics } = this.deps;
    metrics.eventsProcessed.inc({ partition }, outcome.processed);
    if (outcome.deadLettered > 0) metrics.eventsDeadLettered.inc({ partition }, outcome.deadLettered);
    if (outcome.retries > 0) metrics.eventsFailed.inc({ partition, reason: "attempt" }, outcome.retries);
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
    const state = this.partitions.get(context.partitionId);
    if (!state) return;
    state.closed.abort();
    this.partitions.delete(context.partitionId);
    this.deps.metrics.partitionLag.remove({ partition: context.partitionId });
    // Flush durable progress only if still the owner (a lost partition belongs to someone else now).
    const lost = reason === CloseReason.OwnershipLost || state.fenced;
    const result = lost ? "skipped: ownership lost" : await state.checkpointer.flush();
    this.deps.logger.info({ partitionId: context.partitionId, reason, checkpoint: result }, "partition stopped");
  }
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
