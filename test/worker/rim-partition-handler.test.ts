import { CloseReason, type Checkpoint, type CheckpointStore, type PartitionContext, type ReceivedEventData } from "@azure/event-hubs";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { BatchOutcome } from "../../worker/batch-processor";
import { OwnershipTracker } from "../../worker/ownership-tracker";
import { NotPartitionOwnerError, PartitionHandler, type BatchRunner } from "../../worker/partition-handler";
import { WorkerMetrics } from "../../worker/telemetry/metrics";

const retry = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 };

function event(sequenceNumber: number): ReceivedEventData {
  return {
    body: { text: `event ${sequenceNumber}` },
    sequenceNumber,
    offset: String(sequenceNumber * 10),
    enqueuedTimeUtc: new Date(),
    partitionKey: null,
    properties: {},
    systemProperties: {},
    getRawAmqpMessage: () => ({ body: undefined, bodyType: "data" }),
  };
}

function context(partitionId: string): PartitionContext {
  return {
    fullyQualifiedNamespace: "ns",
    eventHubName: "events",
    consumerGroup: "ai-workers",
    partitionId,
    lastEnqueuedEventProperties: { sequenceNumber: 99 },
    updateCheckpoint: async () => {
      throw new Error("the handler checkpoints through the policy, never through the context");
    },
  };
}

/** Every claim succeeds; checkpoints kept in memory. */
function memoryStore(): CheckpointStore & { writes: Checkpoint[] } {
  const writes: Checkpoint[] = [];
  return {
    writes,
    listOwnership: async () => [],
    claimOwnership: async (requests) => requests,
    listCheckpoints: async () => writes.slice(-1),
    updateCheckpoint: async (checkpoint) => {
      writes.push(checkpoint);
    },
  };
}

/** Fails the first `failures` calls (a sink that is down), then makes every event durable. */
function flakyRunner(failures: number): BatchRunner & { calls: number } {
  const runner = {
    calls: 0,
    async process(_partitionId: string, events: ReceivedEventData[]): Promise<BatchOutcome> {
      runner.calls++;
      if (runner.calls <= failures) throw new Error("sink unavailable");
      return { processed: events.length, deadLettered: 0, retries: 0, processingMs: events.map(() => 1), lastEvent: events.at(-1) };
    },
  };
  return runner;
}

async function setUp(runner: BatchRunner, everyEvents = 1) {
  const store = memoryStore();
  const ownership = new OwnershipTracker(store, 60_000);
  const handler = new PartitionHandler({
    batches: runner,
    ownership,
    schedule: { everyEvents, everyMs: 60_000 },
    storageRetry: retry,
    batchRetry: retry,
    metrics: new WorkerMetrics(),
    logger: pino({ level: "silent" }),
  });
  const ctx = context("0");
  await ownership.claimOwnership([{ fullyQualifiedNamespace: "ns", eventHubName: "events", consumerGroup: "ai-workers", partitionId: "0", ownerId: "me" }]);
  await handler.handlers.processInitialize?.(ctx);
  return { store, handler, ctx, ownership };
}

describe("PartitionHandler", () => {
  it("pauses and re-runs a batch while the sink is down, then checkpoints; processEvents never throws", async () => {
    const runner = flakyRunner(3);
    const { store, handler, ctx } = await setUp(runner);
    await expect(handler.handlers.processEvents([event(0), event(1), event(2)], ctx)).resolves.toBeUndefined();
    expect(runner.calls).toBe(4);
    expect(store.writes.map((c) => c.sequenceNumber)).toEqual([2]);
  });

  it("checkpoints nothing of a batch that never became durable, and drain ends the retries", async () => {
    const runner = flakyRunner(Number.POSITIVE_INFINITY);
    const { store, handler, ctx } = await setUp(runner);
    const processing = handler.handlers.processEvents([event(0)], ctx);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runner.calls).toBeGreaterThan(1);
    await handler.drain();
    await expect(processing).resolves.toBeUndefined();
    expect(store.writes).toEqual([]);
  });

  it("flushes pending progress on a clean close but not after ownership was lost", async () => {
    const first = await setUp(flakyRunner(0), 1000);
    await first.handler.handlers.processEvents([event(0), event(1)], first.ctx);
    expect(first.store.writes).toEqual([]); // not due yet
    await first.handler.handlers.processClose?.(CloseReason.Shutdown, first.ctx);
    expect(first.store.writes.map((c) => c.sequenceNumber)).toEqual([1]);

    const second = await setUp(flakyRunner(0), 1000);
    await second.handler.handlers.processEvents([event(0), event(1)], second.ctx);
    await second.handler.handlers.processClose?.(CloseReason.OwnershipLost, second.ctx);
    expect(second.store.writes).toEqual([]);
  });

  it("stops taking batches once draining: new batches are left for the next owner", async () => {
    const runner = flakyRunner(0);
    const { store, handler, ctx } = await setUp(runner);
    await handler.drain();
    const late = handler.handlers.processEvents([event(5)], ctx);
    await handler.handlers.processClose?.(CloseReason.Shutdown, ctx);
    await expect(late).resolves.toBeUndefined();
    expect(runner.calls).toBe(0);
    expect(store.writes).toEqual([]);
  });

  it("fences a partition another worker owns now: the SDK is told to stop the pump, nothing is processed or checkpointed", async () => {
    const runner = flakyRunner(0);
    const { store, handler, ctx, ownership } = await setUp(runner, 1000);
    await handler.handlers.processEvents([event(0)], ctx);
    // The next ownership listing (the SDK's load-balancing loop) shows another owner.
    store.listOwnership = async () => [
      { fullyQualifiedNamespace: "ns", eventHubName: "events", consumerGroup: "ai-workers", partitionId: "0", ownerId: "other" },
    ];
    await ownership.listOwnership("ns", "events", "ai-workers");
    expect(ownership.isOwner("0")).toBe(false);
    await expect(handler.handlers.processEvents([event(1)], ctx)).rejects.toBeInstanceOf(NotPartitionOwnerError);
    expect(runner.calls).toBe(1);
    await handler.handlers.processClose?.(CloseReason.Shutdown, ctx);
    expect(store.writes).toEqual([]); // progress of event 0 was pending, but the partition is someone else's
  });
});
