// When and what to checkpoint for one partition.
// - Only durable progress (BatchOutcome.lastEvent: everything up to it is in the sink or dead-lettered).
// - Every N durable events or T ms since the last checkpoint, whichever comes first.
// - Never backwards: a write at or below the highest sequence number known for the partition (ours, or the
//   store's when ownership was (re)gained, since a previous owner may have advanced it) is skipped.
// - Only while this worker still owns the partition: a stale owner must not overwrite the new owner's progress.
import type { Checkpoint, CheckpointStore } from "@azure/event-hubs";
import type { Logger } from "pino";
import { withRetry, type RetryPolicy } from "./retry";
import { errorFields } from "./telemetry/logger";
import type { WorkerMetrics } from "./telemetry/metrics";
import { NO_TRACING, type PartitionScope, type Tracing } from "./observability";

export interface CheckpointPosition {
  sequenceNumber: number;
  offset: string;
}

export interface CheckpointSchedule {
  everyEvents: number;
  everyMs: number;
}

/** Pure bookkeeping: no I/O, time passed in. */
export class CheckpointPolicy {
  private durable: CheckpointPosition | undefined;
  private highest: CheckpointPosition | undefined;
  private eventsSinceCheckpoint = 0;
  private lastCheckpointAt: number;

  constructor(
    private readonly schedule: CheckpointSchedule,
    now: number,
  ) {
    this.lastCheckpointAt = now;
  }

  /** A checkpoint that exists already (read from the store, or written by us): nothing at or below it is written. */
  observeExisting(position: CheckpointPosition): void {
    if (!this.highest || position.sequenceNumber > this.highest.sequenceNumber) this.highest = position;
  }

  /** `eventCount` more events are durable, up to and including `position`. */
  recordDurable(position: CheckpointPosition, eventCount: number): void {
    if (!this.durable || position.sequenceNumber > this.durable.sequenceNumber) this.durable = position;
    this.eventsSinceCheckpoint += eventCount;
  }

  /** Durable progress beyond every known checkpoint, if any. */
  pending(): CheckpointPosition | undefined {
    if (!this.durable) return undefined;
    if (this.highest && this.durable.sequenceNumber <= this.highest.sequenceNumber) return undefined;
    return this.durable;
  }

  /** Durable progress was recorded, but it is not above a checkpoint someone already wrote. */
  isBehind(): boolean {
    return this.eventsSinceCheckpoint > 0 && this.durable !== undefined && this.pending() === undefined;
  }

  /** N events or T ms since the last checkpoint, with durable progress recorded since. */
  isDue(now: number): boolean {
    if (this.eventsSinceCheckpoint === 0) return false;
    return this.eventsSinceCheckpoint >= this.schedule.everyEvents || now - this.lastCheckpointAt >= this.schedule.everyMs;
  }

  /** A checkpoint was written (position) or deliberately not written (no position): restart the schedule. */
  markCheckpointed(position: CheckpointPosition | undefined, now: number): void {
    if (position) this.observeExisting(position);
    this.eventsSinceCheckpoint = 0;
    this.lastCheckpointAt = now;
  }

  /** The highest sequence number known to be checkpointed (by anyone), or undefined. */
  highestCheckpointed(): number | undefined {
    return this.highest?.sequenceNumber;
  }
}

export type CheckpointResult = "written" | "nothing_pending" | "skipped_backwards" | "skipped_not_owner" | "failed";

/** Applies a CheckpointPolicy to the checkpoint store for one partition. */
export class PartitionCheckpointer {
  private readonly policy: CheckpointPolicy;
  private writing: Promise<CheckpointResult> | undefined;

  constructor(
    private readonly deps: {
      scope: PartitionScope;
      store: Pick<CheckpointStore, "listCheckpoints" | "updateCheckpoint">;
      schedule: CheckpointSchedule;
      retry: RetryPolicy;
      isOwner: () => boolean;
      metrics: WorkerMetrics;
      tracing?: Tracing;
      logger: Logger;
      now?: () => number;
    },
  ) {
    this.policy = new CheckpointPolicy(deps.schedule, this.now());
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Reads the partition's stored checkpoint, so a write never goes below what a previous owner reached. */
  async loadStoredCheckpoint(): Promise<CheckpointPosition | undefined> {
    const { scope, store, retry } = this.deps;
    const all = await withRetry(
      () => store.listCheckpoints(scope.fullyQualifiedNamespace, scope.eventHubName, scope.consumerGroup),
      retry,
    );
    const stored = all.find((checkpoint) => checkpoint.partitionId === scope.partitionId);
    if (!stored) return undefined;
    const position = { sequenceNumber: stored.sequenceNumber, offset: stored.offset };
    this.policy.observeExisting(position);
    return position;
  }

  recordDurable(position: CheckpointPosition, eventCount: number): void {
    this.policy.recordDurable(position, eventCount);
  }

  highestCheckpointed(): number | undefined {
    return this.policy.highestCheckpointed();
  }

  /** Checkpoints if the schedule says so. Never throws. */
  async checkpointIfDue(): Promise<CheckpointResult> {
    if (!this.policy.isDue(this.now())) return "nothing_pending";
    return this.flush();
  }

  /** Checkpoints pending durable progress now (shutdown, partition close). Never throws; writes one at a time. */
  async flush(): Promise<CheckpointResult> {
    while (this.writing) await this.writing;
    this.writing = this.write().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private async write(): Promise<CheckpointResult> {
    const { scope, store, retry, isOwner, metrics, tracing = NO_TRACING, logger } = this.deps;
    const partition = scope.partitionId;
    const position = this.policy.pending();
    if (!position) {
      if (!this.policy.isBehind()) return "nothing_pending";
      this.policy.markCheckpointed(undefined, this.now());
      metrics.checkpoints.inc({ partition, result: "skipped_backwards" });
      logger.info({ partitionId: partition, checkpointed: this.policy.highestCheckpointed() }, "stored checkpoint is ahead: not moving it backwards");
      return "skipped_backwards";
    }
    if (!isOwner()) {
      metrics.checkpoints.inc({ partition, result: "skipped_not_owner" });
      logger.info({ partitionId: partition, sequenceNumber: position.sequenceNumber }, "not the owner any more: checkpoint skipped");
      return "skipped_not_owner";
    }
    const checkpoint: Checkpoint = { ...scope, sequenceNumber: position.sequenceNumber, offset: position.offset };
    const started = this.now();
    try {
      await tracing.traceCheckpoint(scope, position.sequenceNumber, () =>
        withRetry(() => store.updateCheckpoint(checkpoint), retry, {
          onRetry: (error, attempt, delayMs) =>
            logger.warn({ partitionId: partition, attempt, delayMs, err: errorFields(error) }, "checkpoint write failed; retrying"),
        }),
      );
    } catch (error) {
      metrics.checkpoints.inc({ partition, result: "failed" });
      logger.error({ partitionId: partition, err: errorFields(error) }, "checkpoint write failed; will try again later");
      return "failed";
    }
    metrics.checkpointSeconds.observe((this.now() - started) / 1000);
    metrics.checkpoints.inc({ partition, result: "written" });
    this.policy.markCheckpointed(position, this.now());
    logger.debug({ partitionId: partition, sequenceNumber: position.sequenceNumber }, "checkpoint written");
    return "written";
  }
}
