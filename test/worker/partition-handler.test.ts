import { setTimeout as sleep } from "node:timers/promises";
import { CloseReason, type Checkpoint, type CheckpointStore, type PartitionContext, type ReceivedEventData } from "@azure/event-hubs";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import type { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startAzurite, type RunningAzurite } from "../../emulator/azurite";
import { BatchPipeline, type BatchOutcome, type ProcessedBatch } from "../../worker/batch-pipeline";
import { deadLetterBlobName, type DeadLetterRecord } from "../../common/dead-letter-record";
import { BlobDeadLetterStore } from "../../worker/dead-letter";
import { OwnershipTracker } from "../../worker/ownership-tracker";
import { NotPartitionOwnerError, PartitionHandler, type BatchRunner } from "../../worker/partition-handler";
import { PoisonEventError, ThrottledError } from "../../worker/failures";
import type { EventInput, Processor } from "../../worker/processing/processor";
import { BlobSink } from "../../worker/sinks/blob-sink";
import type { ResultRecord, Sink } from "../../worker/sinks/sink";
import { createBlobService } from "../../worker/storage-clients";
import { WorkerMetrics } from "../../worker/telemetry/metrics";

const retry = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 };

/**
 * Lets every promise reaction that is already possible run (a few event-loop turns, no timers): what has not
 * happened after this cannot happen without a further event, however loaded the machine is.
 */
async function settleReactions(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}

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

/** Its commits fail the first `failures` times (a sink that is down), then make every event durable. */
function flakyRunner(failures: number): BatchRunner & { runs: number; commits: number } {
  const runner = {
    runs: 0,
    commits: 0,
    async run(partitionId: string, events: ReceivedEventData[]): Promise<ProcessedBatch> {
      runner.runs++;
      return { partitionId, records: [], deadLetters: [], retries: 0, transientRetries: 0, processingMs: events.map(() => 1), lastEvent: events.at(-1), interrupted: 0 };
    },
    async commit(batch: ProcessedBatch): Promise<BatchOutcome> {
      runner.commits++;
      if (runner.commits <= failures) throw new Error("sink unavailable");
      const events = batch.processingMs.length;
      return { processed: events, deadLettered: 0, retries: 0, transientRetries: 0, processingMs: batch.processingMs, ...(batch.lastEvent ? { lastEvent: batch.lastEvent } : {}) };
    },
  };
  return runner;
}

async function setUp(runner: BatchRunner, everyEvents = 1) {
  const store = memoryStore();
  return { store, ...(await ownedHandler(runner, store, everyEvents)) };
}

/** A handler that owns partition 0 and has initialised it, checkpointing into `store`. */
async function ownedHandler(runner: BatchRunner, store: CheckpointStore, everyEvents: number) {
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
  return { handler, ctx, ownership };
}

