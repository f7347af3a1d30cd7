// Initial checkpoints against the real emulator + Azurite: written where the worker would start anyway, read back
// by BlobCheckpointStore, never overwriting a checkpoint, and a subscription resuming from them skips nothing.
import {
  EventHubConsumerClient,
  EventHubProducerClient,
  latestEventPosition,
  type ReceivedEventData,
} from "@azure/event-hubs";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sendBatches } from "../../common/send-batches";
import { startLocalStack, type LocalStack } from "../../emulator";
import { EARLIEST_OFFSET, writeInitialCheckpoints } from "../../worker/initial-checkpoints";
import { waitFor } from "../../tools/wait-for";

const GROUP = "ai-workers";
const RETRY = { maxRetries: 2, retryDelayInMs: 100, timeoutInMs: 5000 };
const HUBS = ["earliest", "latest", "existing", "race", "resume"] as const;

let stack: LocalStack;
let container: ContainerClient;
const clients: Array<{ close(): Promise<void> }> = [];

function consumer(hub: string): EventHubConsumerClient {
  const client = new EventHubConsumerClient(GROUP, stack.eventHubConnectionString, hub, { retryOptions: RETRY });
  clients.push(client);
  return client;
}

/** Sends `counts[i]` events to partition i; returns nothing the service does not tell us again later. */
async function send(hub: string, counts: readonly number[]): Promise<void> {
  const producer = new EventHubProducerClient(stack.eventHubConnectionString, hub, { retryOptions: RETRY });
  try {
    for (const [partition, count] of counts.entries()) {
      if (count === 0) continue;
      await sendBatches(producer, Array.from({ length: count }, (_, i) => ({ body: `p${partition}-e${i}` })), { partitionId: String(partition) });
    }
  } finally {
    await producer.close();
  }
}

const checkpointsOf = async (client: EventHubConsumerClient) =>
  new Map(
    (await new BlobCheckpointStore(container).listCheckpoints(client.fullyQualifiedNamespace, client.eventHubName, GROUP)).map((c) => [
      c.partitionId,
      { sequenceNumber: c.sequenceNumber, offset: c.offset },
    ]),
  );

beforeAll(async () => {
  stack = await startLocalStack({
    config: { hubs: HUBS.map((name) => ({ name, partitionCount: 4, consumerGroups: [GROUP] })) },
  });
  container = BlobServiceClient.fromConnectionString(stack.storageConnectionString).getContainerClient(stack.checkpointContainer);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await stack?.stop();
});

