// Event and blob fixtures for worker end-to-end tests: send to exact partitions, read checkpoint and
// ownership blobs (through the same reader `npm run dev` uses), list dead letters.
import { EventHubProducerClient } from "@azure/event-hubs";
import { BlobServiceClient } from "@azure/storage-blob";
import { sendBatches } from "../../common/send-batches";
import { readCheckpoints as checkpointsIn, readOwnership as ownershipIn } from "../../tools/dev/blob-state";
import { key } from "./worker-process";

export interface SentEvent {
  partitionId: string;
  sequenceNumber: number;
  poison: boolean;
}

/** Emulator config with one 4-partition hub per name, each with the workers' consumer group. */
export const fourPartitionHubs = (...names: string[]) => ({
  hubs: names.map((name) => ({ name, partitionCount: 4, consumerGroups: ["ai-workers"] })),
});

/**
 * Sends `perPartition` JSON text events to every partition (poison ones, declared JSON but cut off, where
 * `isPoison(i)`), and returns what the service assigned, from the partitions' sequence numbers.
 */
export async function sendToEveryPartition(
  connectionString: string,
  eventHubName: string,
  perPartition: number,
  isPoison: (index: number) => boolean = () => false,
): Promise<SentEvent[]> {
  const producer = new EventHubProducerClient(connectionString, eventHubName, {
    retryOptions: { maxRetries: 2, retryDelayInMs: 100, timeoutInMs: 5000 },
  });
  try {
    const sent: SentEvent[] = [];
    for (const partitionId of await producer.getPartitionIds()) {
      const before = await producer.getPartitionProperties(partitionId);
      const first = before.isEmpty ? 0 : before.lastEnqueuedSequenceNumber + 1;
      const events = Array.from({ length: perPartition }, (_, i) => {
        const json = JSON.stringify({ text: `Message ${i} for partition ${partitionId}: my order arrived late, please call me.` });
        return { body: Buffer.from(isPoison(i) ? json.slice(0, 10) : json), contentType: "application/json", messageId: `p${partitionId}-${i}` };
      });
      await sendBatches(producer, events, { partitionId });
      sent.push(...events.map((_, i) => ({ partitionId, sequenceNumber: first + i, poison: isPoison(i) })));
    }
    return sent;
  } finally {
    await producer.close();
  }
}

export const keysOf = (events: Array<{ partitionId: string; sequenceNumber: number }>) =>
  new Set(events.map((e) => key(e.partitionId, e.sequenceNumber)));

const containerOf = (storageConnectionString: string, container: string) =>
  BlobServiceClient.fromConnectionString(storageConnectionString).getContainerClient(container);

/** partition -> checkpointed sequence number (consumer group ai-workers). */
export function readCheckpoints(storageConnectionString: string, container: string, eventHubName: string): Promise<Map<string, number>> {
  return checkpointsIn(containerOf(storageConnectionString, container), eventHubName, "ai-workers");
}

/** partition -> ownerid ("" once released) (consumer group ai-workers). */
export function readOwnership(storageConnectionString: string, container: string, eventHubName: string): Promise<Map<string, string>> {
  return ownershipIn(containerOf(storageConnectionString, container), eventHubName, "ai-workers");
}

/** Dead-letter blob names under `<hub>/`, with their parsed JSON. */
export async function readDeadLetters(storageConnectionString: string, container: string, eventHubName: string): Promise<Map<string, Record<string, unknown>>> {
  const containerClient = BlobServiceClient.fromConnectionString(storageConnectionString).getContainerClient(container);
  const letters = new Map<string, Record<string, unknown>>();
  for await (const blob of containerClient.listBlobsFlat({ prefix: `${eventHubName}/` })) {
    const buffer = await containerClient.getBlobClient(blob.name).downloadToBuffer();
    letters.set(blob.name, JSON.parse(buffer.toString("utf8")) as Record<string, unknown>);
  }
  return letters;
}