describe("PartitionHandler", () => {
  it("pauses and retries a batch's writes while the sink is down, then checkpoints; processEvents never throws", async () => {
    const runner = flakyRunner(3);
    const { store, handler, ctx } = await setUp(runner);
    await expect(handler.handlers.processEvents([event(0), event(1), event(2)], ctx)).resolves.toBeUndefined();
    await vi.waitFor(() => expect(store.writes.map((c) => c.sequenceNumber)).toEqual([2]), { timeout: 10_000 });
    expect(runner.runs).toBe(1); // processed once; only the writes were retried
    expect(runner.commits).toBe(4);
  });

  it("checkpoints nothing of a batch that never became durable, and drain's deadline ends the retries", async () => {
    const runner = flakyRunner(Number.POSITIVE_INFINITY);
    const { store, handler, ctx } = await setUp(runner);
    const processing = handler.handlers.processEvents([event(0)], ctx);
    await vi.waitFor(() => expect(runner.commits).toBeGreaterThan(1), { timeout: 10_000 });
    await handler.drain(100);
    await expect(processing).resolves.toBeUndefined();
    expect(store.writes).toEqual([]);
  });

  it("pipelines batches: returns while the batch is processed, commits in order, and waits at the pipeline depth", async () => {
    const releases: Array<() => void> = [];
    const committed: number[] = [];
    const runner: BatchRunner = {
      run: (partitionId, events) =>
        new Promise<ProcessedBatch>((resolve) => {
          releases.push(() => resolve({ partitionId, records: [], deadLetters: [], retries: 0, transientRetries: 0, processingMs: [], lastEvent: events.at(-1), interrupted: 0 }));
        }),
      commit: async (batch) => {
        committed.push(batch.lastEvent?.sequenceNumber ?? -1);
        return { processed: 1, deadLettered: 0, retries: 0, transientRetries: 0, processingMs: [], ...(batch.lastEvent ? { lastEvent: batch.lastEvent } : {}) };
      },
    };
    const { store, handler, ctx } = await setUp(runner);
    await handler.handlers.processEvents([event(0)], ctx); // returns at once: one batch in flight
    let secondReturned = false;
    const second = handler.handlers.processEvents([event(1)], ctx).then(() => (secondReturned = true));
    await vi.waitFor(() => expect(releases).toHaveLength(2)); // both are processing at once
    await settleReactions();
    expect(secondReturned).toBe(false); // two in flight: the SDK waits
    releases[1]!(); // the later batch finishes first ...
    await settleReactions();
    expect(committed).toEqual([]); // ... but is not committed before the earlier one
    releases[0]!();
    await second;
    await vi.waitFor(() => expect(committed).toEqual([0, 1]));
    await vi.waitFor(() => expect(store.writes.map((c) => c.sequenceNumber)).toEqual([0, 1]));
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

  it("drain's deadline abandons events still waiting to retry and checkpoints the finished prefix", async () => {
    // Event 0 succeeds; event 1 is throttled with a 60 s Retry-After. Draining waits for that retry only until its deadline.
    const attempts = new Map<number, number>();
    const batches = new BatchPipeline({
      processor: {
        name: "throttled-after-first",
        async process(input: EventInput) {
          attempts.set(input.sequenceNumber, (attempts.get(input.sequenceNumber) ?? 0) + 1);
          if (input.sequenceNumber === 1) throw new ThrottledError("429", 60_000);
          return { ok: input.sequenceNumber };
        },
        async close() {},
      },
      sink: { write: async () => undefined, close: async () => undefined },
      deadLetters: { put: async () => undefined },
      retry: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 },
      eventHubName: "events",
      consumerGroup: "ai-workers",
    });
    const { store, handler, ctx } = await setUp(batches, 1000);
    const processing = handler.handlers.processEvents([event(0), event(1), event(2)], ctx);
    await vi.waitFor(() => expect(attempts.get(1)).toBe(1), { timeout: 10_000 });

    const giveUp = new AbortController();
    const stillWaiting = sleep(10_000, "still waiting", { signal: giveUp.signal }).catch(() => "cancelled");
    const drained = await Promise.race([handler.drain(200).then(() => "drained"), stillWaiting]);
    giveUp.abort();
    expect(drained).toBe("drained");
    await expect(processing).resolves.toBeUndefined();
    expect(attempts.get(1)).toBe(1); // the retry never ran
    expect(store.writes.map((c) => c.sequenceNumber)).toEqual([0]); // not past the unfinished event 1
  });

  it("stops taking batches once draining: new batches are left for the next owner", async () => {
    const runner = flakyRunner(0);
    const { store, handler, ctx } = await setUp(runner);
    await handler.drain();
    const late = handler.handlers.processEvents([event(5)], ctx);
    await handler.handlers.processClose?.(CloseReason.Shutdown, ctx);
    await expect(late).resolves.toBeUndefined();
    expect(runner.runs).toBe(0);
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
    expect(runner.runs).toBe(1);
    await handler.handlers.processClose?.(CloseReason.Shutdown, ctx);
    expect(store.writes).toEqual([]); // progress of event 0 was pending, but the partition is someone else's
  });
});

/** Odd sequence numbers are poison (dead-lettered at once); even ones get a result. */
const poisonOdd: Processor = {
  name: "poison-odd",
  async process(input: EventInput) {
    if (input.sequenceNumber % 2 === 1) throw new PoisonEventError(`event ${input.sequenceNumber} is poison`);
    return { seq: input.sequenceNumber };
  },
  async close() {},
};

const noCredential = () => {
  throw new Error("a connection string needs no credential");
};

/** Sequence numbers of every result line in the container, blob by blob, in the order they were appended. */
async function resultsIn(container: ContainerClient): Promise<number[]> {
  const sequences: number[] = [];
  for await (const blob of container.listBlobsFlat()) {
    const text = (await container.getBlobClient(blob.name).downloadToBuffer()).toString("utf8");
    for (const line of text.split("\n").filter(Boolean)) sequences.push((JSON.parse(line) as ResultRecord).sequenceNumber);
  }
  return sequences;
}

/**
 * The worker's write path on real Azurite: the real BatchPipeline, BlobSink, BlobDeadLetterStore and
 * BlobCheckpointStore, each through the worker's storage client. The sink and the dead-letter store are
 * only observed (attempts and successes counted), never made to fail: outages are real Azurite stops.
 */
async function realWritePath(places: { checkpoints: BlobServiceClient; results: BlobServiceClient; deadLetters: BlobServiceClient }, name: string) {
  const checkpointContainer = places.checkpoints.getContainerClient(`checkpoints-${name}`);
  const resultsContainer = places.results.getContainerClient(`results-${name}`);
  const deadLetterContainer = places.deadLetters.getContainerClient(`dead-letters-${name}`);
  for (const container of [checkpointContainer, resultsContainer, deadLetterContainer]) await container.createIfNotExists();
  const blobSink = new BlobSink(resultsContainer, "");
  const letterStore = new BlobDeadLetterStore(deadLetterContainer, { eventHubName: "events", consumerGroup: "ai-workers" });
  const seen = { sinkAttempts: 0, letterAttempts: 0, lettersStored: [] as number[] };
  const sink: Sink = {
    write: async (records) => {
      seen.sinkAttempts++;
      await blobSink.write(records);
    },
    close: () => blobSink.close(),
  };
  const deadLetters = {
    put: async (record: DeadLetterRecord) => {
      seen.letterAttempts++;
      await letterStore.put(record);
      seen.lettersStored.push(record.sequenceNumber);
    },
  };
  const store = new BlobCheckpointStore(checkpointContainer);
  const batches = new BatchPipeline({ processor: poisonOdd, sink, deadLetters, retry, eventHubName: "events", consumerGroup: "ai-workers" });
  const { handler, ctx } = await ownedHandler(batches, store, 1);
  const checkpointed = async () => (await store.listCheckpoints("ns", "events", "ai-workers")).map((c) => c.sequenceNumber);
  const stop = async () => {
    await handler.drain();
    await handler.handlers.processClose?.(CloseReason.Shutdown, ctx);
  };
  return { handler, ctx, seen, checkpointed, stop, resultsContainer, deadLetterContainer };
}

/** Stops Azurite (an outage) and later starts it again on the same port, empty, as a restarted account. */
async function outage(azurite: RunningAzurite): Promise<{ recover(): Promise<RunningAzurite> }> {
  await azurite.stop();
  return { recover: () => startAzurite({ port: azurite.port }) };
}

describe("PartitionHandler on real storage: a retried commit redoes only the part that failed", () => {
  let azurite: RunningAzurite;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  it("dead-letter store down, then back: each result is appended once, each dead letter stored once, the checkpoint only after both", async () => {
    let letters = await startAzurite();
    const stable = createBlobService({ connectionString: azurite.connectionString }, noCredential);
    const path = await realWritePath(
      { checkpoints: stable, results: stable, deadLetters: createBlobService({ connectionString: letters.connectionString }, noCredential) },
      "letters-down",
    );
    try {
      const down = await outage(letters);
      await path.handler.handlers.processEvents([event(0), event(1), event(2), event(3)], path.ctx);
      // A commit tries each part retry.maxAttempts times: two whole commits of both dead letters have failed.
      await vi.waitFor(() => expect(path.seen.letterAttempts).toBeGreaterThanOrEqual(2 * 2 * retry.maxAttempts + 1), { timeout: 20_000 });
      expect(await resultsIn(path.resultsContainer)).toEqual([0, 2]); // not appended again by the later rounds
      expect(path.seen.lettersStored).toEqual([]);
      expect(await path.checkpointed()).toEqual([]); // the results are durable, the dead letters are not

      letters = await down.recover();
      await vi.waitFor(async () => expect(await path.checkpointed()).toEqual([3]), { timeout: 30_000 });
      expect([...path.seen.lettersStored].sort()).toEqual([1, 3]);
      for (const sequenceNumber of [1, 3]) {
        const name = deadLetterBlobName({ eventHubName: "events", consumerGroup: "ai-workers" }, "0", sequenceNumber);
        expect(await path.deadLetterContainer.getBlobClient(name).exists()).toBe(true);
      }
      expect(await resultsIn(path.resultsContainer)).toEqual([0, 2]);
    } finally {
      await path.stop();
      await letters.stop();
    }
  });

  it("sink down, then back: each dead letter is stored once (not rewritten), the results appended once, the checkpoint only after both", async () => {
    let results = await startAzurite();
    const stable = createBlobService({ connectionString: azurite.connectionString }, noCredential);
    const path = await realWritePath(
      { checkpoints: stable, results: createBlobService({ connectionString: results.connectionString }, noCredential), deadLetters: stable },
      "sink-down",
    );
    try {
      const down = await outage(results);
      await path.handler.handlers.processEvents([event(0), event(1)], path.ctx);
      // A commit tries each part retry.maxAttempts times: two whole commits of the results have failed.
      await vi.waitFor(() => expect(path.seen.sinkAttempts).toBeGreaterThanOrEqual(2 * retry.maxAttempts + 1), { timeout: 20_000 });
      expect(path.seen.lettersStored).toEqual([1]);
      const letter = path.deadLetterContainer.getBlobClient(deadLetterBlobName({ eventHubName: "events", consumerGroup: "ai-workers" }, "0", 1));
      const firstWrite = (await letter.getProperties()).etag;
      expect(await path.checkpointed()).toEqual([]); // the dead letter is durable, the result is not

      results = await down.recover();
      await vi.waitFor(async () => expect(await path.checkpointed()).toEqual([1]), { timeout: 30_000 });
      expect(await resultsIn(path.resultsContainer)).toEqual([0]);
      expect(path.seen.lettersStored).toEqual([1]);
      expect((await letter.getProperties()).etag).toBe(firstWrite); // never written again
    } finally {
      await path.stop();
      await results.stop();
    }
  });
});