describe("writeInitialCheckpoints", () => {
  it("earliest: one checkpoint per partition before its first retained event, readable by BlobCheckpointStore", async () => {
    await send("earliest", [3, 5, 0, 1]);
    const client = consumer("earliest");
    const result = await writeInitialCheckpoints({ client, consumerGroup: GROUP, checkpointContainer: container, startPosition: "earliest" });

    expect(result.untouched).toEqual([]);
    expect(result.written.map((w) => w.partitionId)).toEqual(["0", "1", "2", "3"]);
    const stored = await checkpointsOf(client);
    for (const partitionId of ["0", "1", "2", "3"]) {
      const properties = await client.getPartitionProperties(partitionId);
      const checkpoint = stored.get(partitionId);
      expect(checkpoint?.offset, partitionId).toBe(EARLIEST_OFFSET);
      expect(checkpoint?.sequenceNumber, partitionId).toBe(properties.isEmpty ? properties.lastEnqueuedSequenceNumber : properties.beginningSequenceNumber - 1);
    }
    // KEDA's lag per partition (last enqueued - checkpoint) is exactly what each partition holds, empty ones 0.
    const lag = await Promise.all(
      ["0", "1", "2", "3"].map(async (p) => (await client.getPartitionProperties(p)).lastEnqueuedSequenceNumber - stored.get(p)!.sequenceNumber),
    );
    expect(lag).toEqual([3, 5, 0, 1]);
  });

  it("latest: checkpoints at the last enqueued event, so nothing retained counts as lag", async () => {
    await send("latest", [2, 0, 4, 0]);
    const client = consumer("latest");
    await writeInitialCheckpoints({ client, consumerGroup: GROUP, checkpointContainer: container, startPosition: "latest" });

    const stored = await checkpointsOf(client);
    const p0 = await client.getPartitionProperties("0");
    expect(stored.get("0")).toEqual({ sequenceNumber: 1, offset: p0.lastEnqueuedOffset });
    expect(stored.get("2")?.sequenceNumber).toBe(3);
    expect(stored.get("1")).toEqual({ sequenceNumber: -1, offset: EARLIEST_OFFSET });
  });

  it("leaves a partition that already has a checkpoint untouched", async () => {
    await send("existing", [4, 4, 4, 4]);
    const client = consumer("existing");
    const store = new BlobCheckpointStore(container);
    await store.updateCheckpoint({
      fullyQualifiedNamespace: client.fullyQualifiedNamespace,
      eventHubName: "existing",
      consumerGroup: GROUP,
      partitionId: "2",
      sequenceNumber: 2,
      offset: (await client.getPartitionProperties("2")).lastEnqueuedOffset,
    });
    const before = (await checkpointsOf(client)).get("2");

    const result = await writeInitialCheckpoints({ client, consumerGroup: GROUP, checkpointContainer: container, startPosition: "earliest" });
    expect(result.untouched).toEqual(["2"]);
    expect(result.written.map((w) => w.partitionId)).toEqual(["0", "1", "3"]);
    expect((await checkpointsOf(client)).get("2")).toEqual(before);
  });

  it("with replicas starting together, each partition gets exactly one initial checkpoint", async () => {
    await send("race", [1, 2, 3, 4]);
    const [a, b, c] = [consumer("race"), consumer("race"), consumer("race")];
    const results = await Promise.all(
      [a, b, c].map((client) => writeInitialCheckpoints({ client, consumerGroup: GROUP, checkpointContainer: container, startPosition: "earliest" })),
    );
    const written = results.flatMap((r) => r.written.map((w) => w.partitionId)).sort();
    expect(written).toEqual(["0", "1", "2", "3"]);
    for (const r of results) expect([...r.written.map((w) => w.partitionId), ...r.untouched].sort()).toEqual(["0", "1", "2", "3"]);
    expect((await checkpointsOf(a)).size).toBe(4);
  });

  it("a subscription resuming from the initial checkpoints reads every retained event: none is skipped", async () => {
    const counts = [6, 2, 0, 3];
    await send("resume", counts);
    const client = consumer("resume");
    await writeInitialCheckpoints({ client, consumerGroup: GROUP, checkpointContainer: container, startPosition: "earliest" });

    // The fallback start position is latest: only the checkpoints can make the subscription read history.
    const processor = new EventHubConsumerClient(GROUP, stack.eventHubConnectionString, "resume", new BlobCheckpointStore(container), {
      retryOptions: RETRY,
      loadBalancingOptions: { strategy: "greedy", updateIntervalInMs: 500, partitionOwnershipExpirationIntervalInMs: 5000 },
    });
    clients.push(processor);
    const received: ReceivedEventData[] = [];
    const subscription = processor.subscribe(
      {
        processEvents: async (events) => {
          received.push(...events);
        },
        processError: async () => undefined,
      },
      { startPosition: latestEventPosition, maxBatchSize: 50, maxWaitTimeInSeconds: 0.2 },
    );
    try {
      await waitFor("every retained event", () => received.length >= 11, 20_000, () => `received ${received.length}`);
    } finally {
      await subscription.close();
    }
    const bodies = received.map((e) => String(e.body)).sort();
    const expected = counts.flatMap((count, p) => Array.from({ length: count }, (_, i) => `p${p}-e${i}`)).sort();
    expect(bodies).toEqual(expected);
  });
});
