import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type EventData, EventHubConsumerClient, EventHubProducerClient, earliestEventPosition, type ReceivedEventData, type Subscription } from "@azure/event-hubs";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import { ContainerClient } from "@azure/storage-blob";
import { afterAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../emulator/index";
import { waitFor } from "../../tools/wait-for";

const retryOptions = { maxRetries: 2, retryDelayInMs: 100, timeoutInMs: 5000 };
const loadBalancingOptions = { strategy: "greedy" as const, updateIntervalInMs: 500, partitionOwnershipExpirationIntervalInMs: 5000 };
const PARTITIONS = ["0", "1", "2", "3"];

const dataDir = mkdtempSync(path.join(os.tmpdir(), "eh-stack-"));
const stacks: LocalStack[] = [];
afterAll(async () => {
  await Promise.all(stacks.map((s) => s.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function send(stack: LocalStack, from: number, to: number): Promise<void> {
  const producer = new EventHubProducerClient(stack.eventHubConnectionString, stack.eventHubName, { retryOptions });
  try {
    for (const partitionId of PARTITIONS) {
      const events: EventData[] = [];
      for (let n = from; n < to; n++) events.push({ body: { partitionId, n } });
      await producer.sendBatch(events, { partitionId });
    }
  } finally {
    await producer.close();
  }
}

interface Seen {
  partitionId: string;
  n: number;
  sequenceNumber: number;
  offset: string;
  enqueuedTimeUtc: number;
}

/** Subscribes with the stack's BlobCheckpointStore; checkpoints each partition's event `checkpointAt`. */
function consume(stack: LocalStack, checkpointAt?: number) {
  const store = new BlobCheckpointStore(new ContainerClient(stack.storageConnectionString, stack.checkpointContainer));
  const client = new EventHubConsumerClient(stack.consumerGroup, stack.eventHubConnectionString, stack.eventHubName, store, { retryOptions, loadBalancingOptions });
  const seen: Seen[] = [];
  const errors: Error[] = [];
  let checkpoints = 0;
  const subscription: Subscription = client.subscribe(
    {
      processEvents: async (events: ReceivedEventData[], context) => {
        for (const event of events) {
          const body = event.body as { partitionId: string; n: number };
          seen.push({ partitionId: context.partitionId, n: body.n, sequenceNumber: event.sequenceNumber, offset: event.offset, enqueuedTimeUtc: event.enqueuedTimeUtc.getTime() });
          if (body.n === checkpointAt) {
            await context.updateCheckpoint(event);
            checkpoints++;
          }
        }
      },
      processError: async (error) => {
        errors.push(error);
      },
    },
    { startPosition: earliestEventPosition, maxBatchSize: 50, maxWaitTimeInSeconds: 1 },
  );
  return {
    seen,
    errors,
    checkpoints: () => checkpoints,
    close: async () => {
      await subscription.close();
      await client.close();
    },
  };
}

describe("local stack restart with a data directory", () => {
  it("resumes from a BlobCheckpointStore checkpoint after a full restart: nothing lost, nothing replayed before it", async () => {
    const first = await startLocalStack({ dataDir });
    stacks.push(first);
    await send(first, 0, 20);
    const before = consume(first, 9);
    await waitFor("80 events and 4 checkpoints before the restart", () => before.seen.length >= 80 && before.checkpoints() === 4, 20_000);
    await before.close();
    const properties = await (async () => {
      const producer = new EventHubProducerClient(first.eventHubConnectionString, first.eventHubName, { retryOptions });
      try {
        return await Promise.all(PARTITIONS.map((id) => producer.getPartitionProperties(id)));
      } finally {
        await producer.close();
      }
    })();
    await first.stop();

    const second = await startLocalStack({ dataDir });
    stacks.push(second);
    await send(second, 20, 25);
    const after = consume(second);
    await waitFor("60 events after the restart", () => after.seen.length >= 60, 20_000);
    // A later event on every partition: once it is seen, any replay or duplicate before it has arrived too.
    await send(second, 25, 26);
    await waitFor("the later event on every partition", () => PARTITIONS.every((p) => after.seen.some((s) => s.partitionId === p && s.n === 25)), 20_000);
    await after.close();

    expect(before.errors).toEqual([]);
    expect(after.errors).toEqual([]);
    for (const partitionId of PARTITIONS) {
      const ns = after.seen.filter((s) => s.partitionId === partitionId && s.n !== 25).map((s) => s.n);
      expect(ns, `partition ${partitionId}`).toEqual(Array.from({ length: 15 }, (_, i) => 10 + i));
      // Events stored before the restart come back with the same sequence numbers, offsets and times.
      for (const replayed of after.seen.filter((s) => s.partitionId === partitionId && s.n < 20)) {
        const original = before.seen.find((s) => s.partitionId === partitionId && s.n === replayed.n);
        expect(replayed).toEqual(original);
      }
      const continued = after.seen.find((s) => s.partitionId === partitionId && s.n === 20)!;
      const previousLast = properties[Number(partitionId)]!;
      expect(continued.sequenceNumber).toBe(previousLast.lastEnqueuedSequenceNumber + 1);
      expect(Number(continued.offset)).toBeGreaterThan(Number(previousLast.lastEnqueuedOffset));
    }
    // Offsets are byte positions, not sequence numbers.
    expect(after.seen.some((s) => Number(s.offset) !== s.sequenceNumber)).toBe(true);
  });
});
